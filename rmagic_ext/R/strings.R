# Loaded by rmagic_ext/convert/_bulk.py: whole vectors at once. Strings go
# in one buffer each way instead of one call per element, and each distinct
# string is made or read once: R's global string cache gives equal strings
# one CHARSXP, so a column of 1M values and 50k distinct ones is 50k strings
# and 1M pointers. Into R, "\x1f" separates the strings (the Python side
# checks that the data does not contain it); out of R, writeBin ends each
# one with NUL, which no R string contains.

# A new vector of `type` and length `n`, in a list: Python takes it out, so
# that only its eventual binding counts as a reference. R's "cannot allocate"
# is an R error here, not a longjmp through Python.
alloc_vector <- function(type, n) list(vector(type, n))

# The strings of a column, from buffers (a list of single strings) holding
# counts[i] separated values each; na lists the positions that are NA. With
# codes, those are the distinct values and element i is the codes[i]-th
# (NA_integer_: NA): one pointer copy per element.
split_strings <- function(joined, counts, na, codes) {
  split_one <- function(text, n) {
    x <- strsplit(text, "\x1f", fixed = TRUE)[[1L]]
    if (length(x) < n) c(x, character(n - length(x))) else x  # trailing empty strings
  }
  x <- if (length(joined) == 1L) split_one(joined[[1L]], counts)
       else unlist(Map(split_one, joined, counts), use.names = FALSE)
  if (length(na)) x[na] <- NA_character_
  if (is.null(codes)) x else x[codes]
}

marked_as_bytes <- function(x) any(Encoding(x) == "bytes")

utf8_locale <- function() l10n_info()[["UTF-8"]]

# The strings x[first] (all of x when first is NULL) as UTF-8 bytes, each
# ending in NUL, in raw vectors of at most `per_piece` strings each (one raw
# vector holds at most 2^31 - 1 bytes). writeBin writes strings in the
# native encoding, which is UTF-8 (Python checks the locale): latin1-marked
# strings come out translated, the others as they are. Python checks the
# bytes for ASCII; when some are not, it asks utf8_text() whether they are
# text.
utf8_bytes <- function(x, first, per_piece) {
  if (!is.null(first)) x <- x[first]
  n <- length(x)
  if (n <= per_piece) return(list(writeBin(x, raw())))
  starts <- seq(1, n, by = per_piece)
  lapply(starts, function(i) writeBin(x[i:min(n, i + per_piece - 1)], raw()))
}

# Whether those bytes are UTF-8 text: not if some strings are marked as
# bytes, or are native (or marked UTF-8) but not valid UTF-8. The
# element-by-element path then names the problem.
utf8_text <- function(x, first) {
  if (!is.null(first)) x <- x[first]
  encoding <- Encoding(x)
  !any(encoding == "bytes") && all(validUTF8(x[encoding != "latin1"]))
}

# Where R's string pointers cannot be read from Python (ALTREP vectors, an R
# without STRING_PTR_RO): the distinct strings by R's own hashing (which is
# on those pointers too), each element's code, and which one is NA.
distinct_strings <- function(x) {
  distinct <- unique(x)
  list(distinct = distinct, codes = match(x, distinct), na = which(is.na(distinct)))
}
