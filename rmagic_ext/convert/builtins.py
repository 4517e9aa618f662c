"""Rules for Python's built-in types: None, scalars, lists, tuples, dicts."""

from __future__ import annotations

import numpy as np

from ..errors import ConversionError
from ._rt import attr, python_strings, ri, set_attr, strings
from .registry import active, default, to_py, to_r
from .vectors import int_fits_r, store_as_double


@default.py2r.register(type(None))
def none_to_r(value):
    return ri().NULL


@default.py2r.register(bool)
def bool_to_r(value):
    return ri().BoolSexpVector([value])


@default.py2r.register(int)
def int_to_r(value):
    if int_fits_r(value):
        return ri().IntSexpVector([value])
    store_as_double(value, value, f"int {value}", stacklevel=2)
    return ri().FloatSexpVector([float(value)])


@default.py2r.register(float)
def float_to_r(value):
    return ri().FloatSexpVector([value])


@default.py2r.register(complex)
def complex_to_r(value):
    return ri().ComplexSexpVector([value])


@default.py2r.register(str)
def str_to_r(value):
    return strings([value])


@default.py2r.register(bytes)
def bytes_to_r(value):
    return ri().ByteSexpVector(value)


def _scalar_kind(values) -> type | None:
    """The one R atomic type a list of scalars (None for NA) maps to, or None
    when the list is mixed and must become an R list. numpy scalars count as
    the Python scalars they stand for."""
    kinds = {_SCALAR_OF.get(type(v), type(v)) for v in values if v is not None}
    if kinds == {bool} or kinds == {str} or kinds == {complex}:
        return kinds.pop()
    if kinds and kinds <= {int, float}:
        if kinds == {int} and all(int_fits_r(v) for v in values if v is not None):
            return int
        return float
    return None


_SCALAR_OF = {
    np.float64: float,
    np.float32: float,
    np.int64: int,
    np.int32: int,
    np.int16: int,
    np.int8: int,
    np.uint8: int,
    np.uint16: int,
    np.uint32: int,
    np.bool_: bool,
    np.str_: str,
}


def _atomic_vector(values, kind):
    r = ri()
    values = [None if v is None else kind(v) for v in values]
    if kind is str:
        return strings(values)
    if kind is bool:
        return r.BoolSexpVector([r.NA_Logical if v is None else v for v in values])
    if kind is int:
        return r.IntSexpVector([r.NA_Integer if v is None else v for v in values])
    if kind is complex:
        return r.ComplexSexpVector([r.NA_Complex if v is None else v for v in values])
    big = [v for v in values if type(v) is int and not int_fits_r(v)]
    if big:
        store_as_double(min(big), max(big), "list", stacklevel=3)
    return r.FloatSexpVector([r.NA_Real if v is None else float(v) for v in values])


_SCALAR_RULES = {bool: bool_to_r, int: int_to_r, float: float_to_r, complex: complex_to_r, str: str_to_r}


@default.py2r.register(list)
@default.py2r.register(tuple)
def sequence_to_r(values):
    """A list of one scalar type is an atomic vector (None is NA); anything
    else is an R list of converted elements."""
    kind = _scalar_kind(values)
    if kind is not None and _uses_builtin_rule(kind):
        return _atomic_vector(values, kind)
    return ri().ListSexpVector([to_r(v) for v in values])


def _uses_builtin_rule(kind: type) -> bool:
    """Whether the converting converter leaves ``kind`` to the rules here; a
    user's own rule for str or int must see every element, not a fast path."""
    return active().find_py2r(kind) is _SCALAR_RULES[kind]


@default.py2r.register(dict)
def dict_to_r(mapping):
    rlist = ri().ListSexpVector([to_r(v) for v in mapping.values()])
    keys = list(mapping)
    if not all(isinstance(k, str) for k in keys):
        raise ConversionError("only dicts with str keys convert to R (named lists)")
    if "" in keys:
        raise ConversionError(
            "a dict with an empty key cannot become a named list: R cannot tell an empty name from no name"
        )
    set_attr(rlist, "names", strings(keys))
    return rlist


@default.r2py.register("NULL")
def null_to_py(sexp):
    return None


@default.r2py.register("list")
def list_to_py(rlist):
    """An R list becomes a dict when every element is named (uniquely), else a
    list. A list with a class of its own (an S3 object such as an ``htest``
    or a user's ``structure(list(), class = "point")``) is an object, not
    data: the registry sends it to the RObject proxy instead, and this rule
    never sees it (see registry.dispatch_keys)."""
    items = [to_py(x) for x in rlist]
    names = attr(rlist, "names")
    if names is None:
        return items
    keys = python_strings(names)[0].tolist()
    if all(isinstance(k, str) and k for k in keys) and len(set(keys)) == len(keys):
        return dict(zip(keys, items))
    return items


@default.r2py.register("raw")
def raw_to_py(sexp):
    return bytes(sexp)
