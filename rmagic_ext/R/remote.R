# Loaded by rmagic_ext/remote.py: R values and functions packed into bytes
# that another process can unpack, with what they need from the notebook.
#
# serialize() writes the global environment, package environments and
# namespaces as references, so a function alone arrives without the helpers
# and values it finds in the notebook's global environment. pack() captures
# those (found by the globals package's walker, recursively), the packages
# they come from and the attached packages; unpack() puts the captured values
# into an environment of their own (under the worker's global environment)
# and makes every closure, formula and environment of the payload that
# reached the notebook's global environment reach that one instead, so the
# value sees exactly what it saw in the notebook, and two payloads in one
# worker never see each other's values.

.own <- new.env(parent = emptyenv())  # rmagic_ext's own environments, by name

# Environments of rmagic_ext's own (helper environments, `py`, the attached
# tools): written by name, and found again by name where unpacked, so that a
# Python function or object reference held in R travels without our code.
own_environments <- function(envs) {
  list2env(envs, envir = .own)
  if ("rmagic_ext" %in% search()) {
    tools <- as.environment("rmagic_ext")
    assign("tools", tools, envir = .own)
    if (exists("py", envir = tools, inherits = FALSE)) assign("py", get("py", envir = tools), envir = .own)
  }
  invisible()
}

own_name <- function(e) {
  for (name in ls(.own, all.names = TRUE)) if (identical(.own[[name]], e)) return(name)
  NULL
}

is_package_env <- function(e) startsWith(environmentName(e), "package:")

# An environment of the user's (a function's frame, local(), new.env(), an
# R6 object): not global, base, empty, a namespace, a package or ours.
is_user_env <- function(e) {
  is.environment(e) && !identical(e, globalenv()) && !identical(e, baseenv()) &&
    !identical(e, emptyenv()) && !isNamespace(e) && !is_package_env(e) && is.null(own_name(e))
}

on_search_path <- function(e) {
  for (i in seq_along(search())) if (identical(as.environment(i), e)) return(TRUE)
  FALSE
}

# Where `name` is found from `env` along its parents, or NULL.
where_found <- function(name, env) {
  while (!identical(env, emptyenv())) {
    if (exists(name, envir = env, inherits = FALSE)) return(env)
    env <- parent.env(env)
  }
  NULL
}

# The namespaces named by pkg::name and pkg:::name in a function or expression.
namespaces_named <- function(x) {
  if (is.function(x)) x <- c(as.list(formals(x)), list(body(x)))
  found <- character()
  walk <- function(e) {
    if (is.call(e)) {
      head <- e[[1L]]
      if ((identical(head, as.name("::")) || identical(head, as.name(":::"))) && length(e) == 3L) {
        found <<- c(found, as.character(e[[2L]]))
      } else {
        for (part in as.list(e)) if (!missing(part)) walk(part)
      }
    } else if (is.list(e) || is.expression(e)) {
      for (part in e) if (!missing(part)) walk(part)
    }
  }
  walk(x)
  unique(found)
}

# The names an R function reads or writes as py$name or py[["name"]]: the
# Python values of the notebook it came from (taken along by Python).
py_names_used <- function(f) {
  found <- character()
  walk <- function(e) {
    if (!is.call(e)) return(invisible())
    head <- e[[1L]]
    if ((identical(head, as.name("$")) || identical(head, as.name("[["))) && length(e) == 3L &&
        identical(e[[2L]], as.name("py")) && (is.symbol(e[[3L]]) || is.character(e[[3L]]))) {
      found <<- c(found, as.character(e[[3L]]))
    }
    for (part in as.list(e)) if (!missing(part)) walk(part)
  }
  walk(body(f))
  unique(found)
}

# Values that may lead to more of the notebook: closures, formulas, S4
# objects, environments of the user's, and lists holding any of these.
leads_somewhere <- function(v) {
  if (typeof(v) == "closure" || inherits(v, "formula") || isS4(v)) return(TRUE)
  if (is.environment(v)) return(is_user_env(v))
  if (is.list(v) && length(v)) return(any(vapply(v, leads_somewhere, NA)))
  FALSE
}

# What a value needs from the notebook, found by walking it and each value
# it leads to: `globals` (values of the global environment, by name),
# `namespaces` (packages that must be there) and how large each global is.
capture <- function(x, auto = TRUE, names = character(), given = list()) {
  st <- new.env(parent = emptyenv())
  st$globals <- list()
  st$namespaces <- character()
  st$seen <- list()
  st$s3_generics <- character()
  st$py_names <- character()
  todo <- list(x)
  take <- function(name, value) {
    if (name %in% names(st$globals)) return(list())
    st$globals[name] <- list(value)
    list(value)
  }
  for (name in names) {
    if (!exists(name, envir = globalenv())) stop("there is no R object called '", name, "' to send along")
    todo <- c(todo, take(name, get(name, envir = globalenv())))
  }
  for (name in names(given)) todo <- c(todo, take(name, given[[name]]))
  while (length(todo)) {
    v <- todo[[1L]]
    todo <- todo[-1L]
    todo <- c(todo, visit(v, st, auto, take))
  }
  if (auto) todo <- s3_methods(st, take)
  while (length(todo)) {  # what the S3 methods need in turn
    v <- todo[[1L]]
    todo <- todo[-1L]
    todo <- c(todo, visit(v, st, auto, take))
  }
  list(globals = st$globals, namespaces = setdiff(unique(st$namespaces), c("base", "")),
       py_names = unique(st$py_names))
}

# One value: note what it needs, and answer the values to visit next.
visit <- function(v, st, auto, take) {
  if (typeof(v) == "closure") {
    if (already_seen(v, st)) return(list())  # a local function that calls itself, say
    return(visit_closure(v, st, auto, take))
  }
  if (inherits(v, "formula")) return(visit_formula(v, st, auto, take))
  if (isS4(v)) {
    package <- attr(class(v), "package")
    if (is.character(package) && !identical(package, ".GlobalEnv")) st$namespaces <- c(st$namespaces, package)
  }
  if (is.environment(v)) return(visit_env(v, st))
  if (is.list(v) && length(v)) return(Filter(leads_somewhere, unclass(v)))
  list()
}

# Whether an environment or closure was met before (and note it if not).
already_seen <- function(x, st) {
  for (s in st$seen) if (identical(s, x)) return(TRUE)
  st$seen[[length(st$seen) + 1L]] <- x
  FALSE
}

# An environment of the user's travels whole (serialize copies it); the
# values in it may need more of the notebook. Active bindings are not read.
visit_env <- function(e, st) {
  if (!is_user_env(e) || already_seen(e, st)) return(list())
  next_values <- list()
  for (name in ls(e, all.names = TRUE)) {
    if (bindingIsActive(name, e)) next
    value <- get(name, envir = e, inherits = FALSE)
    if (leads_somewhere(value)) next_values[[length(next_values) + 1L]] <- value
  }
  c(next_values, chain_end(parent.env(e), st))
}

# Where an environment's chain of user environments ends: a namespace (a
# closure a package function made, like ecdf()'s) is needed by name.
chain_end <- function(e, st) {
  while (is_user_env(e)) e <- parent.env(e)
  if (isNamespace(e)) st$namespaces <- c(st$namespaces, getNamespaceName(e))
  list()
}

visit_closure <- function(f, st, auto, take) {
  env <- environment(f)
  if (isNamespace(env)) {  # a package's own function: it travels by name
    st$namespaces <- c(st$namespaces, getNamespaceName(env))
    return(list())
  }
  st$namespaces <- c(st$namespaces, namespaces_named(f))
  next_values <- chain_end(env, st)
  if (!auto) return(next_values)
  found <- globals::globalsOf(f, envir = env, mustExist = FALSE, recursive = FALSE)
  where <- attr(found, "where")
  if ("py" %in% names(found) && identical(own_name(where[["py"]]), "tools")) {
    st$py_names <- c(st$py_names, py_names_used(f))
  }
  for (name in names(found)) {
    next_values <- c(next_values, classify(name, where[[name]], st, take))
  }
  next_values
}

# A formula's variables found in the notebook (not in a data argument)
# travel with it, as its environment would give them.
visit_formula <- function(f, st, auto, take) {
  env <- environment(f)
  if (is.null(env) || !auto) return(list())
  next_values <- list()
  for (name in all.vars(f)) next_values <- c(next_values, classify(name, where_found(name, env), st, take))
  next_values
}

# Where one free variable was found decides what travels: a global value
# itself, a package by name, nothing for base and rmagic_ext's own.
classify <- function(name, where, st, take) {
  if (is.null(where) || identical(where, emptyenv())) return(list())
  if (identical(where, globalenv())) {
    st$s3_generics <- c(st$s3_generics, name)
    return(take(name, get(name, envir = where)))
  }
  if (is_package_env(where)) {
    st$namespaces <- c(st$namespaces, sub("^package:", "", environmentName(where)))
    st$s3_generics <- c(st$s3_generics, name)
    return(list())
  }
  if (isNamespace(where)) {
    st$namespaces <- c(st$namespaces, getNamespaceName(where))
    return(list())
  }
  if (identical(where, baseenv())) {
    st$s3_generics <- c(st$s3_generics, name)
    return(list())
  }
  if (!is.null(own_name(where))) return(list())
  if (on_search_path(where)) return(take(name, get(name, envir = where)))  # attach()ed data
  value <- get(name, envir = where)  # in a user environment, which travels whole
  if (leads_somewhere(value)) list(value) else list()
}

# S3 methods defined in the notebook for the generics a captured function
# calls (summary.myfit for summary): S3 dispatch finds them by name, not by
# reference, so no walker sees them.
s3_methods <- function(st, take) {
  generics <- unique(st$s3_generics)
  if (!length(generics)) return(list())
  candidates <- ls(globalenv(), all.names = TRUE)
  next_values <- list()
  for (name in candidates) {
    dots <- gregexpr(".", name, fixed = TRUE)[[1L]]
    if (dots[1L] < 0L) next
    prefixes <- substring(name, 1L, dots - 1L)
    if (!any(prefixes %in% generics)) next
    value <- get(name, envir = globalenv())
    if (is.function(value)) next_values <- c(next_values, take(name, value))
  }
  next_values
}

drop_source <- function(x) {
  if (typeof(x) == "closure") return(utils::removeSource(x))
  if (is.list(x) && !is.object(x) && length(x)) {
    closures <- which(vapply(x, function(v) typeof(v) == "closure", NA))
    for (i in closures) x[[i]] <- utils::removeSource(x[[i]])
  }
  x
}

# Pack `x`: the bytes (serialize's native format, version 3) of the value
# with the globals it needs, the packages, and each global's size in bytes
# (object.size, for the size guard's message). `limit` (bytes, 0 for none)
# refuses a capture above it before and after serializing. Python object
# references held in R are written as "rmagic_ext_pyobj:<key>" (their
# objects are pickled by Python), rmagic_ext's own environments by name.
pack <- function(x, auto, names, given, extra_packages, keep_source, limit) {
  if (auto && !requireNamespace("globals", quietly = TRUE)) {
    stop("finding what an R function needs from the notebook takes the R package 'globals', which is ",
         "not installed (Debian: apt-get install r-cran-globals; elsewhere install.packages(\"globals\")); ",
         "or name what it needs: rmagic_ext.remote(f, globals=[...])", call. = FALSE)
  }
  captured <- capture(x, auto, names, given)
  globals <- captured$globals
  if (!keep_source) {
    x <- drop_source(x)
    globals <- lapply(globals, drop_source)
  }
  sizes <- c(vapply(globals, function(v) as.numeric(utils::object.size(v)), 0),
             "(the value itself)" = as.numeric(utils::object.size(x)))
  if (limit > 0 && sum(sizes) > limit) return(list(status = "too_large", sizes = sizes, total = sum(sizes)))
  keys <- integer()
  hook <- function(e) {
    if (inherits(e, "rmagic_ext_pyobj")) {
      key <- get(".key", envir = e)
      keys <<- c(keys, key)
      return(paste0("rmagic_ext_pyobj:", key))
    }
    name <- own_name(e)
    if (!is.null(name)) paste0("rmagic_ext_env:", name) else NULL
  }
  data <- serialize(list(value = x, globals = globals), NULL, xdr = FALSE, refhook = hook)
  if (limit > 0 && length(data) > limit) {
    return(list(status = "too_large", sizes = sizes, total = as.numeric(length(data))))
  }
  attached <- sub("^package:", "", grep("^package:", search(), value = TRUE))
  namespaces <- unique(c(captured$namespaces, extra_packages))
  list(status = "ok", data = data, pyobj_keys = unique(keys),
       namespaces = namespaces, attached = setdiff(attached, base_packages()), py_names = captured$py_names,
       globals = as.character(names(globals)))
}

base_packages <- function() c("base", getOption("defaultPackages"), "methods")

# Before unserializing: the packages the value needs (an error naming the
# first one missing), then the notebook's attached packages, in the same
# order on the search path, where this R has them.
prepare_packages <- function(namespaces, attached, needed_by) {
  missing <- namespaces[!vapply(namespaces, requireNamespace, NA, quietly = TRUE)]
  if (length(missing)) {
    stop(structure(class = c("rmagic_ext_package_missing", "error", "condition"), list(
      message = sprintf("R package '%s' is needed by %s but is not installed here (%s); %s",
                        missing[1L], needed_by, Sys.info()[["nodename"]], "install it where the workers run"),
      call = NULL, package = missing[1L])))
  }
  for (package in rev(attached)) {
    if (paste0("package:", package) %in% search()) next
    if (!requireNamespace(package, quietly = TRUE)) next
    suppressPackageStartupMessages(library(package, character.only = TRUE, warn.conflicts = FALSE))
  }
  invisible()
}

# Unpack what pack() wrote: `refs` maps "rmagic_ext_pyobj:<key>" names to
# this process's references to the unpickled Python objects.
unpack <- function(data, refs, namespaces, attached, needed_by) {
  prepare_packages(namespaces, attached, needed_by)
  hook <- function(name) {
    if (startsWith(name, "rmagic_ext_env:")) {
      own <- sub("^rmagic_ext_env:", "", name)
      if (exists(own, envir = .own, inherits = FALSE)) return(.own[[own]])
    } else if (!is.null(refs[[name]])) {
      return(refs[[name]])
    }
    stop("the payload refers to '", name, "', which this process does not have")
  }
  payload <- unserialize(data, refhook = hook)
  home <- list2env(payload$globals, parent = globalenv())
  st <- new.env(parent = emptyenv())
  st$seen <- list()
  for (name in names(payload$globals)) assign(name, rehome(home[[name]], home, st), envir = home)
  rehome(payload$value, home, st)
}

# Make what reached the global environment reach `home` instead (the
# payload is this process's own copy: changing it changes nothing else).
rehome <- function(v, home, st) {
  if (typeof(v) == "closure") {
    env <- environment(v)
    if (identical(env, globalenv())) environment(v) <- home else rehome_chain(env, home, st)
    return(v)
  }
  if (inherits(v, "formula")) {
    env <- environment(v)
    if (identical(env, globalenv())) environment(v) <- home else if (!is.null(env)) rehome_chain(env, home, st)
    return(v)
  }
  if (is.environment(v)) {
    rehome_chain(v, home, st)
    return(v)
  }
  if (is.list(v) && length(v)) {
    for (i in which(vapply(v, leads_somewhere, NA))) v[[i]] <- rehome(v[[i]], home, st)
  }
  v
}

rehome_chain <- function(env, home, st) {
  e <- env
  while (is_user_env(e) && !identical(e, home)) {
    if (already_seen(e, st)) return(invisible())
    for (name in ls(e, all.names = TRUE)) {
      if (bindingIsActive(name, e)) next
      value <- get(name, envir = e, inherits = FALSE)
      if (!leads_somewhere(value)) next
      locked <- bindingIsLocked(name, e)
      if (locked) unlockBinding(name, e)
      assign(name, rehome(value, home, st), envir = e)
      if (locked) lockBinding(name, e)
    }
    parent <- parent.env(e)
    if (identical(parent, globalenv())) {
      parent.env(e) <- home
      return(invisible())
    }
    e <- parent
  }
  invisible()
}

# What a worker reports about itself (the Dask plugin compares it with the
# notebook's).
r_version <- function() R.version.string

# -- random-number streams ------------------------------------------------------------
# Tasks draw from L'Ecuyer-CMRG streams of one base seed (rmagic_ext/streams.py
# numbers them). The base comes from the notebook's own generator: one draw,
# as future.seed does, so the next map gets other streams and set.seed()
# before a map gives the same ones. `last` is the base drawn before in this
# cell: kept while the notebook's generator has not moved since.
# `fresh` says whether the base was drawn now.
stream_base <- function(last) {
  now <- get0(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (!is.null(last) && identical(now, last$after)) {
    last$fresh <- FALSE
    return(last)
  }
  drawn <- sample.int(.Machine$integer.max, 1L)
  list(base = lecuyer_seed(drawn), after = get0(".Random.seed", envir = globalenv(), inherits = FALSE),
       fresh = TRUE)
}

# set.seed(seed, kind = "L'Ecuyer-CMRG")'s .Random.seed, leaving this
# process's generator (kind and state) as it was.
lecuyer_seed <- function(seed) {
  env <- globalenv()
  old <- get0(".Random.seed", envir = env, inherits = FALSE)
  kinds <- RNGkind()
  on.exit({
    suppressWarnings(RNGkind(kinds[1L], kinds[2L], kinds[3L]))
    if (is.null(old)) rm(".Random.seed", envir = env) else assign(".Random.seed", old, envir = env)
  })
  set.seed(seed, kind = "L'Ecuyer-CMRG")
  get(".Random.seed", envir = env)
}

# What a task's stream number is a digest of: its arguments, serialized
# without the header (which names the R version) and without ALTREP forms.
argument_bytes <- function(args) serialize(args, NULL, xdr = FALSE, version = 2L)

# call_function (robject.R's) with .Random.seed set to `stream` for the call
# and put back after (NULL: the worker's own generator, untouched); `drew`
# says whether the function drew random numbers.
call_in_stream <- reports_status(function(call_function, fun, args, label, stream) {
  env <- globalenv()
  old <- get0(".Random.seed", envir = env, inherits = FALSE)
  if (!is.null(stream)) assign(".Random.seed", stream, envir = env)
  before <- get0(".Random.seed", envir = env, inherits = FALSE)
  outcome <- call_function(fun, args, label)
  outcome$drew <- !identical(before, get0(".Random.seed", envir = env, inherits = FALSE))
  if (!is.null(stream)) {
    if (is.null(old)) rm(".Random.seed", envir = env) else assign(".Random.seed", old, envir = env)
  }
  outcome
})
