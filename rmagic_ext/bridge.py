"""Both languages on the same objects.

- ``py`` in R: ``py$x`` reads the IPython namespace at the moment of access,
  ``py$x <- v`` assigns in it, ``py$mod$attr`` navigates, ``py$f(1, k = 2)``
  calls Python, ``names(py)`` lists it.
- ``r`` in Python: ``r.x`` / ``r["x"]`` read R's globals, ``r.x = v`` assigns,
  ``r("code")`` evaluates, ``dir(r)`` lists, ``del r.x`` removes.
- A Python function goes to R as an R function; any other Python object
  without a converter goes as a reference, and comes back as the identical
  object. R lets go of a reference through a finalizer, which releases it here.

Every call from R enters Python through one rpy2 ``rternalize``d function
that never raises: it answers a status list, and the R side turns a Python
exception into an R condition that ``tryCatch`` can catch.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import functools
import itertools
import sys
import threading
import traceback
import types
from typing import Any, Callable, Iterator

from .convert import arrow, attr, default, push, python_strings, registry, strings
from .convert.robject import named
from .session import RCode, get_session, on_start

_R = RCode("bridge.R")

_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    functools.partial,
    types.MethodWrapperType,
)
_HIDDEN_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}


class References:
    """Python objects R holds, by key, with how many R references each has."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[int, Any] = {}
        self._counts: dict[int, int] = {}
        self._keys = itertools.count(1)
        self._key_of: dict[int, int] = {}  # id(object) -> key, while held

    def hold(self, obj) -> int:
        with self._lock:
            key = self._key_of.get(id(obj))
            if key is None:
                key = next(self._keys)
                self._key_of[id(obj)] = key
                self._objects[key] = obj
            self._counts[key] = self._counts.get(key, 0) + 1
            return key

    def get(self, key: int):
        return self._objects[key]

    def release(self, key: int) -> None:
        with self._lock:
            count = self._counts.get(key, 0) - 1
            if count > 0:
                self._counts[key] = count
                return
            obj = self._objects.pop(key, None)
            self._counts.pop(key, None)
            self._key_of.pop(id(obj), None)

    def __len__(self) -> int:
        return len(self._objects)


references = References()


def _main_namespace() -> dict:
    return sys.modules["__main__"].__dict__


def _hidden_names() -> Any:
    return _HIDDEN_NAMES


_namespace: Callable[[], dict] = _main_namespace
_hidden: Callable[[], Any] = _hidden_names


_arrived_names: contextvars.ContextVar[dict | None] = contextvars.ContextVar("rmagic_ext_py_names", default=None)


@contextlib.contextmanager
def names_from_afar(names: dict) -> Iterator[None]:
    """Inside the block, ``py$name`` reads and writes ``names`` first: the
    Python values an R function took along from the notebook it came from."""
    token = _arrived_names.set(names)
    try:
        yield
    finally:
        _arrived_names.reset(token)


def _py_namespace(name: str) -> dict:
    """Where ``py$name`` lives: what the running R function brought, else the namespace."""
    arrived = _arrived_names.get()
    return arrived if arrived is not None and name in arrived else _namespace()


def python_values(names: list[str]) -> dict[str, Any]:
    """The values of ``names`` in the namespace ``py$`` reads (those it has)."""
    namespace = _namespace()
    return {name: namespace[name] for name in names if name in namespace}


def use_namespace(getter: Callable[[], dict], hidden: Callable[[], Any] | None = None) -> None:
    """Where ``py$`` looks names up (the IPython shell's user namespace) and
    which of them ``names(py)`` leaves out (what IPython put there itself)."""
    global _namespace, _hidden
    _namespace = getter
    if hidden is not None:
        _hidden = hidden


# -- Python objects in R ---------------------------------------------------------


def reference_to_r(obj):
    """An R handle on a Python object: an R function for functions, an
    object with ``$``, ``[[`` and a readable print for anything else."""
    key = references.hold(obj)
    return _R("new_pyobj", key, isinstance(obj, _FUNCTION_TYPES) or isinstance(obj, type))


@default.py2r.register(object)
def _anything_else_to_r(obj):
    """The last resort: no rule for this type. Data that speaks Arrow's C
    stream interface (DuckDB results, and others) is a data.frame; anything
    else goes to R as a reference."""
    if hasattr(type(obj), "__arrow_c_stream__"):
        return arrow.stream_to_r(obj)
    return reference_to_r(obj)


for _kind in _FUNCTION_TYPES:
    default.py2r.register(_kind)(reference_to_r)


@default.r2py.register("rmagic_ext_pyobj")
def _pyobj_to_py(sexp):
    return references.get(int(sexp.find(".key")[0]))


@default.r2py.register("rmagic_ext_pyfunction")
def _pyfunction_to_py(sexp):
    return _pyobj_to_py(attr(sexp, "rmagic_ext_pyobj"))


# -- the entry point from R --------------------------------------------------------


def _entry(op, *args):
    """What R calls: always returns a status list, never raises."""
    try:
        # The cell's converter (-c), as for -i and -o; Python shapes, as reticulate
        # gives them, even when the magics shape their own values as arrays.
        with registry.active().activated(), registry.shaped("python"):
            value = _OPS[str(op[0])](*args)
        return _status(ok=True, value=value)
    except KeyboardInterrupt:
        return _status(ok=False, kind="interrupt", type="KeyboardInterrupt", message="interrupted")
    except BaseException as exc:  # everything, so nothing unwinds through R
        if get_session().interrupt_pending():  # an R call failed because of the SIGINT: say so
            return _status(ok=False, kind="interrupt", type="KeyboardInterrupt", message="interrupted")
        return _status(
            ok=False,
            kind="error",
            type=type(exc).__name__,
            message=str(exc),
            traceback="".join(traceback.format_exception(exc)),
        )


def _status(**fields):
    r = get_session().ri
    values = []
    for name, value in fields.items():
        if name == "value":
            values.append(value if value is not None else r.NULL)
        elif isinstance(value, bool):
            values.append(r.BoolSexpVector([value]))
        else:
            values.append(strings([_as_r_text(value)]))
    rlist = r.ListSexpVector(values)
    rlist.do_slot_assign("names", strings(list(fields)))
    return rlist


def _as_r_text(text: str) -> str:
    """A Python error's message or traceback as text R can hold: NUL and lone
    surrogates written as escapes, so the message still reaches R's error."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def _name(sexp) -> str:
    return str(sexp[0])


def _obj(sexp):
    return registry.to_py(sexp)


def _get_global(name):
    key = _name(name)
    namespace = _py_namespace(key)
    if key not in namespace:
        raise NameError(f"name '{key}' is not defined in Python")
    return registry.to_r(namespace[key])


def _set_global(name, value):
    key = _name(name)
    _py_namespace(key)[key] = registry.to_py(value)


def _list_globals():
    hidden = _hidden()
    names = [n for n in _namespace() if not n.startswith("_") and n not in hidden and n not in _HIDDEN_NAMES]
    return strings(sorted(names))


def _call(ref, arglist):
    func = _obj(ref)
    names = attr(arglist, "names")
    keys = [k or "" for k in python_strings(names)[0]] if names is not None else [""] * len(arglist)
    args = [registry.to_py(v) for k, v in zip(keys, arglist) if not k]
    kwargs = {k: registry.to_py(v) for k, v in zip(keys, arglist) if k}
    with get_session().user_code():
        result = func(*args, **kwargs)
    return registry.to_r(result)


_OPS = {
    "get_global": _get_global,
    "set_global": _set_global,
    "list_globals": _list_globals,
    "getattr": lambda ref, name: registry.to_r(getattr(_obj(ref), _name(name))),
    "setattr": lambda ref, name, value: setattr(_obj(ref), _name(name), registry.to_py(value)),
    "getitem": lambda ref, key: registry.to_r(_obj(ref)[registry.to_py(key)]),
    "setitem": lambda ref, key, value: _obj(ref).__setitem__(registry.to_py(key), registry.to_py(value)),
    "dir": lambda ref: strings([n for n in dir(_obj(ref)) if not n.startswith("_")]),
    "len": lambda ref: get_session().ri.IntSexpVector([len(_obj(ref))]),
    "repr": lambda ref: strings([f"<Python {_describe(_obj(ref))}>"]),
    "call": _call,
    "release": lambda key: references.release(int(key[0])),
}


def _describe(obj) -> str:
    text = repr(obj)
    return text if len(text) <= 200 else text[:197] + "..."


_entry_closure = None  # rpy2 ties the Python function's life to this object: keep it


@on_start
def _install(session) -> None:
    global _entry_closure
    _entry_closure = session.ri.rternalize(_entry)
    _R("bridge_install", _entry_closure)
    atexit.register(_uninstall)  # let go while rpy2 can still tidy up, not at teardown


def _uninstall() -> None:
    """Runs before rpy2's own exit handler (atexit is last-in, first-out),
    which collects R's garbage: R's side stops calling Python first."""
    global _entry_closure
    if get_session().running():  # rpy2.robjects registers an exit handler of its own, which may have ended R first
        _R("bridge_uninstall")
    _entry_closure = None


# -- R in Python ------------------------------------------------------------------


class RNamespace:
    """R's global environment seen from Python, converted both ways:
    ``r.x``, ``r["x"]``, ``r.x = v``, ``del r.x``, ``r("code")``, ``dir(r)``."""

    def __call__(self, code: str):
        session = get_session()
        return default.r2py(session.run(code, name="<r()>", keep_last=True).value)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(_missing_global(name)) from None

    def __getitem__(self, name: str):
        found = get_session().lookup(name) if isinstance(name, str) else None
        if found is None:
            raise KeyError(name)
        return named(default.r2py(found), name)

    def __reduce__(self):
        """``r`` pickles as itself: in another process, that process's R."""
        return _arrived_r, ()

    def __setattr__(self, name: str, value) -> None:
        self[name] = value

    def __setitem__(self, name: str, value) -> None:
        push.assign([(name, value)], default)

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __delitem__(self, name: str) -> None:
        session = get_session()
        if not isinstance(name, str) or session.lookup(name) is None:  # also names R cannot have
            raise KeyError(name)
        with session.entered():
            removed = bool(_R("remove_global", name)[0])
        if not removed:
            raise KeyError(name)

    def __dir__(self) -> list[str]:
        session = get_session()
        with session.entered():
            return list(session.ri.baseenv["ls"](session.globalenv))

    def __repr__(self) -> str:
        return "<R global environment: r.name reads, r.name = value assigns, r('code') evaluates>"


r = RNamespace()
_arrived = {"r": False}


def _arrived_r() -> RNamespace:
    _arrived["r"] = True
    return r


def _missing_global(name: str) -> str:
    """A name R lacks; in a worker that got ``r`` by pickling (a task that
    reads ``r.f``), how to take the notebook's function along instead."""
    message = f"R has no global named {name!r}"
    if _arrived["r"]:
        message += (
            " in this process (r was pickled into it, and R's globals do not travel with r: "
            f"take the object first, f = r.{name}, and use f in the task; it travels with what it needs)"
        )
    return message


__all__ = ["r", "references", "use_namespace"]
