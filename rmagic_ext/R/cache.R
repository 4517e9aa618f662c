# Loaded by rmagic_ext/cache.py: what a cached cell's key reads in R, and
# what a cell changed in R (to store it, and to replay it on a hit).

# The parts of a cell's key that R knows, each a string (hashes by
# rlang::hash, xxhash128 of R's serialization; files by their content):
#   code: the parsed code, deparsed (comments and spacing do not count);
#   globals: each value of the global environment the code reads, before
#     the cell assigns it, functions through the globals they read;
#   packages: the version (and build) of each package the code uses;
#   files: the content of the files the code names in string literals, and
#     of `extra_files`;
#   py: the names read as py$name (Python hashes their values);
#   rng: the state of the random-number generator coming in, and whether the
#     cell sets its own seed first (then the state does not count).
cache_key_parts <- function(code, extra_files) {
  for (package in c("rlang", "globals")) {
    if (!requireNamespace(package, quietly = TRUE)) {
      stop(sprintf(paste0("cached cells need the R package '%s' ",
                          "(Debian: apt-get install r-cran-%s; elsewhere install.packages(\"%s\"))"),
                   package, package, package), call. = FALSE)
    }
  }
  exprs <- parse(text = code, keep.source = FALSE)
  deparsed <- unlist(lapply(exprs, deparse, width.cutoff = 500L))
  reads <- .globals_read(exprs)
  values <- mget(reads$user, envir = globalenv(), inherits = FALSE)
  globals <- vapply(values, .hash_value, "")
  packages <- unique(c(reads$packages, .packages_named(exprs)))
  packages <- packages[vapply(packages, function(p) nzchar(system.file(package = p)), NA)]
  versions <- vapply(packages, .package_version, "")
  files <- unique(c(Filter(.is_file, .strings_in(exprs)), extra_files))
  file_hashes <- if (length(files)) stats::setNames(as.character(rlang::hash_file(files)), files) else character()
  seed <- get0(".Random.seed", envir = globalenv(), inherits = FALSE)
  list(code = rlang::hash(deparsed), globals = as.list(globals), packages = as.list(versions),
       files = as.list(file_hashes), py = .py_names(exprs)$read, py_written = .py_names(exprs)$written,
       rng = if (is.null(seed)) "none" else rlang::hash(seed),
       seeds_first = .seeds_first(exprs), r_version = R.version.string)
}

.hash_value <- function(value) {
  if (typeof(value) == "closure") value <- utils::removeSource(value)
  rlang::hash(value)
}

.package_version <- function(package) {
  fields <- utils::packageDescription(package, fields = c("Version", "Packaged", "Built"))
  paste(unlist(fields), collapse = " | ")
}

# Globals each top-level expression reads from the global environment
# (not those an earlier expression of the cell assigned), recursively
# through the global functions they call; and the packages whose functions
# they call.
.globals_read <- function(exprs) {
  assigned <- character()
  user <- character()
  packages <- character()
  for (expr in exprs) {
    found <- globals::globalsOf(expr, envir = globalenv(), mustExist = FALSE, recursive = TRUE)
    where <- attr(found, "where")
    for (name in setdiff(names(found), assigned)) {
      env <- where[[name]]
      if (identical(env, globalenv())) user <- c(user, name)
      else if (is.environment(env) && startsWith(environmentName(env), "package:")) {
        packages <- c(packages, sub("^package:", "", environmentName(env)))
      }
    }
    assigned <- c(assigned, .assigned_names(expr))
  }
  list(user = unique(setdiff(user, c(".Random.seed", "py"))), packages = unique(packages))
}

# The names an expression assigns at its top: x <- ..., x = ..., assign("x", ...).
.assigned_names <- function(expr) {
  if (!is.call(expr)) return(character())
  head <- expr[[1L]]
  if ((identical(head, as.name("<-")) || identical(head, as.name("=")) || identical(head, as.name("<<-"))) &&
      is.name(expr[[2L]])) return(as.character(expr[[2L]]))
  if (identical(head, as.name("assign")) && length(expr) >= 2L && is.character(expr[[2L]])) return(expr[[2L]])
  character()
}

# Packages named in library()/require()/requireNamespace() calls and pkg::.
.packages_named <- function(exprs) {
  found <- character()
  walk <- function(e) {
    if (!is.call(e)) return(invisible())
    head <- e[[1L]]
    if ((identical(head, as.name("::")) || identical(head, as.name(":::"))) && length(e) == 3L) {
      found <<- c(found, as.character(e[[2L]]))
      return(invisible())
    }
    if (is.name(head) && as.character(head) %in% c("library", "require", "requireNamespace", "loadNamespace") &&
        length(e) >= 2L && (is.name(e[[2L]]) || is.character(e[[2L]]))) {
      found <<- c(found, as.character(e[[2L]]))
    }
    for (part in as.list(e)) if (!missing(part)) walk(part)
  }
  for (e in exprs) walk(e)
  unique(found)
}

.strings_in <- function(exprs) {
  found <- character()
  walk <- function(e) {
    if (is.character(e)) found <<- c(found, e)
    else if (is.call(e)) for (part in as.list(e)) if (!missing(part)) walk(part)
  }
  for (e in exprs) walk(e)
  unique(found[!is.na(found) & nzchar(found)])
}

.is_file <- function(path) nchar(path) < 4096L && file.exists(path) && !dir.exists(path)

# The names read as py$name or py[["name"]] (written ones, py$name <- v,
# are not read: they come back in `written`).
.py_names <- function(exprs) {
  read <- character()
  written <- character()
  py_name <- function(e) {
    if (is.call(e) && (identical(e[[1L]], as.name("$")) || identical(e[[1L]], as.name("[["))) &&
        length(e) == 3L && identical(e[[2L]], as.name("py")) && (is.name(e[[3L]]) || is.character(e[[3L]]))) {
      as.character(e[[3L]])
    }
  }
  walk <- function(e) {
    if (!is.call(e)) return(invisible())
    head <- e[[1L]]
    if (is.name(head) && as.character(head) %in% c("<-", "=", "<<-") && length(e) == 3L && !is.null(py_name(e[[2L]]))) {
      written <<- c(written, py_name(e[[2L]]))
      return(walk(e[[3L]]))
    }
    name <- py_name(e)
    if (!is.null(name)) read <<- c(read, name)
    for (part in as.list(e)) if (!missing(part)) walk(part)
  }
  for (e in exprs) walk(e)
  list(read = unique(read), written = unique(written))
}

.seeds_first <- function(exprs) {
  length(exprs) > 0L && is.call(exprs[[1L]]) && identical(exprs[[1L]][[1L]], as.name("set.seed"))
}

# -- what a cell changes -----------------------------------------------------------------

# The state before a cell: its global values (references, not copies), the
# search path, options and the generator's state.
cache_before <- function() {
  env <- new.env(parent = emptyenv())
  env$values <- as.list(globalenv(), all.names = TRUE)
  env$search <- search()
  env$options <- options()
  env$seed <- get0(".Random.seed", envir = globalenv(), inherits = FALSE)
  env
}

# What the cell changed, stored under `folder`: each new or changed global
# in a file of its own (objects/<i>.rds), the names removed, packages
# attached, options set, the generator's state it left. A value holding an
# external pointer (a connection, a handle, a C object) cannot be stored:
# its name comes back in `refused`, and nothing is written.
cache_store <- function(before, folder) {
  now <- as.list(globalenv(), all.names = TRUE)
  now[[".Random.seed"]] <- NULL
  old <- before$values
  changed <- names(now)[vapply(names(now), function(n) !(n %in% names(old)) || !identical(old[[n]], now[[n]]), NA)]
  for (name in changed) {
    if (.holds_pointer(now[[name]])) return(list(refused = name))
  }
  dir.create(file.path(folder, "objects"), recursive = TRUE, showWarnings = FALSE)
  files <- character()
  for (i in seq_along(changed)) {
    file <- file.path(folder, "objects", sprintf("%d.rds", i))
    saveRDS(now[[changed[i]]], file, compress = FALSE)
    files[i] <- basename(file)
  }
  options_now <- options()
  differs <- function(n) !identical(before$options[[n]], options_now[[n]])
  options_set <- options_now[vapply(names(options_now), differs, NA)]
  saveRDS(options_set, file.path(folder, "options.rds"))
  seed <- get0(".Random.seed", envir = globalenv(), inherits = FALSE)
  saveRDS(seed, file.path(folder, "seed.rds"))
  list(refused = NULL, names = changed, files = files,
       removed = setdiff(setdiff(names(old), names(now)), ".Random.seed"),
       attached = sub("^package:", "", grep("^package:", setdiff(search(), before$search), value = TRUE)),
       drew = !identical(seed, before$seed))
}

.holds_pointer <- function(x, depth = 0L) {
  if (depth > 20L) return(FALSE)
  if (typeof(x) %in% c("externalptr", "weakref") || inherits(x, "connection")) return(TRUE)
  if (is.list(x)) for (v in x) if (.holds_pointer(v, depth + 1L)) return(TRUE)
  if (is.environment(x) && !isNamespace(x) && !identical(x, globalenv()) && !identical(x, baseenv()) &&
      !identical(x, emptyenv()) && !startsWith(environmentName(x), "package:")) {
    for (name in ls(x, all.names = TRUE)) {
      if (!bindingIsActive(name, x) && .holds_pointer(get(name, envir = x, inherits = FALSE), depth + 1L)) return(TRUE)
    }
  }
  for (a in attributes(x)) if (.holds_pointer(a, depth + 1L)) return(TRUE)
  FALSE
}

# A hit: the stored objects back (each read when first used), the names the
# cell removed gone, its packages attached, its options set, the generator
# where the cell left it.
cache_replay <- function(folder, names, files, removed, attached) {
  for (package in rev(attached)) {
    if (!paste0("package:", package) %in% search()) {
      suppressPackageStartupMessages(library(package, character.only = TRUE, warn.conflicts = FALSE))
    }
  }
  for (i in seq_along(names)) {
    local({
      file <- file.path(folder, "objects", files[i])
      if (file.size(file) > 1e6) {
        delayedAssign(names[i], readRDS(file), assign.env = globalenv())
      } else {
        assign(names[i], readRDS(file), envir = globalenv())
      }
    })
  }
  gone <- intersect(removed, ls(globalenv(), all.names = TRUE))
  if (length(gone)) rm(list = gone, envir = globalenv())
  options_set <- readRDS(file.path(folder, "options.rds"))
  if (length(options_set)) options(options_set)
  seed <- readRDS(file.path(folder, "seed.rds"))
  if (is.null(seed)) {
    if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) rm(".Random.seed", envir = globalenv())
  } else {
    assign(".Random.seed", seed, envir = globalenv())
  }
  invisible()
}

# The hash of R objects named (the -i values, as R received them).
cache_hash_names <- function(names) {
  vapply(names, function(n) .hash_value(get(n, envir = globalenv())), "")
}
