"""R vectors by R type, made from plain numpy buffers, and read back into
them: the floor every library's rules build on (see ARCHITECTURE.md).

Builders take values and an NA mask (or codes and levels) and give an rpy2
object; readers take an R object and give numpy values and an NA mask.
Nothing here knows pandas, Arrow or any other library's types: each library
module (numpy, pandas, arrow, sparse, labelled) turns its columns into
buffers and calls down. R's dates and times are datetimes.py's, beside
this module.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _rapi
from ..errors import ConversionError, ConversionWarning
from ._bulk import filled_vector, new_vector, r_array
from ._rt import attr, python_strings, ri, set_attr, strings
from .registry import r_typeof
from .settings import int64_mode

NA_INTEGER = _rapi.NA_INTEGER
R_INT_MAX = 2**31 - 1  # -2**31 is NA_integer_, so R's range is symmetric
EXACT_DOUBLE = 2**53
_NA_INTEGER64 = np.iinfo(np.int64).min  # bit64's NA


def int_fits_r(value: int) -> bool:
    return -R_INT_MAX <= value <= R_INT_MAX


def fits_r_integer(values: np.ndarray) -> bool:
    """Whether every integer of ``values`` is in R's integer range."""
    return not values.size or (int_fits_r(int(values.min())) and int_fits_r(int(values.max())))


def store_as_double(low: int, high: int, what: str, stacklevel: int) -> None:
    """Integers from ``low`` to ``high``, some outside R's integer range, go to
    R as doubles: exact up to 2**53 (said once, in a warning), an error beyond."""
    if low < -EXACT_DOUBLE or high > EXACT_DOUBLE:
        extreme = low if -low > high else high
        raise ConversionError(
            f"{what} holds the integer {extreme}: too large for R's integer and not exact as a double (|x| > 2**53)"
        )
    warnings.warn(
        f"{what}: integers beyond R's integer range are stored as double (exact)",
        ConversionWarning,
        stacklevel=stacklevel + 1,
    )


def na_real_mask(values: np.ndarray) -> np.ndarray:
    """Where a float64 array holds R's NA_real_ (as opposed to a plain NaN)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    return np.isnan(values) & ((values.view(np.uint64) & 0xFFFFFFFF) == _rapi.NA_REAL_PAYLOAD)


# -- builders --------------------------------------------------------------------------


def float_vector(values: np.ndarray, na: np.ndarray | None = None):
    return filled_vector(ri().FloatSexpVector, values, na, float(ri().NA_Real))


def int_vector(values: np.ndarray, na: np.ndarray | None = None, what: str = "array"):
    """An R integer vector; when values leave R's integer range, a
    bit64::integer64 one (exact) with ``RMagics.int64 = "bit64"``, else a
    double one (exact up to 2**53, an error beyond). NA positions become NA."""
    present = values if na is None or not na.any() else values[~na]
    if not fits_r_integer(present):
        if int64_mode() == "bit64" and _bit64_installed():
            return integer64_vector(values, na)
        store_as_double(int(present.min()), int(present.max()), what, stacklevel=3)
        return float_vector(values, na)
    return filled_vector(ri().IntSexpVector, values, na, NA_INTEGER)


def bool_vector(values: np.ndarray, na: np.ndarray | None = None):
    return filled_vector(ri().BoolSexpVector, values, na, NA_INTEGER)


def str_vector(values, na: np.ndarray | None = None):
    return strings(values, na)


def complex_vector(values: np.ndarray):
    return ri().ComplexSexpVector(list(values.astype(np.complex128)))


#: bit64's presence, once asked.
_BIT64: dict = {}


def _bit64_installed() -> bool:
    if "installed" not in _BIT64:
        _BIT64["installed"] = bool(ri().baseenv["requireNamespace"]("bit64", quietly=True)[0])
    return _BIT64["installed"]


def integer64_vector(values: np.ndarray, na: np.ndarray | None):
    """bit64's integer64: the int64 values' bits in a double vector, classed."""
    bits = values.astype(np.int64)  # a copy: NA positions are written into it
    if na is not None:
        bits[na] = _NA_INTEGER64
    vector = filled_vector(ri().FloatSexpVector, bits.view(np.float64))
    set_attr(vector, "class", strings(["integer64"]))
    return vector


def factor_vector(codes: np.ndarray, levels, ordered: bool):
    """A factor from 0-based ``codes`` (negative for NA) and its levels (str)."""
    vector, view = new_vector(ri().IntSexpVector, len(codes))
    np.add(codes, 1, out=view, casting="unsafe")  # R counts levels from 1
    if len(codes) and codes.min() < 0:
        view[codes < 0] = NA_INTEGER
    set_attr(vector, "levels", strings(np.asarray(levels, dtype=object)))
    set_attr(vector, "class", strings(["ordered", "factor"] if ordered else ["factor"]))
    return vector


def automatic_row_names(n: int):
    """R's compact row names 1..n."""
    return ri().IntSexpVector([ri().NA_Integer, -n])


def data_frame(names: list[str], columns: list, row_names=None, nrow: int = 0):
    """A data.frame of R ``columns`` under ``names``; ``row_names`` an R
    vector, or R's automatic 1..``nrow``."""
    rframe = ri().ListSexpVector(columns)
    set_attr(rframe, "names", strings(names))
    set_attr(rframe, "class", strings(["data.frame"]))
    set_attr(rframe, "row.names", row_names if row_names is not None else automatic_row_names(nrow))
    return rframe


# -- readers --------------------------------------------------------------------------

_EMPTY_DTYPES = {"double": np.float64, "integer": np.int64, "logical": np.bool_, "complex": np.complex128}


def numpy_values(sexp) -> tuple[np.ndarray, np.ndarray | None]:
    """The values of an R atomic vector in numpy, and its NA mask (None when
    there is no NA). Doubles are a zero-copy, read-only view of R's memory in
    which NA_real_ reads as NaN (so no mask); the other types are copies."""
    kind = r_typeof(sexp)
    if len(sexp) == 0:
        return np.array([], dtype=_EMPTY_DTYPES.get(kind, object)), None
    if kind == "double":
        return r_array(sexp), None
    if kind in ("integer", "logical"):
        raw = r_array(sexp)
        na = raw == NA_INTEGER
        values = raw.astype(np.int64 if kind == "integer" else np.bool_)
        return values, (na if na.any() else None)
    if kind == "character":
        values, na = python_strings(sexp)
        return values, (na if na.any() else None)
    if kind == "complex":
        return np.array(list(sexp), dtype=np.complex128), None
    raise ConversionError(f"an R {kind} vector is not atomic data")


def with_na(values: np.ndarray, na: np.ndarray | None):
    """numpy has no NA for int and bool: such arrays become masked arrays."""
    if na is None:
        return values
    if values.dtype.kind == "f":
        return values  # NA_real_ is already a NaN
    if values.dtype == object:
        return values  # None marks NA
    return np.ma.MaskedArray(values, mask=na)


def integer64_values(sexp) -> tuple[np.ndarray, np.ndarray]:
    """The int64 values of a bit64::integer64 vector (a copy) and its NA mask."""
    values = np.array(r_array(sexp)).view(np.int64)
    return values, values == _NA_INTEGER64


def factor_parts(sexp) -> tuple[np.ndarray, np.ndarray, bool]:
    """A factor's 0-based codes (-1 for NA), its levels (object array of str)
    and whether it is ordered; an invalid factor is a clear error."""
    codes = r_array(sexp).astype(np.int64) - 1
    codes[codes < 0] = -1  # NA_integer_ - 1 wraps far below zero
    levels = attr(sexp, "levels")
    categories = python_strings(levels)[0] if levels is not None else np.array([], dtype=object)
    if len(codes) and codes.max() >= len(categories):
        raise ConversionError(
            f"an R factor has codes up to {codes.max() + 1} but {len(categories)} levels: "
            "it is not a valid factor (see levels(x))"
        )
    classes = attr(sexp, "class")
    return codes, categories, classes is not None and "ordered" in python_strings(classes)[0]


def frame_columns(rframe) -> tuple[list[str], list]:
    """A data.frame's column names and its columns (rpy2 objects)."""
    names_attr = attr(rframe, "names")
    names = python_strings(names_attr)[0].tolist() if names_attr is not None else []
    return names, list(rframe)


def frame_rows(rframe) -> tuple[int, np.ndarray | None]:
    """A data.frame's number of rows and its row names: None when they are
    R's automatic 1..n, else int64 or str values."""
    n = ri().baseenv[".row_names_info"](rframe, 1)[0]  # negative when automatic
    row_names = attr(rframe, "row.names")
    if n < 0 or row_names is None or not len(row_names):
        return abs(n), None
    if r_typeof(row_names) == "integer":
        return len(row_names), numpy_values(row_names)[0]
    return len(row_names), python_strings(row_names)[0]
