# Loaded by rmagic_ext/session.py. What running a cell needs: evaluate one
# top-level expression the way R's console does, and report every outcome as
# plain data (one status shape) so Python never has to recover from a longjmp.
# The other R files are sourced into environments under this one.

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

# Text for Python: UTF-8, with bytes that are not (R may cut a message in the
# middle of a character) shown as <xx> instead of failing Python's decoding.
as_text <- function(x) {
  x <- enc2utf8(as.character(x))
  bad <- !is.na(x) & !validUTF8(x)
  x[bad] <- iconv(x[bad], "UTF-8", "UTF-8", sub = "byte")
  x
}

condition_call <- function(cond) {
  call <- conditionCall(cond)
  if (is.null(call) || .is_own_call(call)) "" else as_text(paste(deparse(call, nlines = 1L), collapse = ""))
}

# Print deferred warnings the way R's console does after a top-level call,
# on stderr.
print_warnings <- function(collected) {
  if (!length(collected)) return(invisible())
  if (identical(getOption("rmagic_ext.warnings"), "irkernel")) {
    for (w in collected) cat(.irkernel_warning(condition_call(w), conditionMessage(w)), "\n", sep = "", file = stderr())
    return(invisible())
  }
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

# A warning as IRkernel shows it (RMagics.warnings = "irkernel").
.irkernel_warning <- function(call, message) {
  paste0(if (nzchar(call)) paste0("Warning message in ", call, ":") else "Warning message:",
         "\n\u201c", message, "\u201d")
}

# Follow options(warn): < 0 ignore, 0 defer to the end of the expression,
# 1 print at once, >= 2 let R turn the warning into an error.
on_warning <- function(w, defer) {
  level <- getOption("warn", 0L)
  if (level >= 2L) return(invisible())
  if (level == 1L && identical(getOption("rmagic_ext.warnings"), "irkernel")) {
    cat(.irkernel_warning(condition_call(w), conditionMessage(w)), "\n", sep = "", file = stderr())
  } else if (level == 1L) {
    call <- condition_call(w)
    message <- conditionMessage(w)
    # R's own layout: on one line when it fits (R's LONGWARN, 75 columns)
    prefix <- if (!nzchar(call)) "Warning: " else if (18L + nchar(call, "width") + nchar(message, "width") <= 75L) {
      paste0("Warning in ", call, " : ")
    } else {
      paste0("Warning in ", call, " :\n  ")
    }
    cat(prefix, message, "\n", sep = "", file = stderr())
  } else if (level == 0L) {
    defer(w)
  }
  invokeRestart("muffleWarning")
}

# The one way Python calls R helpers (Session.call): fun(args...) under the
# same protection as user code, answering eval_toplevel's status shape, with
# the helper's result as `value`. Helpers that run user code and report a
# status of their own (marked by reports_status) answer for themselves.
call_helper <- function(fun, args) {
  if (isTRUE(attr(fun, "reports_status"))) return(do.call(fun, args, quote = TRUE))
  outcome <- eval_toplevel(expression(do.call(fun, args, quote = TRUE)), 1L, environment(), user = FALSE)
  outcome$trace <- character()  # the frames are rmagic_ext's own, not the user's
  outcome
}

reports_status <- function(fun) structure(fun, reports_status = TRUE)

# Evaluate the index-th expression of exprs in envir (user code unless
# `user` is FALSE: then options(error = ) is not run). Returns a list with
# status "ok" (value, visible), "error" (message, call, classes, trace) or
# "interrupt". Deferred warnings come back in `warnings`, for print_warnings
# once the value has been shown, as R's console does.
# (Callers from Python pass the whole expression vector: a call object passed
# as an argument would be evaluated when its promise is forced.)
eval_toplevel <- reports_status(function(exprs, index, envir, user = TRUE) {
  expr <- exprs[[index]]
  first_frame <- sys.nframe()
  collected <- list()
  trace <- character()
  on_error <- function(e) {
    trace <<- user_frames(first_frame, sys.function())
    if (user) error_option(first_frame, sys.function())
  }
  outcome <- withRestarts(tryCatch(
    withCallingHandlers(
      {
        result <- withVisible(eval(expr, envir))
        list(status = "ok", value = result$value, visible = result$visible)
      },
      warning = function(w) on_warning(w, function(w) collected[[length(collected) + 1L]] <<- w),
      error = on_error
    ),
    error = function(e) {
      list(status = "error", message = as_text(conditionMessage(e)), call = condition_call(e), classes = class(e),
           trace = trace)
    },
    interrupt = function(i) list(status = "interrupt")
  ), abort = function() {  # R's "back to the top level", as invokeRestart("abort") asks
    list(status = "error", message = "the R code invoked the \"abort\" restart: the cell stopped there",
         call = "", classes = c("rmagic_ext_abort", "error", "condition"), trace = trace)
  })
  outcome$warnings <- collected
  outcome
})

# What R's console does with an uncaught error before it unwinds:
# options(error = ) run with the erring frames still on the stack, so that
# recover() lets the user browse them and dump.frames() saves them. Once:
# an error typed at the debugger's prompt meanwhile does not start another.
# recover() itself is replaced by recover_user_frames(), which lists the
# user's frames only (not the evaluation machinery around a cell).
.error_option_running <- new.env()
error_option <- function(first_frame, handler_fun) {
  handler <- getOption("error")
  if (is.null(handler) || isTRUE(.error_option_running$now)) return(invisible())
  .error_option_running$now <- TRUE
  on.exit(.error_option_running$now <- FALSE)
  if (is_recover(handler)) return(recover_user_frames(first_frame, handler_fun))
  if (is.function(handler)) handler() else eval(handler, globalenv())
}

# options(error = recover) stores the call recover(), with the function itself
# or its name in it.
is_recover <- function(handler) {
  if (is.function(handler)) return(identical(handler, utils::recover))
  if (!is.call(handler) || length(handler) != 1L) return(FALSE)
  head <- handler[[1L]]
  identical(head, utils::recover) || identical(head, quote(recover)) || identical(head, quote(utils::recover))
}

# recover() over the user's frames: a menu of them, R's browser in the one
# chosen, the menu again when it continues, until 0.
recover_user_frames <- function(first_frame, handler_fun) {
  calls <- sys.calls()
  start <- first_frame
  while (start <= length(calls) && !identical(sys.function(start), base::withVisible)) start <- start + 1L
  start <- start + 1L
  while (start <= length(calls) && .is_own_call(calls[[start]])) start <- start + 1L
  end <- start
  while (end <= length(calls) && !is_plumbing(sys.function(end), handler_fun)) end <- end + 1L
  frames <- seq.int(start, length.out = max(0L, end - start))
  if (!length(frames)) return(invisible())
  labels <- vapply(calls[frames], function(call) paste(deparse(call, nlines = 1L), collapse = ""), "")
  if (!interactive()) {  # nobody can answer the menu: what R's recover() does then
    message("recover called non-interactively; frames dumped, use debugger() to view")
    assign("last.dump", structure(sys.frames()[frames], names = labels, class = "dump.frames"), envir = globalenv())
    return(invisible())
  }
  here <- sys.nframe()
  previous <- options(error = NULL)  # an error typed at the browser's prompt: back to the prompt
  on.exit(options(previous))
  repeat {
    which <- utils::menu(labels, title = "\nEnter a frame number, or 0 to exit  ")
    if (!which) break
    frame <- frames[which]  # "Called from:" names it: the browser skips the calls in between
    eval(substitute(browser(skipCalls = skip), list(skip = here + 2L - frame)), envir = sys.frame(frame))
  }
  invisible()
}

# Bind a value where C's defineVar would raise R's error or run R code: a
# locked or active binding, a locked global environment. Reports like
# eval_toplevel, so R's own message arrives as an RError.
assign_global <- function(name, value) {
  tryCatch(assign(name, value, envir = globalenv()),
           error = function(e) stop(conditionMessage(e), call. = FALSE))
  invisible()
}

# Print a visible value as the console does: show() for S4, print() otherwise.
# Evaluated in a frame whose parent is the global environment, so that S3
# print methods and S4 show methods defined by the user are dispatched to.
.print_value <- expression(if (base::isS4(value)) methods::show(value) else base::print(value))

# Parse a cell: status "ok" with the expressions as value; on failure status
# "parse_error" with line, column and R's message as data.
parse_cell <- reports_status(function(text, name) {
  lines <- strsplit(text, "\n", fixed = TRUE)[[1L]]
  srcfile <- srcfilecopy(name, lines)
  tryCatch(
    list(status = "ok", value = parse(text = text, keep.source = TRUE, srcfile = srcfile), warnings = list()),
    error = function(e) {
      msg <- as_text(conditionMessage(e))
      m <- regmatches(msg, regexec("^.*?:([0-9]+):([0-9]+): ([^\n]*)", msg))[[1L]]
      where <- if (length(m)) as.integer(m[2:3]) else c(NA_integer_, NA_integer_)
      list(status = "parse_error", line = where[1L], column = where[2L],
           message = if (length(m)) m[4L] else msg, detail = msg, warnings = list())
    })
})

# Parse a cell and evaluate its first expression: one call from Python for
# the common cell of one expression. The expressions come back as `exprs`
# (none when the cell is empty) for the others.
run_first <- reports_status(function(text, name, envir) {
  parsed <- parse_cell(text, name)
  if (parsed$status != "ok") return(parsed)
  if (!length(parsed$value)) return(list(status = "ok", warnings = list()))
  outcome <- eval_toplevel(parsed$value, 1L, envir)
  outcome$exprs <- parsed$value
  outcome
})

# Auto-print a visible value under the same protection as user code: a print
# method that fails reports an error with its own call stack.
show_toplevel <- reports_status(function(value) {
  frame <- new.env(parent = globalenv())
  frame$value <- value
  eval_toplevel(.print_value, 1L, frame)
})

# Find an object by name from the global environment along the search path,
# forcing promises (lazy-loaded datasets); NULL status when there is none.
lookup <- function(name) {
  if (!exists(name, envir = globalenv())) return(list(found = FALSE))
  list(found = TRUE, value = get(name, envir = globalenv()))
}

r_tempdir <- function() tempdir()

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

# The environment attached to R's search path as "rmagic_ext" (attached on
# first use): what the extension offers R code (py, View), found before
# base and utils' own.
tools_env <- function() {
  if (!"rmagic_ext" %in% search()) {
    base::attach(NULL, pos = 2L, name = "rmagic_ext", warn.conflicts = FALSE)
  }
  as.environment("rmagic_ext")
}
