"""RObject: the Python face of an R object that has no better conversion.

Environments, S4 and R6 objects, functions, formulas, model fits, calls and
external pointers have no faithful Python counterpart, and copying them would
break what makes them useful (reference semantics, methods, identity). So they
cross the border as a proxy that keeps the R object itself:

- ``repr(obj)`` is what R's console prints for it (``print``, ``show`` for S4);
- ``obj.x`` and ``obj["x"]`` read an S4 slot, a binding of an environment
  (R6 and Reference Class objects included) or an element of a classed list,
  converted with the active converter; ``dir(obj)`` lists them;
- ``obj.x = v`` assigns into objects with reference semantics;
- ``obj(*args, **kwargs)`` calls an R function;
- pushed back to R it is the identical R object (``obj.sexp``).

Python-side names (``sexp``, ``rclass``, ``typeof``, ``names``) win over R
members of the same name; ``obj["names"]`` always reaches R's.
"""

from __future__ import annotations

from typing import Any

from ..session import RCode, as_dict, get_session
from ._rt import ri, set_attr, strings
from .registry import default, r_classes, r_typeof, to_py, to_r

_R = RCode("robject.R")
FUNCTION_TYPES = frozenset({"closure", "builtin", "special"})

#: typeof() names that always become an RObject, whatever their class (a
#: formula is a call, an R6 object an environment). Classed lists reach the
#: proxy through "ANY" (registry.dispatch_keys).
PROXIED_TYPES = ("environment", "closure", "builtin", "special", "S4", "object", "language",
                 "symbol", "externalptr")


class RObject:
    """A proxy for one R object; see the module docstring for what it offers."""

    __slots__ = ("_sexp", "_label")
    # Members are looked up by name: without this, __getitem__ would make
    # Python iterate with obj[0], obj[1], ... and fail confusingly.
    __iter__ = None

    def __init__(self, sexp, label: str = "FUN") -> None:
        """``label`` is the name R's error messages give the function when the
        proxy is called (the member name when it came from ``obj.method``)."""
        object.__setattr__(self, "_sexp", sexp)
        object.__setattr__(self, "_label", label)

    # -- what it is -----------------------------------------------------------

    @property
    def sexp(self):
        """The underlying ``rpy2.rinterface`` Sexp, the R object itself."""
        return self._sexp

    @property
    def rclass(self) -> tuple[str, ...]:
        """R's ``class()`` of the object."""
        with get_session().entered():
            return tuple(str(c) for c in r_classes(self._sexp))

    @property
    def typeof(self) -> str:
        """R's ``typeof()`` of the object."""
        return r_typeof(self._sexp)

    def names(self) -> list[str]:
        """The member names: S4 slots, ``ls()`` of an environment, or ``names()``."""
        with get_session().entered():
            return [str(n) for n in _R("member_names", self._sexp)]

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self.names()))

    def __repr__(self) -> str:
        """R's printed form; never raises, as a repr must not."""
        try:
            with get_session().entered():
                lines = [str(line) for line in _R("format_object", self._sexp)]
        except Exception:
            lines = []
        return "\n".join(lines) if lines else self._fallback_repr()

    def _fallback_repr(self) -> str:
        try:
            return f"<RObject of class {'/'.join(self.rclass)}>"
        except Exception:
            return "<RObject>"

    # -- members --------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Python's own protocols (_repr_html_, __array__, ...) are probed by
        # IPython, numpy and friends; they are never R members.
        if name.startswith("_"):
            raise AttributeError(name)
        found, value, reason = self._fetch(name)
        if not found:
            raise AttributeError(self._missing_message(name, reason))
        return self._converted(name, value)

    def __getitem__(self, name: str) -> Any:
        found, value, _ = self._fetch(_check_key(name))
        if not found:
            raise KeyError(name)
        return self._converted(name, value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in RObject.__slots__:  # copy and pickle restore the proxy's own state
            object.__setattr__(self, name, value)
            return
        if name.startswith("_") or hasattr(type(self), name):
            raise AttributeError(f"RObject.{name} cannot be assigned")
        if not self._assign(name, value):
            raise AttributeError(f"cannot assign {name!r}: {self._describe()} is a value, "
                                 "not a reference; assign in R and read it again")

    def __setitem__(self, name: str, value: Any) -> None:
        if not self._assign(_check_key(name), value):
            raise TypeError(f"{self._describe()} does not support item assignment: "
                            "it is a value, not a reference")

    def _lookup(self, name: str):
        """The member's R value, or None when there is no such member."""
        found, value, _ = self._fetch(name)
        return value if found else None

    def _fetch(self, name: str) -> tuple[bool, Any, str | None]:
        """Whether there is such a member, its R value, and why not (R's own
        ``$`` may say)."""
        with get_session().entered():
            res = as_dict(_R("get_member", self._sexp, name))
            reason = res.get("reason")
            return bool(res["found"][0]), res.get("value"), None if reason is None else str(reason[0])

    def _missing_message(self, name: str, reason: str | None) -> str:
        """Why ``name`` is not a member, with the reason R's own ``$`` gave."""
        message = f"{self._describe()} has no member {name!r}"
        return f"{message} ({reason})" if reason is not None else message

    def _converted(self, name: str, sexp) -> Any:
        """A member's value through the active converter; a function keeps its
        member name so R's errors say ``Error in greet(...)``."""
        with get_session().entered():
            value = to_py(sexp)
        if isinstance(value, RObject) and value.typeof in FUNCTION_TYPES:
            object.__setattr__(value, "_label", name)
        return value

    def _assign(self, name: str, value: Any) -> bool:
        """Assign into an environment-like object; False for value types."""
        with get_session().entered():
            return bool(_R("set_member", self._sexp, name, to_r(value))[0])

    # -- calls ----------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the R function: arguments converted to R, the result back."""
        if self.typeof not in FUNCTION_TYPES:
            raise TypeError(f"{self._describe()} is not a function and cannot be called")
        with get_session().entered():
            rargs = _argument_list(args, kwargs)
            return to_py(_R("call_function", self._sexp, rargs, self._label))

    # -- helpers ----------------------------------------------------------------

    def _describe(self) -> str:
        try:
            return f"the R object of class {'/'.join(self.rclass)}"
        except Exception:
            return "the R object"


def _check_key(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"R members are looked up by name (str), not {type(name).__name__}")
    return name


def _argument_list(args: tuple, kwargs: dict):
    """An R list of converted arguments, named where they were passed by keyword."""
    rargs = ri().ListSexpVector([to_r(v) for v in (*args, *kwargs.values())])
    if kwargs:
        set_attr(rargs, "names", strings([""] * len(args) + list(kwargs)))
    return rargs


def to_robject(sexp) -> RObject:
    """The r2py rule of last resort ("ANY") and of the proxied classes and
    types: more specific rules (class, then typeof) are tried first."""
    return RObject(sexp)


@default.py2r.register(RObject)
def robject_to_r(obj: RObject):
    """The proxied object itself, so R sees the identical object again."""
    return obj.sexp


for _key in (*PROXIED_TYPES, "ANY"):
    default.r2py.register(_key)(to_robject)
