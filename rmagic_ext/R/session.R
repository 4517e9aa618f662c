# R side of rmagic_ext's session: evaluate one top-level expression the way R's
# console does, and report the outcome as plain data so Python never has to
# recover from a longjmp. Sourced once into a private environment.

# The call our own evaluation wrapper shows in sys.calls(); frames with this
# call are ours, not the user's, and are dropped from tracebacks and warnings.
.user_eval_call <- quote(eval(expr, envir))

.is_own_call <- function(call) identical(call, .user_eval_call)

# Deparse a call to one line the way traceback() shows it, with "at file#line"
# when R kept a source reference for it.
format_call <- function(call) {
  text <- deparse(call, nlines = 2L, width.cutoff = 80L)
  line <- if (length(text) > 1L) paste0(text[1L], " ...") else text
  srcref <- attr(call, "srcref")
  if (!is.null(srcref)) {
    file <- attr(srcref, "srcfile")
    name <- if (is.environment(file)) file$filename else ""
    line <- paste0(line, " at ", name, "#", srcref[1L])
  }
  line
}

# R's condition machinery, which sits between the user's innermost frame and
# our handler (a warning turned into an error passes through .signalSimpleWarning).
is_plumbing <- function(fun, handler) {
  identical(fun, handler) || identical(fun, base::.handleSimpleError) ||
    identical(fun, base::.signalSimpleWarning)
}

# The user's frames at the moment a condition handler runs: after our
# withVisible(eval(expr, envir)) and before R's own handler plumbing.
user_frames <- function(first_frame, handler) {
  calls <- sys.calls()
  n <- length(calls)
  start <- first_frame
  while (start <= n && !identical(sys.function(start), base::withVisible)) start <- start + 1L
  start <- start + 1L
  while (start <= n && .is_own_call(calls[[start]])) start <- start + 1L
  end <- start
  while (end <= n && !is_plumbing(sys.function(end), handler)) end <- end + 1L
  if (end <= start) return(character())
  vapply(calls[start:(end - 1L)], format_call, "")
}

condition_call <- function(cond) {
  call <- conditionCall(cond)
  if (is.null(call) || .is_own_call(call)) "" else paste(deparse(call, nlines = 1L), collapse = "")
}

# Print deferred warnings the way R's console does after a top-level call,
# on stderr.
print_warnings <- function(collected) {
  if (!length(collected)) return(invisible())
  calls <- lapply(collected, function(w) {
    call <- conditionCall(w)
    if (.is_own_call(call)) NULL else call
  })
  msgs <- vapply(collected, conditionMessage, "")
  last <- structure(stats::setNames(calls, msgs), class = "warnings")
  if (length(collected) > 10L) {
    text <- sprintf("There were %d warnings (use warnings() to see them)", length(collected))
  } else {
    text <- utils::capture.output(print(last))
  }
  cat(text, sep = "\n", file = stderr())
}

# Follow options(warn): < 0 ignore, 0 defer to the end of the expression,
# 1 print at once, >= 2 let R turn the warning into an error.
on_warning <- function(w, defer) {
  level <- getOption("warn", 0L)
  if (level >= 2L) return(invisible())
  if (level == 1L) {
    call <- condition_call(w)
    prefix <- if (nzchar(call)) paste0("Warning in ", call, " :\n  ") else "Warning: "
    cat(prefix, conditionMessage(w), "\n", sep = "", file = stderr())
  } else if (level == 0L) {
    defer(w)
  }
  invokeRestart("muffleWarning")
}

# Evaluate the index-th expression of exprs in envir. Returns a list with
# status "ok" (value, visible), "error" (message, call, classes, trace) or
# "interrupt". Deferred warnings come back in `warnings`, for print_warnings
# once the value has been shown, as R's console does.
# (Callers from Python pass the whole expression vector: a call object passed
# as an argument would be evaluated when its promise is forced.)
eval_toplevel <- function(exprs, index, envir) {
  expr <- exprs[[index]]
  first_frame <- sys.nframe()
  collected <- list()
  trace <- character()
  on_error <- function(e) trace <<- user_frames(first_frame, sys.function())
  outcome <- tryCatch(
    withCallingHandlers(
      {
        result <- withVisible(eval(expr, envir))
        list(status = "ok", value = result$value, visible = result$visible)
      },
      warning = function(w) on_warning(w, function(w) collected[[length(collected) + 1L]] <<- w),
      error = on_error
    ),
    error = function(e) list(status = "error", message = conditionMessage(e),
                             call = condition_call(e), classes = class(e),
                             trace = trace),
    interrupt = function(i) list(status = "interrupt")
  )
  outcome$warnings <- collected
  outcome
}

# Bind a value where C's defineVar would raise R's error or run R code: a
# locked or active binding, a locked global environment. Reports like
# eval_toplevel, so R's own message arrives as an RError.
assign_global <- function(name, boxed) {
  bind <- expression(tryCatch(assign(name, boxed[[1L]], envir = globalenv()),
                              error = function(e) stop(conditionMessage(e), call. = FALSE)))
  eval_toplevel(bind, 1L, environment())
}

# Print a visible value as the console does: show() for S4, print() otherwise.
# Evaluated in a frame whose parent is the global environment, so that S3
# print methods and S4 show methods defined by the user are dispatched to.
.print_value <- expression(if (base::isS4(value)) methods::show(value) else base::print(value))

# Parse a cell; on failure report line, column and R's message as data.
parse_cell <- function(text, name) {
  lines <- strsplit(text, "\n", fixed = TRUE)[[1L]]
  srcfile <- srcfilecopy(name, lines)
  tryCatch(
    list(status = "ok", exprs = parse(text = text, keep.source = TRUE, srcfile = srcfile)),
    error = function(e) {
      msg <- conditionMessage(e)
      m <- regmatches(msg, regexec("^.*?:([0-9]+):([0-9]+): ([^\n]*)", msg))[[1L]]
      if (length(m)) {
        list(status = "error", line = as.integer(m[2L]), column = as.integer(m[3L]),
             message = m[4L], detail = msg)
      } else {
        list(status = "error", line = NA_integer_, column = NA_integer_,
             message = msg, detail = msg)
      }
    })
}

# Auto-print a visible value under the same protection as user code: a print
# method that fails reports an error with its own call stack.
# The value comes boxed in a list so that a call or symbol is not evaluated.
show_toplevel <- function(boxed) {
  frame <- new.env(parent = globalenv())
  frame$value <- boxed[[1L]]
  outcome <- eval_toplevel(.print_value, 1L, frame)
  print_warnings(outcome$warnings)
  outcome
}

# Find an object by name from the global environment along the search path,
# forcing promises (lazy-loaded datasets); NULL status when there is none.
lookup <- function(name) {
  if (!exists(name, envir = globalenv())) return(list(found = FALSE))
  list(found = TRUE, value = get(name, envir = globalenv()))
}

# ---- RObject proxies (rmagic_ext/convert/robject.py) -------------------------
# Every helper takes the proxied object boxed in a list: a symbol or call passed
# bare from Python would be evaluated when its promise is forced.

# What the console would print for an object, as lines; character() when its
# print method fails, so that Python's repr never raises. Warnings and messages
# are dropped: a repr has no side effects. print() is called from a frame under
# the global environment, as at the console, so S3 print methods defined there
# are found.
format_object <- function(boxed) {
  envir <- new.env(parent = globalenv())
  assign("x", boxed[[1L]], envir = envir)
  show_x <- quote(if (isS4(x)) methods::show(x) else print(x))
  tryCatch(
    withCallingHandlers(
      utils::capture.output(eval(show_x, envir)),
      warning = function(w) invokeRestart("muffleWarning"),
      message = function(m) invokeRestart("muffleMessage")),
    error = function(e) character())
}

# The environment behind an object with reference semantics (plain
# environments, R6 objects, Reference Class objects), or NULL.
object_env <- function(x) {
  if (is.environment(x)) as.environment(x) else NULL
}

# The names a proxy offers: slots of S4 objects, the bindings of environments
# (and the methods of Reference Class objects), names() of anything else.
# Completion must not fail, so a names() method that errors lists nothing.
member_names <- function(boxed) {
  x <- boxed[[1L]]
  env <- object_env(x)
  tryCatch({
    slots <- if (isS4(x) && is.null(env)) methods::slotNames(x) else character()
    listed <- if (!is.null(env)) ls(env) else names(x)
    methods <- if (methods::is(x, "envRefClass")) x$getRefClass()$methods() else character()
    unique(c(slots, as.character(listed), methods))
  }, error = function(e) character())
}

# One member of an object: an S4 slot, a binding of an environment (not its
# parents, as `$` does), an element of a named list (exact match, as `[[`
# does), or failing those whatever the object's own `$` method gives
# (Reference Class objects and generators). Reports status "missing" instead
# of failing, so Python can raise AttributeError or KeyError; errors while
# reading (an active binding that fails, say) come back as eval_toplevel errors.
get_member <- function(boxed, name) {
  x <- boxed[[1L]]
  env <- object_env(x)
  if (isS4(x) && is.null(env) && name %in% methods::slotNames(x)) {
    return(read_member(quote(methods::slot(x, name)), environment()))
  }
  if (!is.null(env) && exists(name, envir = env, inherits = FALSE)) {
    return(read_member(quote(get(name, envir = env, inherits = FALSE)), environment()))
  }
  if (is.null(env) && name %in% names(x)) {
    return(read_member(quote(x[[name, exact = TRUE]]), environment()))
  }
  if (has_dollar_method(x)) return(read_dollar(x, name))
  list(status = "missing")
}

# Whether a class of x defines its own `$` (S4 method or S3 method).
has_dollar_method <- function(x) {
  if (isS4(x)) return(methods::hasMethod("$", class(x)))
  dollar <- function(cls) !is.null(utils::getS3method("$", cls, optional = TRUE))
  any(vapply(as.character(attr(x, "class")), dollar, NA))
}

# x$name through the object's own method; its error means "no such member".
# Evaluated where user code would be (under the global environment): methods
# such as refObjectGenerator's evaluate in their caller's frame and need the
# search path, which this helper environment (under base) does not see.
read_dollar <- function(x, name) {
  envir <- new.env(parent = globalenv())
  assign("x", x, envir = envir)
  tryCatch(list(status = "ok", value = eval(call("$", quote(x), as.name(name)), envir)),
           error = function(e) list(status = "missing", reason = conditionMessage(e)))
}

read_member <- function(expr, envir) eval_toplevel(list(expr), 1L, envir)

# Assign into an object with reference semantics; a locked environment or
# binding (R6 objects lock theirs) is an R error reported as data, and an
# object with value semantics (a list, an S4 object) reports "not_reference":
# changing a copy of it would silently change nothing the user can see.
set_member <- function(boxed, name, value) {
  env <- object_env(boxed[[1L]])
  if (is.null(env)) return(list(status = "not_reference"))
  value <- value[[1L]]
  eval_toplevel(list(quote(assign(name, value, envir = env))), 1L, environment())
}

# Call a function with already-converted arguments (a list; names for named
# arguments). The function is bound to `label` so R's error messages read
# "Error in label(...)" rather than deparsing its whole body, and language
# arguments are quoted so they arrive as values instead of being evaluated.
call_function <- function(fun, args, label) {
  language <- vapply(args, is.language, NA)
  args[language] <- lapply(args[language], enquote)
  envir <- new.env(parent = globalenv())
  assign(label, fun, envir = envir)
  call <- as.call(c(list(as.name(label)), args))
  eval_toplevel(list(call), 1L, envir)
}

# q() and quit() would end the whole kernel process (and everything in the
# notebook): replace them, in base's namespace and package environment, with
# a function that refuses with a classed error.
refuse_quit <- function() {
  refusal <- function(...) {
    stop(structure(class = c("rmagic_ext_quit", "error", "condition"), list(
      message = "quit() would end the Python kernel and everything in it; restart the kernel from the notebook instead",
      call = sys.call())))
  }
  for (name in c("q", "quit")) {
    for (env in list(baseenv(), .BaseNamespaceEnv)) {
      locked <- bindingIsLocked(name, env)
      if (locked) unlockBinding(name, env)
      assign(name, refusal, envir = env)
      if (locked) lockBinding(name, env)
    }
  }
  invisible()
}

# Strings in bulk (see convert/_bulk.py): one buffer each way instead of one
# call per element. "\x1f" separates the strings; the Python side checks that
# the data does not contain it.
# A new vector of `type` and length `n` in a list, or R's error message when
# R cannot allocate it. Python takes the vector out of the list, so that
# only its eventual binding counts as a reference.
alloc_vector <- function(type, n) {
  tryCatch(list(vector(type, n)), error = function(e) conditionMessage(e))
}

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

# rm() of one global, reporting whether there was one.
remove_global <- function(name) {
  if (!exists(name, envir = globalenv(), inherits = FALSE)) return(FALSE)
  rm(list = name, envir = globalenv())
  TRUE
}

# A data.frame, tibble or matrix as plain data for an HTML table: its size,
# column types, and the formatted cells of its first and last rows and columns.
# NULL for anything else.
table_preview <- function(boxed, max_rows, max_cols) {
  x <- boxed[[1L]]
  if (!(is.data.frame(x) || (is.matrix(x) && length(dim(x)) == 2L))) return(NULL)
  n <- NROW(x)
  p <- NCOL(x)
  rows <- .edges(n, max_rows)
  cols <- .edges(p, max_cols)
  sub <- x[rows, cols, drop = FALSE]
  cells <- if (is.data.frame(sub)) as.matrix(format(as.data.frame(sub))) else format(sub)
  if (!length(cells)) cells <- matrix(character(), length(rows), length(cols))
  types <- if (is.data.frame(x)) vapply(x[cols], .type_label, "") else rep(.type_label(x[0L]), length(cols))
  row_names <- if (is.null(rownames(sub))) as.character(rows) else rownames(sub)
  list(kind = if (inherits(x, "tbl_df")) "A tibble" else if (is.data.frame(x)) "A data.frame" else "A matrix",
       nrow = n, ncol = p, names = as.character(colnames(sub)), types = unname(types),
       cells = unname(cells), row_names = as.character(row_names),
       row_gap = .gap(n, max_rows), col_gap = .gap(p, max_cols))
}

# Positions shown of n when at most `limit` fit: the head and the tail.
.edges <- function(n, limit) {
  if (n <= limit) return(seq_len(n))
  c(seq_len(ceiling(limit / 2)), seq.int(n - floor(limit / 2) + 1L, n))
}

# After which shown position the ellipsis goes (0: none).
.gap <- function(n, limit) if (n <= limit) 0L else as.integer(ceiling(limit / 2))

.type_label <- function(column) {
  cls <- class(column)[1L]
  switch(cls, integer = "int", numeric = "dbl", character = "chr", logical = "lgl",
         factor = "fct", ordered = "ord", Date = "date", POSIXct = "dttm", complex = "cpl",
         difftime = "drtn", list = "list", cls)
}

# R's own print of a value as text (for text/plain beside an HTML table),
# at most `max_rows` rows of it.
print_text <- function(boxed, max_rows) {
  x <- boxed[[1L]]
  n <- NROW(x)
  shown <- if (n > max_rows) x[seq_len(max_rows), , drop = FALSE] else x
  text <- utils::capture.output(print(shown))
  if (n > max_rows) text <- c(text, sprintf("# ... with %d more rows", n - max_rows))
  paste(text, collapse = "\n")
}

# R's completions for the code left of the cursor (utils' own engine, the
# one R's console uses): the token being completed and its candidates.
complete_line <- function(line) {
  utils:::.assignLinebuffer(line)
  utils:::.assignEnd(nchar(line))
  token <- utils:::.guessTokenFromLine()
  utils:::.completeToken()
  list(token = token, completions = utils:::.retrieveCompletions())
}
