# Loaded by rmagic_ext/convert/sparse.py: R's Matrix package's sparse matrices.

# A dgCMatrix/dgRMatrix/dgTMatrix (lgC/lgR/lgT for logical values) from its
# slots; `index` is i (C, T) or j (R), `pointers` p (C, R) or j (T).
new_sparse <- function(layout, logical, index, pointers, x, dim, dimnames) {
  if (!requireNamespace("Matrix", quietly = TRUE)) {
    stop("scipy sparse matrices become Matrix objects: install R's Matrix package (Debian: r-cran-matrix)",
         call. = FALSE)
  }
  class <- paste0(if (logical) "lg" else "dg", layout, "Matrix")
  slots <- switch(layout,
    C = list(i = index, p = pointers),
    R = list(j = index, p = pointers),
    T = list(i = index, j = pointers))
  do.call(methods::new, c(list(class, x = x, Dim = dim, Dimnames = dimnames), slots))
}
