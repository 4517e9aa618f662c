# Loaded by rmagic_ext/bridge.py. R side of the bridge: `py` (the IPython namespace), references to Python
# objects and Python functions, all reaching Python through one entry point
# that always answers with a status list (so a Python exception becomes an R
# condition here, never a longjmp through Python).

.bridge <- new.env()

# Call Python: op is what to do, ... its arguments (R values, converted on
# the Python side). Python errors become R errors of class
# c("python.<Type>", "python_error", "error", "condition"); a KeyboardInterrupt
# becomes R's own interrupt condition.
.python <- function(op, ...) {
  res <- .bridge$entry(op, ...)
  if (isTRUE(res$ok)) return(res$value)
  if (identical(res$kind, "interrupt")) {
    signalCondition(structure(class = c("interrupt", "condition"), list()))
  }
  stop(structure(
    class = c(paste0("python.", res$type), "python_error", "error", "condition"),
    list(message = paste0(res$type, ": ", res$message), call = sys.call(-1L),
         python_type = res$type, python_traceback = res$traceback)))
}

bridge_install <- function(entry) {
  .bridge$entry <- entry
  py <- structure(new.env(parent = emptyenv()), class = "rmagic_ext_py")
  assign("py", py, envir = tools_env())
  for (m in names(.s3)) registerS3method(.s3[[m]][[1L]], .s3[[m]][[2L]], .s3[[m]][[3L]], envir = baseenv())
  invisible()
}

# At exit, before rpy2 frees the Python side of the entry point: R's last
# garbage collection (in rpy2's endr) still runs finalizers of references,
# and they must not call a freed Python function.
bridge_uninstall <- function() {
  .bridge$entry <- function(op, ...) list(ok = TRUE, value = NULL)
  invisible()
}

# A reference to a Python object: an environment (so R's garbage collector
# tells Python, through a finalizer, when R lets go of it).
new_pyobj <- function(key, callable) {
  ref <- new.env(parent = emptyenv())
  ref$.key <- key
  reg.finalizer(ref, function(e) .bridge$entry("release", get(".key", envir = e)), onexit = FALSE)
  class(ref) <- "rmagic_ext_pyobj"
  if (!callable) return(ref)
  f <- function(...) .python("call", ref, list(...))
  attr(f, "rmagic_ext_pyobj") <- ref
  class(f) <- c("rmagic_ext_pyfunction", "function")
  f
}

.s3 <- list(
  list("$", "rmagic_ext_py", function(x, name) .python("get_global", name)),
  list("[[", "rmagic_ext_py", function(x, i, ...) .python("get_global", i)),
  list("$<-", "rmagic_ext_py", function(x, name, value) {
    .python("set_global", name, value)
    x
  }),
  list("[[<-", "rmagic_ext_py", function(x, i, value) {
    .python("set_global", i, value)
    x
  }),
  list("names", "rmagic_ext_py", function(x) .python("list_globals")),
  list("print", "rmagic_ext_py", function(x, ...) {
    cat("<Python namespace: py$name reads, py$name <- value assigns>\n")
    invisible(x)
  }),
  list("$", "rmagic_ext_pyobj", function(x, name) .python("getattr", x, name)),
  list("$<-", "rmagic_ext_pyobj", function(x, name, value) {
    .python("setattr", x, name, value)
    x
  }),
  list("[[", "rmagic_ext_pyobj", function(x, i, ...) .python("getitem", x, i)),
  list("[[<-", "rmagic_ext_pyobj", function(x, i, value) {
    .python("setitem", x, i, value)
    x
  }),
  list("names", "rmagic_ext_pyobj", function(x) .python("dir", x)),
  list("length", "rmagic_ext_pyobj", function(x) .python("len", x)),
  list("print", "rmagic_ext_pyobj", function(x, ...) {
    cat(.python("repr", x), "\n", sep = "")
    invisible(x)
  }),
  list("print", "rmagic_ext_pyfunction", function(x, ...) {
    cat(.python("repr", attr(x, "rmagic_ext_pyobj")), "\n", sep = "")
    invisible(x)
  }),
  list("$", "rmagic_ext_pyfunction", function(x, name) .python("getattr", attr(x, "rmagic_ext_pyobj"), name))
)
names(.s3) <- vapply(.s3, function(m) paste(m[[1L]], m[[2L]]), "")

# rm() of one global, reporting whether there was one.
remove_global <- function(name) {
  if (!nzchar(name) || nchar(name, "bytes") > 10000L) return(FALSE)
  if (!exists(name, envir = globalenv(), inherits = FALSE)) return(FALSE)
  rm(list = name, envir = globalenv())
  TRUE
}
