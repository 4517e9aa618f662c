"""Rules for numpy: arrays of any rank and numpy scalars to R, R's atomic
vectors and arrays back to numpy (length-1 vectors to Python scalars, unless
the conversion is shaped as arrays).

Whole arrays move in one pass (see _bulk.py), never element by element.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConversionError
from . import datetimes
from ._bulk import none_where, string_na
from ._rt import attr, ri, set_attr
from .registry import as_arrays, default, to_r
from .vectors import (
    bool_vector,
    complex_vector,
    data_frame,
    fits_r_integer,
    float_vector,
    int_vector,
    integer64_values,
    na_real_mask,
    numpy_values,
    str_vector,
    with_na,
)

# -- Python -> R ---------------------------------------------------------------


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
        return complex_vector(values)
    if kind == "U":
        return str_vector(values.astype(str))
    if kind == "S":
        return str_vector(decoded_bytes(values, what))
    if kind in "Mm":
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
        raise ConversionError(
            f"{what} of dtype {values.dtype} holds bytes that are not UTF-8 text "
            f"({exc.object[:20]!r}); decode them, or send each one as bytes"
        ) from None


def object_vector(values: np.ndarray, what: str):
    """An object array holds str (missing values are NA) or, failing that, is an R list."""
    all_str, na = string_na(values)
    if all_str:
        return str_vector(values, na)
    return to_r(values.tolist() if na is None else [None if m else v for v, m in zip(values, na)])


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
    if array.ndim != 1:
        raise ConversionError(
            f"a structured array of shape {array.shape} has no data.frame counterpart (only 1-D ones are tables)"
        )
    names, columns = list(array.dtype.names or ()), []
    for name in names:
        field = np.asarray(array[name])
        if field.ndim != 1:
            raise ConversionError(f"field {name!r} of a structured array holds sub-arrays: no R column can")
        columns.append(
            vector(decoded_bytes(field, f"field {name!r}") if field.dtype.kind == "S" else field, f"field {name!r}")
        )
    return data_frame(names, columns, nrow=len(array))


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
        rvector = vector(none_where(flat_mask, flat), "masked array")
    if array.ndim != 1:
        set_attr(rvector, "dim", ri().IntSexpVector(list(array.shape)))
    return rvector


# -- R -> Python ---------------------------------------------------------------


@default.r2py.register("integer64")
def integer64_to_py(sexp):
    """bit64::integer64 back as int64 (exact), NA as a masked value; a
    Python int at length 1 in the Python shape."""
    values, na = integer64_values(sexp)
    if len(values) == 1 and not as_arrays():
        return None if na[0] else int(values[0])
    return with_na(values, na if na.any() else None)


def atomic_to_py(sexp):
    """Vectors with ``dim`` become ndarrays of that shape (their dimnames,
    if any, are labelled.py's to keep or drop). Shaped as arrays
    (registry.shaped), every other vector is a 1-D ndarray, names dropped;
    shaped for Python, length-1 plain vectors are scalars (NA: None), the
    others ndarrays (named ones are pandas Series: labelled.py)."""
    dim = attr(sexp, "dim")
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
