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

