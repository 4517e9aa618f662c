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
  invisible()
}

progress_redraws <- function() {
  utils::assignInNamespace("is_supported", function(stream) isTRUE(getOption("progress_enabled", TRUE)),
                           ns = "progress")
}
