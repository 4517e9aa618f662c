"""Rules for scipy's sparse matrices and R's Matrix package, both ways.

csc, csr and coo (arrays and matrices) become Matrix's dgCMatrix, dgRMatrix
and dgTMatrix (lgC/lgR/lgT for booleans), and those come back as scipy's
csc_array, csr_array and coo_array: the same values, exactly, and the same
shape. scipy matrices have no dimnames; R's come back in the array's
``dimnames`` attribute (a pair of lists, or None), and an array that has one
takes it back to R. Index and value buffers are copied once.

scipy is imported only when one of its values (or one of these R classes)
is seen; R's Matrix package is loaded only when a matrix is pushed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import ConversionError
from ..session import RCode
from . import vectors
from ._bulk import r_array
from ._rt import attr, python_strings, ri, strings
from .registry import default

_R = RCode("sparse.R")

_LAYOUTS = {"csc": "C", "csr": "R", "coo": "T"}


def sparse_to_r(matrix):
    layout = _LAYOUTS[matrix.format]
    if matrix.ndim != 2:
        raise ConversionError("only 2-D sparse arrays have a Matrix counterpart")
    kind = matrix.dtype.kind
    if kind not in "biuf":
        raise ConversionError(f"a sparse matrix of {matrix.dtype} has no Matrix counterpart (numbers or booleans)")
    logical = kind == "b"
    values = matrix.data
    x = vectors.bool_vector(values) if logical else vectors.float_vector(values.astype(np.float64, copy=False))
    if layout == "T":
        index, pointers = matrix.row, matrix.col
    else:
        index, pointers = matrix.indices, matrix.indptr
    return _R(
        "new_sparse",
        layout,
        logical,
        vectors.int_vector(index.astype(np.int64, copy=False)),
        vectors.int_vector(pointers.astype(np.int64, copy=False)),
        x,
        ri().IntSexpVector(list(matrix.shape)),
        _dimnames_to_r(getattr(matrix, "dimnames", None)),
    )


def _dimnames_to_r(dimnames):
    if dimnames is None:
        return ri().ListSexpVector([ri().NULL, ri().NULL])
    rows, cols = dimnames
    return ri().ListSexpVector(
        [ri().NULL if names is None else strings([str(n) for n in names]) for names in (rows, cols)]
    )


for _name in ("csc", "csr", "coo"):
    for _kind in ("array", "matrix"):
        default.py2r.register(f"scipy.sparse._{_name}.{_name}_{_kind}")(sparse_to_r)


def _slot(sexp, name) -> np.ndarray:
    return np.array(r_array(attr(sexp, name)))  # the one copy, out of R's memory


def _dimnames_from_r(sexp):
    dimnames = attr(sexp, "Dimnames")
    if dimnames is None:
        return None
    names = [None if part.typeof.name == "NILSXP" else python_strings(part)[0].tolist() for part in dimnames]
    return None if names == [None, None] else tuple(names)


def matrix_from_r(sexp, layout: str):
    from scipy import sparse

    shape = tuple(int(d) for d in r_array(attr(sexp, "Dim")))
    x = _slot(sexp, "x")
    x = x.astype(bool) if attr(sexp, "x").typeof.name == "LGLSXP" else x
    if layout == "C":
        result = sparse.csc_array((x, _slot(sexp, "i"), _slot(sexp, "p")), shape=shape)
    elif layout == "R":
        result = sparse.csr_array((x, _slot(sexp, "j"), _slot(sexp, "p")), shape=shape)
    else:
        result = sparse.coo_array((x, (_slot(sexp, "i"), _slot(sexp, "j"))), shape=shape)
    result.dimnames = _dimnames_from_r(sexp)
    return result


def _reader(layout: str) -> Callable[[Any], Any]:
    return lambda sexp: matrix_from_r(sexp, layout)


for _prefix in ("dg", "lg"):
    for _layout in ("C", "R", "T"):
        default.r2py.register(f"{_prefix}{_layout}Matrix")(_reader(_layout))
