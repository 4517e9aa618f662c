# Loaded by rmagic_ext/convert/robject.py: the R side of RObject proxies
# (printing, members, calls). Python calls these through Session.call, which
# passes a symbol or call as a value, never evaluating it.

# What the console would print for an object, as lines; character() when its
# print method fails, so that Python's repr never raises. Warnings and messages
# are dropped: a repr has no side effects. print() is called from a frame under
# the global environment, as at the console, so S3 print methods defined there
# are found.
format_object <- function(x) {
  envir <- new.env(parent = globalenv())
  assign("x", x, envir = envir)
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
member_names <- function(x) {
  env <- object_env(x)
  tryCatch({
    slots <- if (isS4(x) && is.null(env)) methods::slotNames(x) else character()
    listed <- if (!is.null(env)) ls(env) else names(x)
    methods <- if (methods::is(x, "envRefClass")) x$getRefClass()$methods() else character()
    as_text(unique(c(slots, as.character(listed), methods)))
  }, error = function(e) character())
}

# One member of an object: an S4 slot, a binding of an environment (not its
# parents, as `$` does), an element of a named list (exact match, as `[[`
# does), or failing those whatever the object's own `$` method gives
# (Reference Class objects and generators). list(found = TRUE, value = ...),
# or found = FALSE with the reason, so Python can raise AttributeError or
# KeyError; errors while reading (an active binding that fails) are R errors.
get_member <- function(x, name) {
  env <- object_env(x)
  found <- function(value) list(found = TRUE, value = value)
  if (isS4(x) && is.null(env) && name %in% methods::slotNames(x)) return(found(methods::slot(x, name)))
  if (!is.null(env) && exists(name, envir = env, inherits = FALSE)) {
    return(found(get(name, envir = env, inherits = FALSE)))
  }
  if (is.null(env) && name %in% names(x)) return(found(x[[name, exact = TRUE]]))
  if (has_dollar_method(x)) return(read_dollar(x, name))
  list(found = FALSE)
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
  tryCatch(list(found = TRUE, value = eval(call("$", quote(x), as.name(name)), envir)),
           error = function(e) list(found = FALSE, reason = conditionMessage(e)))
}

# Assign into an object with reference semantics (TRUE); a locked environment
# or binding (R6 objects lock theirs) is an R error, and an object with value
# semantics (a list, an S4 object) answers FALSE: changing a copy of it would
# silently change nothing the user can see.
set_member <- function(x, name, value) {
  env <- object_env(x)
  if (is.null(env)) return(FALSE)
  assign(name, value, envir = env)
  TRUE
}

# Call a function with already-converted arguments (a list; names for named
# arguments). The function and each argument are bound in the call's frame,
# so R's error messages and match.call() read "label(data, n = n)", as for
# a call typed in R, rather than deparsing the values (or evaluating
# language values: bound, a formula arrives as a value).
call_function <- reports_status(function(fun, args, label) {
  envir <- new.env(parent = globalenv())
  assign(label, fun, envir = envir)
  symbols <- argument_symbols(fun, args, label)
  for (i in seq_along(args)) assign(symbols[i], args[[i]], envir = envir)
  call <- as.call(c(list(as.name(label)), stats::setNames(lapply(symbols, as.name), names(args))))
  eval_toplevel(list(call), 1L, envir)
})

# The names arguments are bound to: a keyword's own name; a positional
# argument's formal (the i-th before `...`, when not also given by keyword);
# `.arg<i>` where neither is free.
argument_symbols <- function(fun, args, label) {
  keywords <- names(args) %||% rep("", length(args))
  formals <- if (is.primitive(fun)) names(formals(args(fun))) else names(formals(fun))
  before_dots <- formals[seq_len(match("...", formals, nomatch = length(formals) + 1L) - 1L)]
  positional <- setdiff(before_dots, keywords[nzchar(keywords)])
  symbols <- character(length(args))
  taken <- label
  for (i in seq_along(args)) {
    want <- if (nzchar(keywords[i])) keywords[i] else positional[sum(!nzchar(keywords[seq_len(i)]))]
    if (is.na(want) || want %in% taken || want == "...") want <- paste0(".arg", i)
    symbols[i] <- want
    taken <- c(taken, want)
  }
  symbols
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# A function's argument names, and whether each has a default (for Python's
# inspect.signature); a primitive's are those of its documented closure.
formal_arguments <- function(f) {
  formals <- if (is.primitive(f)) formals(args(f)) else formals(f)
  blank <- function(i) is.symbol(formals[[i]]) && !nzchar(as.character(formals[[i]]))  # no default
  has_default <- vapply(seq_along(formals), function(i) !blank(i), NA)
  list(names = as_text(names(formals)), has_default = has_default)
}
