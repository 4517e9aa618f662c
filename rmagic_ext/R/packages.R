# Loaded by rmagic_ext/packages.py: R packages per project. The project's
# library comes first on .libPaths(); install.packages() (ours, found before
# utils' on the search path) installs there, creating it, and never stops at
# the mirror menu.

.project <- new.env()

packages_setup <- function(library, mirror) {
  .project$library <- library
  .project$mirror <- mirror
  repos <- getOption("repos")
  if (!length(repos)) {
    options(repos = c(CRAN = mirror))
  } else if (any(repos == "@CRAN@")) {  # R builds other than Debian's would ask for a mirror
    repos[repos == "@CRAN@"] <- mirror
    options(repos = repos)
  }
  if (nzchar(library) && dir.exists(library)) use_library(library)
  assign("install.packages", install_packages, envir = tools_env())
  invisible()
}

use_library <- function(library) {
  library <- normalizePath(library)
  if (!library %in% .libPaths()) .libPaths(c(library, .libPaths()))
  library
}

# utils::install.packages() into the project's library (made on first use)
# unless `lib` says otherwise, from the configured mirror where R has none.
install_packages <- function(pkgs, lib, repos = getOption("repos"), ...) {
  if (missing(lib) || is.null(lib)) {
    if (nzchar(.project$library)) {
      dir.create(.project$library, showWarnings = FALSE, recursive = TRUE)
      lib <- use_library(.project$library)
    } else {
      lib <- .libPaths()[1L]
    }
  }
  if (!length(repos) || any(repos == "@CRAN@")) repos <- c(CRAN = .project$mirror)
  utils::install.packages(pkgs, lib = lib, repos = repos, ...)
}

project_library <- function() .project$library
