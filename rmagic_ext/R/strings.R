# Loaded by rmagic_ext/convert/_bulk.py: whole vectors at once. Strings go
# in one buffer each way instead of one call per element; "\x1f" separates
# them (the Python side checks that the data does not contain it).

# A new vector of `type` and length `n`, in a list: Python takes it out, so
# that only its eventual binding counts as a reference. R's "cannot allocate"
# is an R error here, not a longjmp through Python.
alloc_vector <- function(type, n) list(vector(type, n))

# The strings of a column, from buffers (a list of single strings) holding
# counts[i] separated values each; na lists the positions that are NA.
split_strings <- function(joined, counts, na) {
  split_one <- function(text, n) {
    x <- strsplit(text, "\x1f", fixed = TRUE)[[1L]]
    if (length(x) < n) c(x, character(n - length(x))) else x  # trailing empty strings
  }
  x <- if (length(joined) == 1L) split_one(joined[[1L]], counts)
       else unlist(Map(split_one, joined, counts), use.names = FALSE)
  if (length(na)) x[na] <- NA_character_
  x
}

marked_as_bytes <- function(x) any(Encoding(x) == "bytes")

join_strings <- function(x) {
  distinct <- unique(x)
  # Bytes that are not text in any known encoding: let the element-by-element
  # path report them (enc2utf8 would turn them into "<e9>" escapes).
  native <- Encoding(distinct) == "unknown"
  if (any(Encoding(distinct) == "bytes") ||
      (l10n_info()[["UTF-8"]] && !all(validUTF8(distinct[native])))) return(NULL)
  text <- enc2utf8(distinct)
  na <- which(is.na(text))
  text[na] <- ""
  if (!all(validUTF8(text)) || any(grepl("\x1f", text, fixed = TRUE, useBytes = TRUE))) return(NULL)
  list(joined = paste(text, collapse = "\x1f"), n_distinct = length(distinct),
       codes = match(x, distinct), na = na)
}

