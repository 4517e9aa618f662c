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
  if (inherits(x, "tbl_df")) {  # tibble's print cuts itself, its caption stating the whole size
    return(paste(utils::capture.output(print(x, n = max_rows)), collapse = "\n"))
  }
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

# How warnings read (session.R's on_warning and print_warnings ask).
set_warning_style <- function(style) {
  options(rmagic_ext.warnings = style)
  invisible()
}

# R's pager (file.show: ??topic, help(package = ...), text help): the files'
# text, without overstrikes, through IPython's pager.
# R calls the pager with these argument names (delete.file included).
.pager <- function(files, header = "", title = "", delete.file = FALSE) {  # nolint: object_name_linter.
  text <- unlist(lapply(seq_along(files), function(i) {
    c(if (nzchar(header[i] %||% "")) header[i], readLines(files[i], warn = FALSE, encoding = "UTF-8"))
  }))
  if (isTRUE(delete.file)) unlink(files)
  text <- gsub(".\b", "", c(if (nzchar(title)) title, text), useBytes = FALSE)
  .rich_out$page(list("text/plain" = paste(text, collapse = "\n")))
  invisible()
}

`%||%` <- function(a, b) if (is.null(a) || is.na(a)) b else a

# How a visible value is shown, as IRkernel decides it:
# - help pages (?topic) go to the pager;
# - options(jupyter.rich_display = FALSE): text/plain alone for whatever
#   would be rich (plain vectors keep R's print unless `rich_vectors`);
# - the repr methods of the user's classes (in the global environment or a
#   package; repr's own defaults aside) give the bundle: IRdisplay's, with
#   its precedence and full-page HTML isolated;
# - a data.frame, tibble or matrix is a table (list(show = "table", ...)),
#   with repr's LaTeX and markdown beside it where repr is installed;
# - htmlwidgets, HTML tags and other classes repr renders for the notebook;
# - with `rich_vectors`, plain vectors and lists as IRkernel sends them
#   (HTML, LaTeX and markdown lists);
# NULL: R's own print.
display_plan <- function(x, max_rows, max_cols, rich_vectors = FALSE) {
  if (inherits(x, "help_files_with_topic")) return(help_page(x))
  rich <- isTRUE(getOption("jupyter.rich_display", TRUE))
  if (!rich) return(if (.would_be_rich(x, rich_vectors)) .text_only(x))
  if (.has_own_repr(x)) return(own_repr_plan(x))
  table <- table_preview(x, max_rows, max_cols)
  if (!is.null(table)) return(c(show = "table", table, .table_extras(x)))
  if (.has_rich_repr(x) || (rich_vectors && .is_plain_vector(x) && requireNamespace("IRdisplay", quietly = TRUE))) {
    bundle <- .bundle(x)
    if (inherits(x, c("htmlwidget", "shiny.tag", "shiny.tag.list"))) bundle$data[["text/html"]] <- html_inline(x)
    if (length(bundle$data)) {
      return(list(show = if (inherits(x, "packageIQR")) "page" else "display",
                  data = bundle$data, metadata = bundle$metadata))
    }
  }
  NULL
}

.rich_classes <- c("htmlwidget", "shiny.tag", "shiny.tag.list", "html", "packageIQR")
.repr_generics <- c("repr_html", "repr_markdown", "repr_latex", "repr_json", "repr_javascript",
                    "repr_png", "repr_jpg", "repr_svg", "repr_pdf")
.repr_mimes <- c(repr_html = "text/html", repr_markdown = "text/markdown", repr_latex = "text/latex",
                 repr_json = "application/json", repr_javascript = "application/javascript",
                 repr_png = "image/png", repr_jpg = "image/jpeg", repr_svg = "image/svg+xml",
                 repr_pdf = "application/pdf")

.is_plain_vector <- function(x) {
  (is.atomic(x) && !is.null(x) && is.null(dim(x)) && (is.null(attr(x, "class")) || is.factor(x))) ||
    (is.list(x) && is.null(attr(x, "class")))
}

.would_be_rich <- function(x, rich_vectors) {
  .has_own_repr(x) || !is.null(table_preview(x, 1L, 1L)) || .has_rich_repr(x) ||
    (rich_vectors && .is_plain_vector(x))
}

# What IRkernel sends with options(jupyter.rich_display = FALSE).
.text_only <- function(x) {
  list(show = "display", data = list("text/plain" = paste(utils::capture.output(print(x)), collapse = "\n")),
       metadata = NULL)
}

# The user's own repr methods for x's classes: defined in a cell or an
# attached package (found from the global environment, as S3 dispatch from
# repr's generics finds them), or registered by a package; repr's own
# defaults aside. (getS3method would need repr's generics on the search path.)
.own_repr_methods <- function(x) {
  classes <- attr(x, "class")
  if (is.null(classes)) return(list())
  repr_ns <- if (isNamespaceLoaded("repr")) asNamespace("repr")
  registered <- if (!is.null(repr_ns)) repr_ns[[".__S3MethodsTable__."]]
  found <- list()
  for (generic in .repr_generics) for (cls in classes) {
    name <- paste0(generic, ".", cls)
    method <- get0(name, envir = globalenv(), mode = "function")  # a cell's, or an attached package's
    if (is.null(method) && !is.null(registered)) method <- get0(name, envir = registered, inherits = FALSE)
    if (!is.null(method) && !identical(environment(method), repr_ns)) {
      found[[generic]] <- method
      break
    }
  }
  found
}

.has_own_repr <- function(x) length(.own_repr_methods(x)) > 0L

# The bundle of a value with repr methods of its own: IRdisplay's (every
# mimetype IRkernel sends, full-page HTML isolated) where it is installed,
# else the methods called here. A method that fails is one line on stderr,
# and the value is printed as R prints it.
own_repr_plan <- function(x) {
  failed <- NULL
  note <- function(e) failed <<- conditionMessage(e)
  bundle <- if (requireNamespace("IRdisplay", quietly = TRUE)) {
    IRdisplay::prepare_mimebundle(x, error_handler = function(e) {
      note(e)
      NULL
    })
  } else {
    .bundle_by_hand(x, note)
  }
  if (!is.null(failed)) {
    cat(sprintf("rmagic_ext: a repr method of class '%s' failed (%s): shown as R prints it\n",
                class(x)[1L], gsub("\n", " ", failed)), file = stderr())
    return(NULL)
  }
  if (!length(bundle$data)) return(NULL)
  list(show = "display", data = bundle$data, metadata = bundle$metadata)
}

.bundle_by_hand <- function(x, on_error) {
  data <- list("text/plain" = paste(utils::capture.output(print(x)), collapse = "\n"))
  metadata <- list()
  for (generic in names(methods <- .own_repr_methods(x))) {
    value <- tryCatch(methods[[generic]](x), error = function(e) {
      on_error(e)
      NULL
    })
    if (is.null(value)) next
    mime <- .repr_mimes[[generic]]
    data[[mime]] <- if (is.raw(value)) value else paste(value, collapse = "\n")
    if (mime == "text/html" && grepl("^\\s*<html", data[[mime]], ignore.case = TRUE)) {
      metadata[[mime]] <- list(isolated = TRUE)
    }
  }
  list(data = data, metadata = if (length(metadata)) metadata)
}

.bundle <- function(x) IRdisplay::prepare_mimebundle(x, error_handler = function(e) NULL)

# repr's LaTeX and markdown of a table (within repr.matrix.max.rows and
# .cols), as IRkernel sends them for nbconvert's PDF and Markdown exports.
.table_extras <- function(x) {
  if (!requireNamespace("repr", quietly = TRUE)) return(list())
  one <- function(f) tryCatch(paste(f(x), collapse = "\n"), error = function(e) NULL)
  Filter(Negate(is.null), list(latex = one(repr::repr_latex), markdown = one(repr::repr_markdown)))
}

# Whether IRkernel would show `x` richly and we should too: one of the
# classes repr renders for the notebook, or a class a package (not repr
# itself, whose methods for plain vectors and lists R's print does better
# here) gave a repr method. Plain vectors never ask.
.has_rich_repr <- function(x) {
  if (is.null(attr(x, "class")) || !requireNamespace("IRdisplay", quietly = TRUE)) return(FALSE)
  if (inherits(x, .rich_classes)) return(TRUE)
  if (!isNamespaceLoaded("repr")) return(FALSE)
  repr_ns <- asNamespace("repr")
  for (cls in class(x)) for (generic in .repr_generics) {
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
  read <- function(files) {
    text <- function(f) paste(readLines(f, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
    vapply(file.path(dir, files), text, "")
  }
  files <- function(entries) vapply(entries, function(e) if (is.list(e)) e$src else e, "")
  scripts <- if (length(dep$script)) read(files(dep$script)) else character()
  styles <- if (length(dep$stylesheet)) read(files(dep$stylesheet)) else character()
  c(sprintf("<style>%s</style>", styles),
    sprintf("<script>%s</script>", gsub("</script", "<\\/script", scripts, fixed = TRUE)))
}
