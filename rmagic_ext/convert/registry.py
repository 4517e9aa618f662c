"""The converter registry: rules that turn Python values into R objects and back.

A :class:`Converter` holds two dispatchers. ``py2r`` picks a rule by the
Python type (walking the MRO), ``r2py`` by R's ``class()`` vector in order,
then by ``typeof()``. Rules are plain functions; registering one needs no
running R, and a rule may be registered for a type by its dotted name
(``"polars.DataFrame"``) so its library need not be imported.

Converters combine: ``Converter("mine", base)`` consults its own rules, then
``base``'s. While a converter converts a value, it is the *active* converter,
so rules for containers convert their elements with :func:`to_r` / :func:`to_py`
and a user's converter applies all the way down.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from typing import Any, Callable, Iterator

from .._rapi import SEXP_TYPES
from ..errors import ConversionError, RuleReplacedWarning
from ..session import get_session
from . import settings

Rule = Callable[[Any], Any]

_active: contextvars.ContextVar["Converter | None"] = contextvars.ContextVar(
    "rmagic_ext_active_converter", default=None
)


def r_typeof(sexp) -> str:
    """R's ``typeof()`` of an rpy2 Sexp, without a call into R (the fallback keys of r2py)."""
    name = sexp.typeof.name
    return SEXP_TYPES[name][1] if name in SEXP_TYPES else name.lower()


def r_classes(sexp) -> tuple[str, ...]:
    """R's ``class()`` of an rpy2 Sexp (the implicit class when none is set)."""
    try:
        return tuple(sexp.rclass)
    except Exception:  # some SEXP types (e.g. promises) have no class
        return ()


def _shown_key(key) -> str:
    return f"{key.__module__}.{key.__qualname__}" if isinstance(key, type) else repr(key)


def _rule_name(rule: Rule) -> str:
    return f"{getattr(rule, '__module__', '?')}.{getattr(rule, '__qualname__', repr(rule))}"


def dispatch_keys(sexp) -> tuple[str, ...]:
    """The r2py keys of an R object, most specific first: its ``class()``,
    its ``typeof()``, then "ANY". A list with a class of its own (an S3
    object: ``lm``, ``htest``, a user's ``structure(list(), class = "p")``) is
    an object, not data, so the plain "list" rule is not among its keys:
    unless its class has a rule, it goes where anything else goes (ANY)."""
    classes, typeof = r_classes(sexp), r_typeof(sexp)
    if typeof == "list" and classes != ("list",):
        return classes + ("ANY",)
    return classes + (typeof, "ANY")


class _Dispatcher:
    def __init__(self, owner: "Converter") -> None:
        self.owner = owner
        self.rules: dict[Any, Rule] = {}

    def register(self, key) -> Callable[[Rule], Rule]:
        """Decorator: ``@converter.py2r.register(SomeType)`` or ``@converter.r2py.register("lm")``."""

        def decorate(rule: Rule) -> Rule:
            replaced = self.rules.get(key)
            if replaced is not None and replaced is not rule:
                warnings.warn(
                    f"{self.owner.name} converter: the rule for {_shown_key(key)} "
                    f"({_rule_name(replaced)}) is replaced by {_rule_name(rule)}",
                    RuleReplacedWarning,
                    stacklevel=2,
                )
            self.rules[key] = rule
            return rule

        return decorate

    def __call__(self, value):
        with _guard(), self.owner.activated():
            try:
                return self.convert(value)
            except RecursionError:  # a list of lists of ... thousands deep, either way
                raise ConversionError(
                    "the value is nested too deeply to convert (deeper than Python's "
                    "recursion limit allows); flatten it first"
                ) from None

    def convert(self, value):
        raise NotImplementedError


class PyToR(_Dispatcher):
    """``py2r``: Python value -> rpy2 Sexp, by the value's type."""

    def rule_for(self, klass: type) -> Rule | None:
        """The rule registered for exactly ``klass`` (by the type or its dotted name)."""
        return self.rules.get(klass) or self.rules.get(f"{klass.__module__}.{klass.__qualname__}")

    def convert(self, value):
        _checkpoint()
        rule = self.owner.find_py2r(type(value))
        if rule is None:
            raise ConversionError(
                f"no rule converts {type(value).__module__}.{type(value).__qualname__} to R; "
                "register one with @rmagic_ext.py2r.register(ThatType)"
            )
        return rule(value)


class RToPy(_Dispatcher):
    """``r2py``: rpy2 Sexp -> Python value, by ``class()`` then ``typeof()``."""

    def convert(self, sexp):
        _checkpoint()
        keys = dispatch_keys(sexp)
        rule = self.owner.find_r2py(keys)
        if rule is None:
            raise ConversionError(f"no rule converts an R object of class {keys[0]!r} to Python")
        return rule(sexp)


class Converter:
    """A named set of conversion rules, optionally extending other converters."""

    def __init__(self, name: str, *bases: "Converter") -> None:
        self.name = name
        self.bases = bases
        self.py2r = PyToR(self)
        self.r2py = RToPy(self)

    def __repr__(self) -> str:
        return f"<Converter {self.name!r}>"

    def __add__(self, other: "Converter") -> "Converter":
        """A converter where ``other``'s rules win over this one's."""
        return Converter(f"{self.name}+{other.name}", other, self)

    def find_py2r(self, cls: type) -> Rule | None:
        # The most specific type wins across the whole chain, so a user's rule
        # for a base class does not shadow a library's rule for a subclass it
        # never meant to handle; at equal specificity this converter wins.
        for klass in cls.__mro__:
            for converter in self._chain():
                rule = converter.py2r.rule_for(klass)
                if rule is not None:
                    return rule
        return None

    def find_r2py(self, keys: tuple[str, ...]) -> Rule | None:
        for key in keys:
            for converter in self._chain():
                rule = converter.r2py.rules.get(key)
                if rule is not None:
                    return rule
        return None

    def _chain(self) -> Iterator["Converter"]:
        yield self
        for base in self.bases:
            yield from base._chain()

    @contextlib.contextmanager
    def activated(self) -> Iterator["Converter"]:
        """Make this the converter that nested conversions use."""
        if _active.get() is self:
            yield self
            return
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)


def _guard() -> contextlib.AbstractContextManager:
    """Every conversion holds R (the session's lock, interrupt handling) from
    its first step, so even the conversion that starts R runs under it."""
    return get_session().entered()


def _checkpoint() -> None:
    """Before each value: where a pending interrupt is raised."""
    get_session().check_interrupt()


#: The converter the magics use unless ``-c`` names another.
default = Converter("default")
py2r = default.py2r
r2py = default.r2py


def active() -> Converter:
    """The converter converting right now (the default outside a conversion)."""
    return _active.get() or default


def to_r(value):
    """Convert ``value`` to R with the active converter (for rules of containers)."""
    return active().py2r.convert(value)


def shaped(shape: str) -> contextlib.AbstractContextManager:
    """Shape the atomic vectors converted inside the block.

    "python" (what the bridge and every plain conversion use): length-1
    vectors are scalars, named vectors, factors and dates pandas Series.
    "arrays" (the magics' default, as rpy2's magics return them): every
    atomic vector a numpy array, length 1 too, names dropped; factors
    ``pandas.Categorical``; dates and times datetime64/timedelta64 arrays.
    Fidelity (NA, dtypes, time zones) is the same in both; data.frames and
    R objects are not affected."""
    return settings.using(shape=shape)


def as_arrays() -> bool:
    """Whether the conversion under way shapes vectors as arrays (see :func:`shaped`)."""
    return settings.vector_shape() == "arrays"


def to_py(sexp):
    """Convert an R object to Python with the active converter."""
    return active().r2py.convert(sexp)
