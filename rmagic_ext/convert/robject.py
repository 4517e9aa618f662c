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
- pushed back to R it is the identical R object (``obj.sexp``);
- it pickles, and unpickles in any process without calling R (see
  rmagic_ext.remote, which owns how it travels): the R object arrives when
  first used.

A proxy converts what it gives and takes with the vector shape of the
surface it came from (arrays from the magics, Python shapes from the
bridge), and in another process with all the conversion choices of the
notebook that sent it.

Python-side names (``sexp``, ``rclass``, ``typeof``, ``names``) win over R
members of the same name; ``obj["names"]`` always reaches R's.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ..session import RCode, as_dict, get_session
from . import settings
from ._rt import python_strings, ri, set_attr, strings
from .registry import default, r_classes, r_typeof, to_py, to_r

_R = RCode("robject.R")
FUNCTION_TYPES = frozenset({"closure", "builtin", "special"})

#: typeof() names that always become an RObject, whatever their class (a
#: formula is a call, an R6 object an environment). Classed lists reach the
#: proxy through "ANY" (registry.dispatch_keys).
PROXIED_TYPES = ("environment", "closure", "builtin", "special", "S4", "object", "language", "symbol", "externalptr")


class Travel:
    """How proxies travel between processes: set by rmagic_ext.remote (the
    layer above, which owns pickling) when it is imported."""

    #: proxy -> what pickle.dumps writes (RObject.__reduce__)
    reduce: Callable[["RObject"], tuple] | None = None
    #: packed -> the R object, in this process (a proxy's first use after unpickling)
    unpack: Callable[[Any], Any] | None = None
    #: (proxy, R argument list) -> R's value of a call of a proxy that
    #: travelled (its Python values for py$, its random-number stream, what
    #: R writes sent back, errors that say which worker raised them)
    call: Callable[["RObject", Any], Any] | None = None


class RObject:
    """A proxy for one R object; see the module docstring for what it offers."""

    __slots__ = ("_sexp", "_label", "_settings", "_packed", "_packing")
    # Members are looked up by name: without this, __getitem__ would make
    # Python iterate with obj[0], obj[1], ... and fail confusingly.
    __iter__ = None

    def __init__(self, sexp, label: str = "FUN") -> None:
        """``label`` is the name R's error messages give the function when the
        proxy is called (the member name when it came from ``obj.method``)."""
        object.__setattr__(self, "_sexp", sexp)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_settings", {"shape": settings.vector_shape()})
        object.__setattr__(self, "_packed", None)  # what it travels as, once fixed (remote(), unpickled)
        object.__setattr__(self, "_packing", None)  # a cache of rmagic_ext.remote's

    @classmethod
    def arriving(cls, packed, label: str, conversion: dict) -> "RObject":
        """A proxy for an R object that is still bytes (unpickled here): R is
        not touched until the object is first used."""
        proxy = cls.__new__(cls)
        for name, value in (
            ("_sexp", None),
            ("_label", label),
            ("_settings", dict(conversion)),
            ("_packed", packed),
            ("_packing", None),
        ):
            object.__setattr__(proxy, name, value)
        return proxy

    def __copy__(self) -> "RObject":
        """A copy is another proxy for the identical R object (R copies
        values itself, when they change)."""
        proxy = type(self).__new__(type(self))
        for name in RObject.__slots__:
            object.__setattr__(proxy, name, getattr(self, name))
        return proxy

    def __deepcopy__(self, memo) -> "RObject":
        return self.__copy__()

    def __reduce__(self):
        """What pickle writes: the R object as bytes, with what it needs."""
        if Travel.reduce is None:
            raise TypeError("RObject proxies pickle once rmagic_ext.remote is imported")
        return Travel.reduce(self)

    # -- what it is -----------------------------------------------------------

    @property
    def sexp(self):
        """The underlying ``rpy2.rinterface`` Sexp, the R object itself
        (unpacked on first use where the proxy was unpickled)."""
        sexp = self._sexp
        if sexp is None:
            with get_session().entered():
                if self._sexp is None:
                    object.__setattr__(self, "_sexp", Travel.unpack(self._packed))
                sexp = self._sexp
        return sexp

    @property
    def __name__(self) -> str:
        """The function's name (engines name their tasks after it)."""
        return self._label

    @property
    def __signature__(self) -> inspect.Signature | None:
        """A function's R arguments as a Python signature (what
        ``inspect.signature`` shows, and what engines check)."""
        if self.typeof not in FUNCTION_TYPES:
            return None
        with get_session().entered():
            res = as_dict(_R("formal_arguments", self.sexp))
            names = python_strings(res["names"])[0].tolist()
            defaults = [bool(d) for d in res["has_default"]]
        return _signature(names, defaults)

    @property
    def rclass(self) -> tuple[str, ...]:
        """R's ``class()`` of the object."""
        with get_session().entered():
            return tuple(str(c) for c in r_classes(self.sexp))

    @property
    def typeof(self) -> str:
        """R's ``typeof()`` of the object."""
        return r_typeof(self.sexp)

    def names(self) -> list[str]:
        """The member names: S4 slots, ``ls()`` of an environment, or ``names()``."""
        with get_session().entered():
            return [str(n) for n in _R("member_names", self.sexp)]

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self.names()))

    def __repr__(self) -> str:
        """R's printed form; never raises, as a repr must not."""
        try:
            with get_session().entered():
                lines = [str(line) for line in _R("format_object", self.sexp)]
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
            raise AttributeError(
                f"cannot assign {name!r}: {self._describe()} is a value, not a reference; assign in R and read it again"
            )

    def __setitem__(self, name: str, value: Any) -> None:
        if not self._assign(_check_key(name), value):
            raise TypeError(f"{self._describe()} does not support item assignment: it is a value, not a reference")

    def _lookup(self, name: str):
        """The member's R value, or None when there is no such member."""
        found, value, _ = self._fetch(name)
        return value if found else None

    def _fetch(self, name: str) -> tuple[bool, Any, str | None]:
        """Whether there is such a member, its R value, and why not (R's own
        ``$`` may say)."""
        with get_session().entered():
            res = as_dict(_R("get_member", self.sexp, name))
            reason = res.get("reason")
            return bool(res["found"][0]), res.get("value"), None if reason is None else str(reason[0])

    def _missing_message(self, name: str, reason: str | None) -> str:
        """Why ``name`` is not a member, with the reason R's own ``$`` gave."""
        message = f"{self._describe()} has no member {name!r}"
        return f"{message} ({reason})" if reason is not None else message

    def _converted(self, name: str, sexp) -> Any:
        """A member's value through the active converter; a function keeps its
        member name so R's errors say ``Error in greet(...)``."""
        with get_session().entered(), settings.using(**self._settings):
            value = to_py(sexp)
        return named(value, name)

    def _assign(self, name: str, value: Any) -> bool:
        """Assign into an environment-like object; False for value types."""
        with get_session().entered(), settings.using(**self._settings):
            return bool(_R("set_member", self.sexp, name, to_r(value))[0])

    # -- calls ----------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the R function: arguments converted to R, the result back."""
        if self.typeof not in FUNCTION_TYPES:
            raise TypeError(f"{self._describe()} is not a function and cannot be called")
        with get_session().entered(), settings.using(**self._settings):
            rargs = _argument_list(args, kwargs)
            if self._packed is not None and Travel.call is not None:
                return to_py(Travel.call(self, rargs))
            return to_py(_R("call_function", self.sexp, rargs, self._label))

    # -- helpers ----------------------------------------------------------------

    def _describe(self) -> str:
        try:
            return f"the R object of class {'/'.join(self.rclass)}"
        except Exception:
            return "the R object"


class _RDefault:
    """An R argument's default, shown as R has it (it is evaluated by R, in R)."""

    def __repr__(self) -> str:
        return "<R default>"


_R_DEFAULT = _RDefault()


def _signature(names: list[str], has_default: list[bool]) -> inspect.Signature:
    """R's formals as Python parameters: those after ``...`` are keyword-only,
    ``...`` itself takes ``*args, **kwargs``. R names that are not Python
    identifiers (``na.rm``) are reachable only as ``**kwargs``."""
    params, keyword_only, dots = [], False, False
    for name, has in zip(names, has_default):
        if name == "...":
            keyword_only = dots = True
            params.append(inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL))
            continue
        if not name.isidentifier():
            dots = True
            continue
        kind = inspect.Parameter.KEYWORD_ONLY if keyword_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
        params.append(inspect.Parameter(name, kind, default=_R_DEFAULT if has else inspect.Parameter.empty))
    if dots:
        params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    try:
        return inspect.Signature(params)
    except ValueError:  # a default before a required argument: R allows it, Python does not
        return inspect.Signature(
            [
                inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
            ]
        )


def named(value: Any, name: str) -> Any:
    """A function proxy labelled ``name`` (R's errors say ``Error in name(...)``,
    engines name its tasks so); any other value as it is."""
    if isinstance(value, RObject) and value.typeof in FUNCTION_TYPES:
        object.__setattr__(value, "_label", name)
    return value


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


def call_function_helper():
    """robject.R's call_function itself (remote.R calls it inside a random-number stream)."""
    return _R.env["call_function"]


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
