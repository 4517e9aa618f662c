# Loaded by rmagic_ext/environment.py: what the R environment pane lists and
# opens. Summaries only, never values: a page of a table, a function's source,
# str() of a list, a plot drawn to a PNG file.

# What changed in the global environment since the last call: names whose
# value was rebound (a new address), changed length, attributes (class, dim,
# names: R may change them in place) or, for vectors, first values (what the
# summary shows; `x[2] <- 20` changes them in place; copies of them are kept,
# never the value, so R can still change it in place), and names gone.
# Vectorised, and taken only after a cell that ran R while a pane listens:
# about 1.5 us per object. Promises and active bindings are neither forced
# nor run. `reset` forgets what was seen: every name is then new.
# list(rows of the changed names (as env_rows), names removed).
env_changes <- function(reset = FALSE) {
  if (reset) .seen$names <- character()
  env <- globalenv()
  nms <- ls(env, all.names = TRUE, sorted = FALSE)
  n <- length(nms)
  kinds <- .binding_kinds(env, nms)
  plain <- kinds == "value"
  values <- mget(nms[plain], envir = env)
  now <- list(names = nms, kinds = kinds, address = rep("", n), length = rep(-1, n),
              attributes = vector("list", n), heads = vector("list", n))
  if (.has_rlang()) now$address[plain] <- vapply(values, rlang::obj_address, "", USE.NAMES = FALSE)
  now$length[plain] <- lengths(values, use.names = FALSE)
  now$attributes[plain] <- lapply(values, attributes)
  now$heads[plain] <- lapply(values, function(x) if (is.atomic(x)) .subset(x, seq_len(min(length(x), 6L))))
  before <- match(nms, .seen$names)
  changed <- is.na(before)
  known <- which(!changed)
  was <- before[known]
  changed[known] <- now$kinds[known] != .seen$kinds[was] | now$address[known] != .seen$address[was] |
    now$length[known] != .seen$length[was]
  same <- known[!changed[known]]
  was <- before[same]
  for (part in c("attributes", "heads")) {
    if (!identical(now[[part]][same], .seen[[part]][was]))
      changed[same] <- changed[same] | !mapply(identical, now[[part]][same], .seen[[part]][was], USE.NAMES = FALSE)
  }
  removed <- setdiff(.seen$names, nms)
  list2env(now, envir = .seen)
  list(env_rows(sort(nms[changed])), sort(removed))
}

.seen <- new.env()
.seen$names <- character()

.address <- function(x) if (.has_rlang()) rlang::obj_address(x) else ""

.has_rlang <- local({
  has <- NULL
  function() {
    if (is.null(has)) has <<- requireNamespace("rlang", quietly = TRUE)
    has
  }
})

# "value", "promise" (not yet evaluated: delayedAssign, lazy data) or "active"
# (makeActiveBinding) for each name, without touching the value.
.binding_kinds <- function(env, names) {
  kinds <- rep("value", length(names))
  if (!length(names)) return(kinds)
  if (.has_rlang()) {
    kinds[rlang::env_binding_are_active(env, names)] <- "active"
    kinds[rlang::env_binding_are_lazy(env, names)] <- "promise"
  } else {
    kinds[vapply(names, bindingIsActive, NA, env = env, USE.NAMES = FALSE)] <- "active"
  }
  kinds
}

# The pane's row of each name: a list of equal-length vectors (name, class,
# type, dims, size in bytes, summary, kind). `kind` says what opening it
# shows: "table", "function", "plot", "structure", "promise", "active".
env_rows <- function(names) {
  env <- globalenv()
  names <- names[vapply(names, exists, NA, envir = env, inherits = FALSE, USE.NAMES = FALSE)]
  kinds <- .binding_kinds(env, names)
  rows <- lapply(seq_along(names), function(i) {
    if (kinds[i] != "value") return(.unforced_row(names[i], kinds[i]))
    tryCatch(.row(names[i], get(names[i], envir = env)),
             error = function(e) .unforced_row(names[i], "error", conditionMessage(e)))
  })
  fields <- c("name", "class", "type", "dims", "size", "summary", "kind")
  out <- lapply(fields, function(f) vapply(rows, function(r) r[[f]], if (f == "size") 0 else ""))
  names(out) <- fields
  out
}

.unforced_row <- function(name, kind, why = "") {
  summary <- switch(kind, promise = "<promise: not evaluated yet>", active = "<active binding>",
                    paste("<cannot summarise:", why, ">"))
  list(name = name, class = kind, type = kind, dims = "", size = NA_real_, summary = summary, kind = kind)
}

.row <- function(name, x) {
  list(name = name, class = paste(class(x), collapse = ", "), type = typeof(x), dims = .dims(x),
       size = .size(x), summary = .summary(x), kind = .kind(x))
}

.dims <- function(x) {
  d <- dim(x)
  if (length(d)) paste(vapply(d, .count, ""), collapse = " \u00d7 ")
  else if (is.environment(x) || is.function(x) || isS4(x)) ""
  else .count(length(x))
}

.count <- function(n) if (n < 1000) as.character(n) else format(n, big.mark = ",", scientific = FALSE)

.size <- function(x) as.numeric(utils::object.size(x))

.kind <- function(x) {
  if (.is_table(x)) "table"
  else if (is.function(x)) "function"
  else if (.is_plot(x)) "plot"
  else "structure"
}

.is_table <- function(x) is.data.frame(x) || (is.matrix(x) && !is.list(x))

.is_plot <- function(x) inherits(x, c("ggplot", "gg", "trellis", "recordedplot"))

.summary <- function(x) {
  one_line <- function(text) {
    text <- gsub("\\s+", " ", trimws(paste(text, collapse = " ")))
    if (nchar(text) > 120L) paste0(substr(text, 1L, 117L), "...") else text
  }
  if (is.data.frame(x))
    return(sprintf("%s obs. of %d variable%s", .count(nrow(x)),
                   ncol(x), if (ncol(x) == 1L) "" else "s"))
  if (is.function(x)) return(one_line(.arguments(x)))
  formula <- .model_formula(x)
  if (!is.null(formula)) return(one_line(c(class(x)[1L], "model:", formula)))
  if (inherits(x, "ggplot")) return("a ggplot: print() or open it to draw")
  if (inherits(x, "trellis")) return("a lattice plot: print() or open it to draw")
  if (inherits(x, "recordedplot")) return("a recorded plot: replayPlot() or open it to draw")
  if (is.environment(x)) return(one_line(utils::capture.output(print(x))))
  if (is.atomic(x) && is.null(attributes(x)) && length(x)) return(.vector_summary(x))
  one_line(utils::capture.output(utils::str(x, max.level = 0L, give.attr = FALSE, vec.len = 2L))[1L])
}

# str()'s line for a plain vector ("num [1:3] 1 2 3", "chr \"a\""), made
# directly: str() costs 200 us, too much for a snapshot of 10,000 objects.
.vector_summary <- function(x) {
  abbreviation <- c(logical = "logi", integer = "int", double = "num", complex = "cplx",
                    character = "chr", raw = "raw")[[typeof(x)]]
  shown <- .subset(x, seq_len(min(length(x), 5L)))
  values <- if (is.character(x)) ifelse(is.na(shown), "NA", paste0("\"", shown, "\""))
            else format(shown, digits = 3L, trim = TRUE)
  paste0(abbreviation, " ", if (length(x) > 1L) sprintf("[1:%s] ", format(length(x), scientific = FALSE)),
         paste(values, collapse = " "), if (length(x) > 5L) " ..." else "")
}

.arguments <- function(f) {
  shown <- utils::capture.output(print(args(f)))
  if (!length(shown)) return("function (a primitive)")
  shown[seq_len(max(1L, length(shown) - 1L))]  # args() ends with NULL
}

.model_formula <- function(x) {
  if (!is.list(x) && !isS4(x)) return(NULL)
  if (!inherits(x, c("lm", "glm", "nls", "aov", "lme", "merMod", "coxph", "survreg", "gam", "htest")) &&
      is.null(tryCatch(x$call$formula, error = function(e) NULL))) return(NULL)
  tryCatch(paste(deparse(stats::formula(x)), collapse = " "), error = function(e) NULL)
}

# -- opening objects --------------------------------------------------------------

# One page of a data frame, matrix or tibble: rows offset + 1 .. offset + limit
# (in the order of `sort_by`, a column's position, when given), each column
# formatted as R prints it. A list: columns (names), types (class of each
# column), rows (row names, as shown), cells (one character vector per
# column), total (the number of rows).
env_page <- function(name, offset, limit, sort_by, decreasing) {
  x <- .get_table(name)
  total <- nrow(x)
  order <- .order(name, x, sort_by, decreasing)
  rows <- seq.int(from = min(offset, total) + 1L, length.out = max(0L, min(limit, total - offset)))
  if (!is.null(order)) rows <- order[rows]
  page <- x[rows, , drop = FALSE]
  columns <- .column_names(x)
  cells <- if (is.data.frame(page)) {
    lapply(seq_along(page), function(j) .format_column(page[[j]]))
  } else {
    lapply(seq_len(ncol(page)), function(j) .format_column(page[, j]))
  }
  labels <- rownames(page)
  if (is.null(labels) || .automatic_row_names(x)) labels <- format(rows, scientific = FALSE, trim = TRUE)
  types <- if (is.data.frame(x)) vapply(x, function(col) class(col)[1L], "") else rep(typeof(x), ncol(x))
  list(columns = columns, types = unname(types), rows = as.character(labels),
       cells = unname(cells), total = total, first = as.numeric(offset))
}

.get_table <- function(name) {
  x <- get(name, envir = globalenv(), inherits = FALSE)
  if (!.is_table(x)) stop(sprintf("'%s' is a %s, not a table (a data frame or a matrix)", name, class(x)[1L]),
                          call. = FALSE)
  x
}

.automatic_row_names <- function(x) is.data.frame(x) && .row_names_info(x) < 0L

.column_names <- function(x) {
  found <- colnames(x)
  if (is.null(found)) found <- sprintf("[,%d]", seq_len(ncol(x)))
  found[is.na(found) | !nzchar(found)] <- sprintf("[,%d]", which(is.na(found) | !nzchar(found)))
  found
}

.format_column <- function(col) {
  shown <- if (is.list(col) && !is.data.frame(col)) {
    vapply(col, function(v) paste(utils::capture.output(utils::str(v, give.head = FALSE))[1L], collapse = ""), "")
  } else if (is.data.frame(col) || is.matrix(col)) {
    apply(format(col), 1L, paste, collapse = ", ")
  } else {
    format(col, trim = TRUE, justify = "none")
  }
  as.character(shown)
}

# The order of a table's rows by one column, kept for the next page of the
# same table, column and direction (ordering 10M rows takes a second).
.order <- local({
  kept <- list(key = NULL, order = NULL)
  function(name, x, sort_by, decreasing) {
    if (is.null(sort_by) || is.na(sort_by)) return(NULL)
    if (sort_by < 1L || sort_by > ncol(x)) stop(sprintf("'%s' has no column %d", name, sort_by), call. = FALSE)
    col <- if (is.data.frame(x)) x[[sort_by]] else x[, sort_by]
    key <- list(name, .address(x), sort_by, decreasing, nrow(x))
    if (!identical(key, kept$key)) {
      kept$order <<- if (is.atomic(col)) order(col, decreasing = decreasing, method = "radix")
                     else seq_len(nrow(x))
      kept$key <<- key
    }
    kept$order
  }
})

# What opening a non-table shows: a function's source (as the console prints
# it), str() of anything else; lines are cut at `lines`.
env_text <- function(name, lines) {
  x <- get(name, envir = globalenv(), inherits = FALSE)
  text <- if (is.function(x)) utils::capture.output(print(x, useSource = TRUE))
          else utils::capture.output(utils::str(x, list.len = 50L, vec.len = 4L))
  if (length(text) > lines) text <- c(text[seq_len(lines)], sprintf("... %d more lines", length(text) - lines))
  paste(text, collapse = "\n")
}

# A plot object (ggplot, lattice, recordedplot) drawn into `file` as a PNG of
# width x height pixels, on a device of its own: the cell's device stays current.
env_draw <- function(name, file, width, height) {
  x <- get(name, envir = globalenv(), inherits = FALSE)
  if (!.is_plot(x)) stop(sprintf("'%s' is a %s, not a plot", name, class(x)[1L]), call. = FALSE)
  before <- grDevices::dev.cur()
  type <- if (capabilities("cairo")) "cairo" else getOption("bitmapType")
  grDevices::png(file, width = width, height = height, type = type)
  on.exit({
    grDevices::dev.off()
    if (before > 1L) grDevices::dev.set(before)
  })
  if (inherits(x, "recordedplot")) grDevices::replayPlot(x) else print(x)
  invisible(file)
}

env_remove <- function(name) {
  if (!exists(name, envir = globalenv(), inherits = FALSE))
    stop(sprintf("R has no object named '%s'", name), call. = FALSE)
  rm(list = name, envir = globalenv())
}
