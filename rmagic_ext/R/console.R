# Loaded by rmagic_ext/console.py: R's side of the console. Password prompts
# come to the console marked (so that Python asks with the password flag),
# and progress bars draw as they do in RStudio's console: redrawn in place.

console_setup <- function(password_mark) {
  if (is.null(getOption("askpass"))) {  # askpass::askpass() and the packages that use it (git, ssh, keyring)
    options(askpass = function(prompt = "Please enter your password: ") readline(paste0(password_mark, prompt)))
  }
  if (is.null(getOption("cli.dynamic"))) options(cli.dynamic = TRUE)  # cli's bars redraw with \r
  # The progress package has no option for a display that redraws: it asks
  # isatty() (or RStudio). Once it is loaded, it is told the console redraws.
  setHook(packageEvent("progress", "onLoad"), function(...) progress_redraws())
  if (isNamespaceLoaded("progress")) progress_redraws()
  assign(WHERE, debugger_where, envir = tools_env())
  invisible()
}

# The debugger's `where`, answered for the user's calls only: R's own lists
# every frame of the machinery that runs a cell too. The console turns the
# command into a call of this function (found on the search path).
WHERE <- "rmagic_ext_where"

debugger_where <- function() {
  calls <- sys.calls()
  n <- length(calls) - 1L  # not this call
  start <- 1L
  while (start <= n && !identical(sys.function(start), base::withVisible)) start <- start + 1L
  start <- start + 1L
  while (start <= n && .is_own_call(calls[[start]])) start <- start + 1L
  end <- start
  while (end <= n && !is_plumbing(sys.function(end), NULL)) end <- end + 1L
  frames <- rev(seq.int(start, length.out = max(0L, end - start)))
  for (i in seq_along(frames)) cat("where ", i, ": ", format_call(calls[[frames[i]]]), "\n", sep = "")
  cat("\n")
  invisible()
}

progress_redraws <- function() {
  utils::assignInNamespace("is_supported", function(stream) isTRUE(getOption("progress_enabled", TRUE)),
                           ns = "progress")
}
