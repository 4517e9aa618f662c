# Loaded by rmagic_ext/display.py: what the HTML table of a value shows.

# A data.frame, tibble or matrix as plain data for an HTML table: its size,
# column types, and the formatted cells of its first and last rows and columns.
# NULL for anything else.
table_preview <- function(x, max_rows, max_cols) {
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
print_text <- function(x, max_rows) {
  n <- NROW(x)
  shown <- if (n > max_rows) x[seq_len(max_rows), , drop = FALSE] else x
  text <- utils::capture.output(print(shown))
  if (n > max_rows) text <- c(text, sprintf("# ... with %d more rows", n - max_rows))
  paste(text, collapse = "\n")
}


# -- rich output, as IRkernel gives it ---------------------------------------

# Once R is up: the options and functions through which R packages written
# for Jupyter (IRdisplay, repr, htmlwidgets) and R's help and pager reach the
# notebook. `publish(data, metadata)`, `page(data)` and `clear(wait)` are
# Python's.
display_install <- function(publish, page, clear, show_table) {
  .rich_out$publish <- publish
  .rich_out$page <- page
  options(
    jupyter.base_display_func = function(data, metadata = NULL) invisible(publish(data, metadata)),
    jupyter.clear_output_func = function(wait = TRUE) invisible(clear(isTRUE(wait))),
    jupyter.in_kernel = TRUE,
    jupyter.rich_display = TRUE,
    pager = .pager,
    help_type = "text")
  tools::Rd2txt_options(underline_titles = FALSE)  # text help without _\b overstrikes
  assign("View", function(x, title) invisible(show_table(x)), envir = tools_env())
  invisible()
}

.rich_out <- new.env()

# R's pager (file.show: ??topic, help(package = ...), text help): the files'
# text, without overstrikes, through IPython's pager.
.pager <- function(files, header = "", title = "", delete.file = FALSE) {
  text <- unlist(lapply(seq_along(files), function(i) {
    c(if (nzchar(header[i] %||% "")) header[i], readLines(files[i], warn = FALSE, encoding = "UTF-8"))
  }))
  if (isTRUE(delete.file)) unlink(files)
  text <- gsub(".\b", "", c(if (nzchar(title)) title, text), useBytes = FALSE)
  .rich_out$page(list("text/plain" = paste(text, collapse = "\n")))
  invisible()
}

`%||%` <- function(a, b) if (is.null(a) || is.na(a)) b else a

# How a visible value is shown: list(show = "table", ...) for a data.frame,
# tibble or matrix; list(show = "page"|"display", data, metadata) for help
# pages and values with a rich representation (htmlwidgets, HTML tags,
# classes that packages gave repr methods); NULL: R's own print.
display_plan <- function(x, max_rows, max_cols) {
  table <- table_preview(x, max_rows, max_cols)
  if (!is.null(table)) return(c(show = "table", table))
  if (inherits(x, "help_files_with_topic")) return(help_page(x))
  if (.has_rich_repr(x)) {
    bundle <- IRdisplay::prepare_mimebundle(x, error_handler = function(e) NULL)
    if (inherits(x, c("htmlwidget", "shiny.tag", "shiny.tag.list"))) bundle$data[["text/html"]] <- html_inline(x)
    if (length(bundle$data)) {
      return(list(show = if (inherits(x, "packageIQR")) "page" else "display",
                  data = bundle$data, metadata = bundle$metadata))
    }
  }
  NULL
}

.RICH_CLASSES <- c("htmlwidget", "shiny.tag", "shiny.tag.list", "html", "packageIQR")
.REPR_GENERICS <- c("repr_html", "repr_markdown", "repr_latex", "repr_svg", "repr_png",
                    "repr_jpg", "repr_json", "repr_javascript", "repr_pdf")

# Whether IRkernel would show `x` richly and we should too: one of the
# classes repr renders for the notebook, or a class a package (not repr
# itself, whose methods for plain vectors and lists R's print does better
# here) gave a repr method. Plain vectors never ask.
.has_rich_repr <- function(x) {
  if (is.null(attr(x, "class")) || !requireNamespace("IRdisplay", quietly = TRUE)) return(FALSE)
  if (inherits(x, .RICH_CLASSES)) return(TRUE)
  if (!isNamespaceLoaded("repr")) return(FALSE)
  repr_ns <- asNamespace("repr")
  for (cls in class(x)) for (generic in .REPR_GENERICS) {
    method <- utils::getS3method(generic, cls, optional = TRUE)
    if (!is.null(method) && !identical(environment(method), repr_ns)) return(TRUE)
  }
  FALSE
}

# A help page (?topic, help(topic)) as R renders it: HTML whose links are
# inert (they would point at R's help server, which a notebook has not), and
# text. NULL when nothing was found: R's print says so.
help_page <- function(x) {
  paths <- as.character(x)
  if (!length(paths)) return(NULL)
  file <- paths[[1L]]
  package <- basename(dirname(dirname(file)))
  rd <- utils:::.getHelpFile(file)
  html <- utils::capture.output(tools::Rd2HTML(rd, package = package, no_links = TRUE, outputEncoding = "UTF-8"))
  body <- grep("<body", html, fixed = TRUE)[1L]
  end <- utils::tail(grep("</body>", html, fixed = TRUE), 1L)
  if (!is.na(body) && length(end)) {  # the page's body: no head, no stylesheet link to R's help server
    html <- html[seq.int(body, end)]
    html[1L] <- sub(".*<body[^>]*>", "", html[1L])
    html[length(html)] <- sub("</body>.*", "", html[length(html)])
  }
  text <- utils::capture.output(tools::Rd2txt(rd, package = package, outputEncoding = "UTF-8",
                                              options = list(underline_titles = FALSE)))
  others <- if (length(paths) > 1L) {
    sprintf("(also in: %s)", paste(basename(dirname(dirname(paths[-1L]))), collapse = ", "))
  }
  list(show = "page", data = list(
    "text/html" = paste(c("<div class=\"rmagic-help\">", if (length(others)) sprintf("<p>%s</p>", others),
                          html, "</div>"), collapse = "\n"),
    "text/plain" = paste(c(others, text), collapse = "\n")))
}

# HTML tags or a widget as HTML that renders with no network and in order:
# each dependency's JavaScript and CSS inline. (repr's data: URIs load as
# asynchronous scripts where a front end inserts them, as JupyterLab does, so
# a widget's binding may run before htmlwidgets.js and never draw.)
html_inline <- function(x) {
  rendered <- htmltools::renderTags(x)
  deps <- htmltools::resolveDependencies(rendered$dependencies)
  paste(c(unlist(lapply(deps, .inline_dependency)), rendered$head, rendered$html), collapse = "\n")
}

.inline_dependency <- function(dep) {
  dir <- dep$src$file
  if (is.null(dir)) return(NULL)  # only on the web: nothing to include
  if (!is.null(dep$package)) dir <- system.file(dir, package = dep$package)
  read <- function(files) vapply(file.path(dir, files), function(f) {
    paste(readLines(f, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
  }, "")
  files <- function(entries) vapply(entries, function(e) if (is.list(e)) e$src else e, "")
  scripts <- if (length(dep$script)) read(files(dep$script)) else character()
  styles <- if (length(dep$stylesheet)) read(files(dep$stylesheet)) else character()
  c(sprintf("<style>%s</style>", styles),
    sprintf("<script>%s</script>", gsub("</script", "<\\/script", scripts, fixed = TRUE)))
}
