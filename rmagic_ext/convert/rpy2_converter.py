"""rpy2's own objects and converters, as notebooks written for rpy2 use them.

An object of rpy2's Python API (``rpy2.robjects`` or ``rpy2.rinterface``: a
vector, data frame, list, environment, function, formula, S4 object or model
fit, such as ``importr("utils").read_csv(path)`` gives) is an R object
already: it goes to R as itself, on every way in (``-i``, ``%Rpush``,
``r.x = ...``, arguments of R functions, values Python gives back to R,
``remote()`` globals), with no copy, ``identical()`` to the object R holds.

rpy2's converters, given to ``-c`` as rpy2's magics take them:

A notebook written for rpy2 may define ``rpy2.robjects.conversion.Converter``
objects (``default_converter + pandas2ri.converter + my_rules``) and pass
them with ``-c``. :class:`Rpy2Converter` wraps one in our registry's
interface, so that call's values go through rpy2, with rpy2's results:

- to R, by the rpy2 converter's rule for the value's type; a type it has no
  rule for falls back to ours, where rpy2 would fail. Python functions
  always go by ours: rpy2's rule (``rternalize``) leaves R holding a handle
  to a Python object nothing keeps alive, and R calling it after Python
  collected it ends the process; ours keeps the function as long as R does;
- to Python by the rpy2 converter: what the notebook got from rpy2; only
  R's handles on Python objects (ours, classes ``rmagic_ext_*``) come back
  by our rule, as the objects themselves.

rpy2.robjects is never imported here: a notebook that has an rpy2
converter has imported it already, and one that has not never needs it.
"""

from __future__ import annotations

import sys
import types

from .._rapi import RPY2_SEXP_CLASS
from ..errors import ConversionError
from ._rt import ri
from .registry import Converter, Rule, default


_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)


@default.py2r.register(RPY2_SEXP_CLASS)
def rpy2_object_to_r(obj):
    """The R object an rpy2 object wraps, itself (rpy2 3.5 and 3.6 alike)."""
    return obj


def rpy2_converter_class() -> type | None:
    """rpy2's Converter class when rpy2.robjects is loaded, else None."""
    conversion = sys.modules.get("rpy2.robjects.conversion")
    return getattr(conversion, "Converter", None)


def is_rpy2_converter(value) -> bool:
    klass = rpy2_converter_class()
    return klass is not None and isinstance(value, klass)


class Rpy2Converter(Converter):
    """One rpy2 converter seen through our registry (see the module docstring)."""

    def __init__(self, rpy2_converter) -> None:
        super().__init__(f"rpy2 {getattr(rpy2_converter, 'name', 'converter')}", default)
        self.rpy2 = rpy2_converter

    def find_py2r(self, cls: type) -> Rule | None:
        # rpy2's py2rpy is a singledispatch function whose rule for `object`
        # says "not defined": a type that dispatches there has no rule of its own.
        dispatch = self.rpy2.py2rpy.dispatch
        if dispatch(cls) is dispatch(object) or issubclass(cls, _FUNCTIONS):
            return default.find_py2r(cls)
        return self._to_r

    def find_r2py(self, keys: tuple[str, ...]) -> Rule | None:
        if any(key.startswith("rmagic_ext_") for key in keys):
            return default.find_r2py(keys)
        return self._to_python

    def _to_r(self, value):
        from rpy2.robjects.conversion import localconverter

        with localconverter(self.rpy2):
            try:
                converted = self.rpy2.py2rpy(value)
            except NotImplementedError as exc:
                raise ConversionError(f"the rpy2 converter {self.rpy2.name!r}: {exc}") from None
        if isinstance(converted, ri().Sexp):
            return converted
        # rpy2's rules may hand back a value for a later conversion to finish
        # (numpy scalars come back as they went in): ours finishes it.
        return default.py2r.convert(converted)

    def _to_python(self, sexp):
        from rpy2.robjects.conversion import localconverter

        with localconverter(self.rpy2):
            return self.rpy2.rpy2py(sexp)
