"""Whole vectors at memory speed, between numpy and R.

- Numbers: one ``memcpy`` into a fresh R vector whose pages are first marked
  for transparent huge pages (as numpy does for its own large arrays), so the
  copy is not dominated by page faults.
- Numbers back: a read-only numpy view of R's memory, which keeps the R object
  alive (and protected from R's garbage collector) as long as the view lives.
  R copies before modifying a vector that we have handed out (values reach
  Python through R lists, which mark them shared), so the view never changes.
- Strings: one joined buffer and one ``strsplit`` in R, instead of one R call
  per element; back, R's distinct values are pasted into one buffer and the
  column is rebuilt from codes.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np
import pandas as pd

_HUGE_PAGE = 2 * 1024 * 1024
_MADV_HUGEPAGE = 14
_SEPARATOR = "\x1f"  # ASCII unit separator; data containing it takes the slow path
MIN_BULK_STRINGS = 512  # below this, one call per element is cheaper than the helpers


def _madvise():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.madvise
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        return fn
    except (OSError, AttributeError):
        return None


_madvise_fn = _madvise() if os.uname().sysname == "Linux" else None


def _prefer_huge_pages(address: int, nbytes: int) -> None:
    if _madvise_fn is None or nbytes < 2 * _HUGE_PAGE:
        return
    start = (address + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1)
    end = (address + nbytes) & ~(_HUGE_PAGE - 1)
    if end > start:
        _madvise_fn(start, end - start, _MADV_HUGEPAGE)


def vector_from_array(vector_class, values: np.ndarray):
    """A new R vector of ``vector_class`` (rpy2's FloatSexpVector, ...) holding
    a copy of the contiguous array ``values`` (same item size as R's)."""
    from rpy2.rinterface_lib import openrlib
    from rpy2.rinterface_lib.conversion import _cdata_res_to_rinterface

    rlib, ffi = openrlib.rlib, openrlib.ffi
    n = values.size
    if n == 0:
        return vector_class([])

    wrap = _cdata_res_to_rinterface(lambda cdata: cdata)  # rpy2's own protection
    sexp = rlib.Rf_protect(rlib.Rf_allocVector(vector_class._R_TYPE, n))
    try:
        destination = vector_class._R_GET_PTR(sexp)
        _prefer_huge_pages(int(ffi.cast("uintptr_t", destination)), values.nbytes)
        ffi.memmove(destination, ffi.from_buffer(values), values.nbytes)
        return wrap(sexp)
    finally:
        rlib.Rf_unprotect(1)


class _RMemory:
    """Exposes an R vector's memory to numpy (read-only) and keeps it alive."""

    def __init__(self, sexp, dtype: np.dtype):
        self.sexp = sexp  # holds rpy2's protection of the R object
        probe = np.asarray(sexp.memoryview())
        self.__array_interface__ = {
            "shape": (len(sexp),), "typestr": np.dtype(dtype).str,
            "data": (probe.__array_interface__["data"][0], True), "version": 3,
        }


def array_view(sexp, dtype) -> np.ndarray:
    """A zero-copy, read-only numpy view of a numeric R vector."""
    if len(sexp) == 0:
        return np.array([], dtype=dtype)
    return np.asarray(_RMemory(sexp, dtype))


def raise_nul():
    from ..errors import ConversionError
    raise ConversionError("R strings cannot contain NUL characters ('\\x00'); "
                          "send such data as bytes (R raw vectors) instead")


def strings_to_r(values: np.ndarray, na: np.ndarray | None, helpers, ri):
    """A character vector from an object array of str (None/NaN/NA, or True
    in ``na``, are NA), or None when the data holds the separator and must go
    element by element.

    Columns with repeated values (the usual case: labels, categories, codes)
    go as their distinct values plus integer codes; mostly-distinct ones as
    one joined buffer that R splits."""
    if len(values) < MIN_BULK_STRINGS:
        return None
    if _mostly_distinct(values):
        return _joined_to_r(values, na, helpers, ri)
    codes, distinct = pd.factorize(values)  # NA -> -1
    joined = _join(distinct.tolist())
    if joined is None:
        return None
    if na is not None:
        codes[na] = -1
    codes = (codes + 1).astype(np.int32)
    codes[codes == 0] = np.iinfo(np.int32).min  # NA_integer_
    return helpers["expand_strings"](ri.StrSexpVector([joined]), len(distinct),
                                     vector_from_array(ri.IntSexpVector, codes))


def _mostly_distinct(values: np.ndarray, sample: int = 65536) -> bool:
    """Whether nearly every value differs (ids, free text), judged on an even
    sample; a column of 50k labels over 1M rows is not (about half distinct
    in the sample), a column of unique keys is."""
    picked = values[:: max(1, len(values) // sample)]
    return len(pd.unique(picked)) > 0.9 * len(picked)


def _join(items: list) -> str | None:
    joined = _SEPARATOR.join(items)
    if joined.count(_SEPARATOR) != len(items) - 1:
        return None
    if "\x00" in joined:
        raise_nul()
    return joined


def _joined_to_r(values: np.ndarray, na: np.ndarray | None, helpers, ri):
    if na is None:
        na = pd.isna(values)
    items = values.tolist()
    if na.any():
        items = ["" if missing else v for v, missing in zip(items, na)]
    joined = _join(items)
    if joined is None:
        return None
    na_positions = ri.IntSexpVector((np.flatnonzero(na) + 1).tolist()) if na.any() else ri.NULL
    return helpers["split_strings"](ri.StrSexpVector([joined]), len(items), na_positions)


def strings_from_r(sexp, helpers, ri) -> tuple[np.ndarray, np.ndarray] | None:
    """An object array of the strings of a character vector (None for NA)
    and the NA mask, or None when R could not join them safely (separator in
    the data, text that is not UTF-8): the caller then goes element by element."""
    if len(sexp) < MIN_BULK_STRINGS:
        return None
    res = helpers["join_strings"](sexp)
    if res is ri.NULL:
        return None
    parts = dict(zip(res.names, res))
    distinct = np.array(str(parts["joined"][0]).split(_SEPARATOR), dtype=object)
    if len(distinct) != int(parts["n_distinct"][0]):
        return None
    distinct_na = np.zeros(len(distinct), dtype=bool)
    if len(parts["na"]):
        distinct_na[np.asarray(parts["na"].memoryview(), dtype=np.int64) - 1] = True
        distinct[distinct_na] = None
    codes = np.asarray(parts["codes"].memoryview(), dtype=np.int32) - 1
    return distinct[codes], distinct_na[codes]
