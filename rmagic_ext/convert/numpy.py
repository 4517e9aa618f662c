"""Rules for numpy: arrays of any rank and numpy scalars to R, R's atomic
vectors and arrays back to numpy (length-1 vectors to Python scalars, unless
the conversion is shaped as arrays).

Whole arrays move in one pass (see _bulk.py), never element by element.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from .. import _rapi
from ..errors import ConversionError
from ._bulk import filled_vector, r_array, string_na
from ._rt import attr, python_strings, ri, set_attr, strings
from .builtins import int_fits_r, sequence_to_r, store_as_double
from .registry import as_arrays, default, r_typeof
from .settings import int64_mode

NA_INTEGER = _rapi.NA_INTEGER


def na_real_mask(values: np.ndarray) -> np.ndarray:
    """Where a float64 array holds R's NA_real_ (as opposed to a plain NaN)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    return np.isnan(values) & ((values.view(np.uint64) & 0xFFFFFFFF) == _rapi.NA_REAL_PAYLOAD)


# -- Python -> R ---------------------------------------------------------------

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


#: bit64's presence, once asked. How integers beyond R's integer range travel
#: (RMagics.int64) is settings.int64_mode(): "double" (exact to 2**53) or
#: "bit64" (bit64::integer64, exact, where R has bit64).
INT64: dict = {}
_NA_INTEGER64 = np.iinfo(np.int64).min  # bit64's NA


def _bit64_installed() -> bool:
    if "installed" not in INT64:
        INT64["installed"] = bool(ri().baseenv["requireNamespace"]("bit64", quietly=True)[0])
    return INT64["installed"]


def integer64_vector(values: np.ndarray, na: np.ndarray | None):
    """bit64's integer64: the int64 values' bits in a double vector, classed."""
    bits = values.astype(np.int64)  # a copy: NA positions are written into it
    if na is not None:
        bits[na] = _NA_INTEGER64
    vector = filled_vector(ri().FloatSexpVector, bits.view(np.float64))
    set_attr(vector, "class", strings(["integer64"]))
    return vector


def integer64_values(sexp) -> tuple[np.ndarray, np.ndarray]:
    """The int64 values of a bit64::integer64 vector (a copy) and its NA mask."""
    values = np.array(r_array(sexp)).view(np.int64)
    return values, values == _NA_INTEGER64


@default.r2py.register("integer64")
def integer64_to_py(sexp):
    """bit64::integer64 back as int64 (exact), NA as a masked value; a
    Python int at length 1 in the Python shape."""
    values, na = integer64_values(sexp)
    if len(values) == 1 and not as_arrays():
        return None if na[0] else int(values[0])
    return with_na(values, na if na.any() else None)


def fits_r_integer(values: np.ndarray) -> bool:
    """Whether every integer of ``values`` is in R's integer range."""
    return not values.size or (int_fits_r(int(values.min())) and int_fits_r(int(values.max())))


def plain_vector_type(array: np.ndarray) -> str | None:
    """The R type ("double", "integer" or "logical") of the vector that
    :func:`ndarray_to_r` makes of ``array`` when that is a plain vector
    written in one copy (a non-empty 1-D array of floats, booleans, or
    integers within R's range); None for everything else."""
    if array.ndim != 1 or not len(array):
        return None
    kind = array.dtype.kind
    if kind == "f":
        return "double"
    if kind == "b":
        return "logical"
    if kind in "iu" and fits_r_integer(array):
        return "integer"
    return None


def bool_vector(values: np.ndarray, na: np.ndarray | None = None):
    return filled_vector(ri().BoolSexpVector, values, na, NA_INTEGER)


def str_vector(values, na: np.ndarray | None = None):
    return strings(values, na)


def vector(values: np.ndarray, what: str = "array"):
    """The R atomic vector for a 1-D numpy array, chosen by dtype."""
    kind = values.dtype.kind
    if kind == "f":
        return float_vector(values)
    if kind in "iu":
        return int_vector(values, what=what)
    if kind == "b":
        return bool_vector(values)
    if kind == "c":
        return ri().ComplexSexpVector(list(values.astype(np.complex128)))
    if kind == "U":
        return str_vector(values.astype(str))
    if kind == "S":
        return str_vector(decoded_bytes(values, what))
    if kind in "Mm":
        from . import datetimes  # datetimes builds on this module
        if kind == "M":
            return datetimes.datetime64_array_to_r(values, what)
        return datetimes.difftime(values, what)
    if kind == "O":
        return object_vector(values, what)
    raise ConversionError(f"{what} of dtype {values.dtype} has no R counterpart")


def decoded_bytes(values: np.ndarray, what: str) -> np.ndarray:
    """A bytes array (dtype S) as an object array of str: R's character
    vectors hold text, so bytes that are not UTF-8 are a clear error."""
    try:
        return np.char.decode(values, "utf-8").astype(object)
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{what} of dtype {values.dtype} holds bytes that are not UTF-8 text "
                              f"({exc.object[:20]!r}); decode them, or send each one as bytes") from None


def object_vector(values: np.ndarray, what: str):
    """An object array holds str (missing values are NA) or, failing that, is an R list."""
    all_str, na = string_na(values)
    if all_str:
        return str_vector(values, na)
    return sequence_to_r(values.tolist() if na is None else [None if m else v for v, m in zip(values, na)])


@default.py2r.register(np.ndarray)
def ndarray_to_r(array: np.ndarray):
    if array.dtype.names is not None:
        return structured_to_r(array)
    if array.ndim == 1:
        return vector(array)
    flat = vector(array.ravel(order="F"))  # R stores arrays column-major
    set_attr(flat, "dim", ri().IntSexpVector(list(array.shape)))
    return flat


@default.py2r.register(np.generic)
def numpy_scalar_to_r(value: np.generic):
    if isinstance(value, (np.datetime64, np.timedelta64)) and np.datetime_data(value.dtype)[0] == "generic":
        value = value.astype(f"{value.dtype.name}[s]")  # a bare NaT has no unit
    return vector(np.asarray(value).reshape(1))


def structured_to_r(array: np.ndarray):
    """A structured (or record) array is a table, as rpy2 has it: a
    data.frame with one column per field; bytes fields become character."""
    from .pandas import dataframe_to_r  # pandas builds on this module
    if array.ndim != 1:
        raise ConversionError(f"a structured array of shape {array.shape} has no data.frame counterpart "
                              "(only 1-D ones are tables)")
    columns = {}
    for name in array.dtype.names:
        field = np.asarray(array[name])
        if field.ndim != 1:
            raise ConversionError(f"field {name!r} of a structured array holds sub-arrays: no R column can")
        columns[name] = decoded_bytes(field, f"field {name!r}") if field.dtype.kind == "S" else field
    return dataframe_to_r(pd.DataFrame(columns))


@default.py2r.register(np.ma.MaskedArray)
def masked_array_to_r(array: np.ma.MaskedArray):
    """Masked positions are NA (R->Python gives masked arrays for NA)."""
    mask = np.ma.getmaskarray(array)
    data = np.ma.getdata(array)
    if not mask.any():
        return ndarray_to_r(data)
    flat, flat_mask = data.ravel(order="F"), mask.ravel(order="F")
    kind = flat.dtype.kind
    if kind == "f":
        rvector = float_vector(flat, flat_mask)
    elif kind in "iu":
        rvector = int_vector(np.where(flat_mask, 0, flat), flat_mask, "masked array")
    elif kind == "b":
        rvector = bool_vector(flat, flat_mask)
    else:  # strings, objects, dates: NA through the object path
        values = flat.astype(object)
        values[flat_mask] = None
        rvector = vector(values, "masked array")
    if array.ndim != 1:
        set_attr(rvector, "dim", ri().IntSexpVector(list(array.shape)))
    return rvector


# -- R -> Python ---------------------------------------------------------------

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


_EMPTY_DTYPES = {"double": np.float64, "integer": np.int64, "logical": np.bool_,
                 "complex": np.complex128}


def with_na(values: np.ndarray, na: np.ndarray | None):
    """numpy has no NA for int and bool: such arrays become masked arrays."""
    if na is None:
        return values
    if values.dtype.kind == "f":
        return values  # NA_real_ is already a NaN
    if values.dtype == object:
        return values  # None marks NA
    return np.ma.MaskedArray(values, mask=na)


def atomic_to_py(sexp):
    """Vectors with ``dim`` become ndarrays of that shape. Shaped as arrays
    (registry.shaped), every other vector is a 1-D ndarray, names dropped.
    Shaped for Python, length-1 plain vectors are scalars (NA: None), named
    vectors Series indexed by their names, the others ndarrays."""
    dim, names = attr(sexp, "dim"), attr(sexp, "names")
    if names is not None and dim is None and not as_arrays():
        from .pandas import named_vector_to_series  # pandas builds on this module
        return named_vector_to_series(sexp, names)
    values, na = numpy_values(sexp)
    if dim is not None:
        shape = tuple(int(d) for d in dim)
        return with_na(values, na).reshape(shape, order="F")
    if len(values) == 1 and not sexp.list_attrs() and not as_arrays():
        value = values[0]
        if na is not None or (values.dtype.kind == "f" and na_real_mask(values)[0]):
            return None
        return value.item() if isinstance(value, np.generic) else value
    return with_na(values, na)


for _rtype in ("logical", "integer", "double", "complex", "character"):
    default.r2py.register(_rtype)(atomic_to_py)
