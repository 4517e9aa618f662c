# Loaded by rmagic_ext/completion.py: R's own completion engine, with what it
# inserts made valid R (as IRkernel makes it).

# R's completions for the code left of the cursor (utils' own engine, the
# one R's console uses): the token being completed and its candidates, each
# one R can read as typed: non-syntactic names in backticks after `$`, `@`,
# `::` and `:::` and as names of their own (replacement functions such as
# `names<-`), arguments as `name = `, names of a list or environment inside
# `[[` as strings, file names without doubled slashes.
complete_line <- function(line) {
  in_brackets <- .bracket_names(line)
  if (!is.null(in_brackets)) return(in_brackets)
  in_backticks <- .backticked_member(line)
  if (!is.null(in_backticks)) return(in_backticks)
  utils:::.assignLinebuffer(line)
  utils:::.assignEnd(nchar(line))
  token <- utils:::.guessTokenFromLine()
  utils:::.completeToken()
  found <- utils:::.retrieveCompletions()
  if (.in_string(substr(line, 1L, nchar(line) - nchar(token)))) {  # file names
    return(list(token = token, completions = gsub("/{2,}", "/", found)))
  }
  found[found == "...="] <- "..."  # a call's dots, as IRkernel offers them
  list(token = token, completions = vapply(found, .valid_completion, "", USE.NAMES = FALSE))
}

# Whether code ends inside a string literal (an odd count of unescaped quotes
# of the kind that opened it).
.in_string <- function(code) {
  chars <- strsplit(code, "")[[1L]]
  open <- ""
  escaped <- FALSE
  for (ch in chars) {
    if (escaped) {
      escaped <- FALSE
      next
    }
    if (ch == "\\" && nzchar(open)) {
      escaped <- TRUE
      next
    }
    if (!nzchar(open) && ch %in% c("\"", "'")) open <- ch else if (ch == open) open <- ""
  }
  nzchar(open)
}

.RESERVED <- c("if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
               "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in")

.is_syntactic <- function(name) {
  name %in% c("...", "..1", "..2") || grepl("^\\.\\.[0-9]+$", name) ||
    (identical(make.names(name), name) && !name %in% .RESERVED)
}

.backticked <- function(name) {
  if (.is_syntactic(name)) return(name)
  paste0("`", gsub("`", "\\\\`", gsub("\\\\", "\\\\\\\\", name)), "`")
}

# One candidate as R must read it.
.valid_completion <- function(candidate) {
  if (grepl("^[^$@:]+=$", candidate)) return(paste0(.backticked(sub("=$", "", candidate)), " = "))
  parts <- regmatches(candidate, regexec("^(.*?)(:::|::|\\$|@)([^$@]*)$", candidate))[[1L]]
  if (length(parts) == 4L && nzchar(parts[2L])) {
    return(if (nzchar(parts[4L])) paste0(parts[2L], parts[3L], .backticked(parts[4L])) else candidate)
  }
  if (candidate %in% .RESERVED) return(candidate)  # keywords complete as keywords
  .backticked(candidate)
}

# `x$\`Sep` (a member name begun with a backtick): the names of `x` that
# start so, each in backticks.
.backticked_member <- function(line) {
  match <- regmatches(line, regexec("([.A-Za-z][.A-Za-z0-9_]*)([$@])`([^`]*)$", line))[[1L]]
  if (length(match) != 4L) return(NULL)
  object <- get0(match[2L], envir = globalenv())
  if (is.null(object)) return(NULL)
  names <- if (match[3L] == "@") {
    methods::slotNames(object)
  } else if (is.environment(object)) {
    ls(object, all.names = TRUE)
  } else {
    names(object)
  }
  names <- names[nzchar(names) & startsWith(names, match[4L])]
  quoted <- paste0("`", gsub("`", "\\\\`", gsub("\\\\", "\\\\\\\\", names)), "`")
  list(token = paste0(match[2L], match[3L], "`", match[4L]), completions = paste0(match[2L], match[3L], quoted))
}

# `x[[` and `x[["na`: the names of the list or environment `x` (a name in
# the global environment or on the search path) as strings.
.bracket_names <- function(line) {
  match <- regmatches(line, regexec("([.A-Za-z][.A-Za-z0-9_]*)\\[\\[([\"']?)([^\"']*)$", line))[[1L]]
  if (length(match) != 4L) return(NULL)
  object <- get0(match[2L], envir = globalenv())
  if (is.null(object)) return(NULL)
  names <- if (is.environment(object)) ls(object, all.names = TRUE) else names(object)
  if (is.null(names)) return(NULL)
  names <- names[nzchar(names) & startsWith(names, match[4L])]
  quote <- if (nzchar(match[3L])) match[3L] else "\""
  list(token = paste0(match[3L], match[4L]),
       completions = paste0(quote, gsub(quote, paste0("\\", quote), names, fixed = TRUE), quote))
}
