# Loaded by rmagic_ext/inspection.py: what Shift-Tab shows for an R name.

# A name's (or a literal's) usage and the start of its help page, as text;
# NULL when R knows no such name. Functions: their arguments, then the
# help's first lines; other objects and literals: class and str().
inspect_name <- function(name, lines) {
  value <- tryCatch(eval(str2lang(name), globalenv()), error = function(e) NULL)
  if (is.null(value) && !.is_topic(name)) return(NULL)
  usage <- if (is.function(value)) .usage(name, value) else .describe(value)
  help <- .help_start(name, lines)
  paste(c(usage, if (length(usage) && length(help)) "", help), collapse = "\n")
}

# A value's class and what it holds (str()), as IRkernel shows a literal.
.describe <- function(value) {
  c(sprintf("class: %s", paste(class(value), collapse = ", ")),
    if (is.null(value)) "NULL" else utils::capture.output(utils::str(value)))
}

.is_topic <- function(name) length(utils::help(sub("^.*::", "", name), try.all.packages = FALSE)) > 0L

.usage <- function(name, fun) {
  shown <- utils::capture.output(print(args(fun)))
  shown <- shown[seq_len(max(0L, length(shown) - 1L))]  # args() ends with NULL
  if (!length(shown)) return(sprintf("%s (a primitive)", name))
  shown[1L] <- sub("^function ", name, shown[1L])
  shown
}

.help_start <- function(name, lines) {
  parts <- strsplit(name, ":::?")[[1L]]
  topic <- parts[length(parts)]
  package <- if (length(parts) > 1L) parts[1L] else NULL
  found <- tryCatch(as.character(utils::help(topic, package = (package), try.all.packages = FALSE)),
                    error = function(e) character())
  if (!length(found)) return(NULL)
  file <- found[[1L]]
  rd <- utils:::.getHelpFile(file)
  text <- utils::capture.output(tools::Rd2txt(rd, package = basename(dirname(dirname(file))),
                                              outputEncoding = "UTF-8",
                                              options = list(underline_titles = FALSE)))
  text <- gsub(".\b", "", text)
  if (length(text) > lines) c(text[seq_len(lines)], "...") else text
}
