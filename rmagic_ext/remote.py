"""R work in other processes: R values and functions that pickle.

Engines (process pools, joblib, Dask, Ray, Spark) move work by pickling it.
An ``RObject`` proxy pickles as plain bytes: R's ``serialize()`` of the
object together with what it needs from the notebook (see ``R/remote.R``):

- a function's free variables found in the global environment, recursively
  (helpers from other cells, the values they use, S3 methods defined in the
  notebook), captured when it is pickled; namespaces travel by name, with the
  notebook's attached packages;
- Python objects that R holds references to travel as Python objects;
- the conversion choices in force (frames library, int64, vector shape),
  so that arguments and results convert in the worker as in the notebook.

Unpickling only stores the bytes: engines unpickle on threads that must not
run R (Dask's event loop), often in processes where R has not started. The
first use starts R (in whichever thread, under the R lock) and unpacks once
per process; later arrivals of the same bytes reuse that (a cache by digest).

:func:`remote` fixes what travels, explicitly.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import pickle
import socket
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable, Iterator

from . import _rapi, bridge
from .convert import RObject, default, robject, settings, strings
from .convert._bulk import filled_vector, r_array
from .convert._rt import ri
from .errors import GlobalsTooLarge, RError, RemoteError, RPackageMissing, this_process
from .session import RCode, as_dict, get_session

_R = RCode("remote.R")

#: What a pickled R value is written as; another number is refused with a
#: clear error instead of being misread.
FORMAT = 1
#: Above this, a capture is refused (R's future package uses the same 500 MiB).
DEFAULT_MAX_SIZE = 500 * 2**20

_options = {"max_size": DEFAULT_MAX_SIZE, "keep_source": False}


def configure(*, max_size: int | None = None, keep_source: bool | None = None) -> None:
    """Defaults for what R functions take along when pickled:
    ``max_size`` in bytes (0: no limit), ``keep_source`` (source references,
    dropped by default: they hold the text of the cell)."""
    if max_size is not None:
        if max_size < 0:
            raise ValueError(f"max_size must be 0 (no limit) or more (got {max_size!r})")
        _options["max_size"] = int(max_size)
    if keep_source is not None:
        _options["keep_source"] = bool(keep_source)


@dataclass(frozen=True, eq=False)
class Packed:
    """An R value as bytes, with what its process needs to unpack it."""

    data: bytes
    namespaces: tuple[str, ...]  # needed: an error names the first one missing
    attached: tuple[str, ...]  # the notebook's search path, attached where installed
    pyobjects: dict[int, Any]  # Python objects R held references to, by key
    pynames: dict[str, Any]  # the notebook's Python values its R functions read as py$name
    captured: tuple[str, ...]  # the names of the notebook's globals taken along
    label: str
    conversion: dict[str, str]  # settings.current() of the notebook
    origin: dict[str, Any]  # where it was packed: host, pid, versions
    fixed: bool = False  # made by remote(): travels as it is, however often pickled
    digest: bytes = field(default=b"")

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self.data))

    def state(self) -> dict[str, Any]:
        """Plain data for pickle: no class of ours but the proxy's."""
        return {"data": self.data, "digest": self.digest, "namespaces": list(self.namespaces),
                "attached": list(self.attached), "pyobjects": self.pyobjects, "pynames": self.pynames,
                "captured": list(self.captured), "label": self.label,
                "conversion": self.conversion, "origin": self.origin, "fixed": self.fixed}

    @classmethod
    def from_state(cls, state: Any) -> "Packed":
        """Checked, without R: what does not look like ours is an error now."""
        try:
            data = state["data"]
            packed = cls(bytes(data) if isinstance(data, (bytearray, memoryview)) else data,
                         tuple(state["namespaces"]), tuple(state["attached"]), dict(state["pyobjects"]),
                         dict(state["pynames"]), tuple(state["captured"]), state["label"], dict(state["conversion"]), dict(state["origin"]),
                         bool(state["fixed"]), state["digest"])
        except (TypeError, KeyError, ValueError) as exc:
            raise pickle.UnpicklingError(f"not an R value pickled by rmagic_ext ({type(exc).__name__}: {exc})") from None
        text = (*packed.namespaces, *packed.attached, *packed.captured, packed.label)
        if not isinstance(packed.data, bytes) or not isinstance(packed.digest, bytes) \
                or not all(isinstance(t, str) for t in text):
            raise pickle.UnpicklingError("not an R value pickled by rmagic_ext (fields of the wrong types)")
        return packed


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# -- pickling ------------------------------------------------------------------------

def _reduce(proxy: RObject) -> tuple:
    """RObject.__reduce__: ``restore(type, FORMAT, state)``."""
    return restore, (type(proxy), FORMAT, _packed_for(proxy).state())


def restore(cls: type, fmt: Any, state: Any) -> RObject:
    """What unpickling calls: a proxy holding the bytes, R untouched."""
    if fmt != FORMAT:
        raise pickle.UnpicklingError(
            f"this R value was pickled by another rmagic_ext release (format {fmt!r}, this one reads "
            f"{FORMAT}): use the same rmagic_ext release in the notebook and the workers")
    if not (isinstance(cls, type) and issubclass(cls, RObject)):
        raise pickle.UnpicklingError(f"not an R value pickled by rmagic_ext ({cls!r} is not an RObject class)")
    packed = Packed.from_state(state)
    return cls.arriving(packed, packed.label, packed.conversion)


def _packed_for(proxy: RObject) -> Packed:
    """The bytes a proxy travels as: fixed by remote(); those it arrived as,
    while it is unused; else packed now, and again only after R has run
    (values are captured when pickled: an engine pickling one function for
    a thousand tasks packs it once)."""
    packed = proxy._packed
    if packed is not None and (packed.fixed or proxy._sexp is None):
        return packed
    session = get_session()
    cached = proxy._packing
    if cached is not None and cached[0] == session.entries:
        return cached[1]
    packed = pack(proxy)
    object.__setattr__(proxy, "_packing", (session.entries, packed))
    return packed


def pack(proxy: RObject, *, auto: bool = True, names: Iterable[str] = (), given: dict | None = None,
         packages: Iterable[str] = (), label: str | None = None, keep_source: bool | None = None,
         max_size: int | None = None, fixed: bool = False) -> Packed:
    """Pack an R value (and, for a function, what it needs) into bytes."""
    keep_source = _options["keep_source"] if keep_source is None else keep_source
    limit = _options["max_size"] if max_size is None else max_size
    label = label or proxy._label
    session = get_session()
    with session.entered():
        _register_own_environments(session)
        given_r = default.py2r(dict(given)) if given else ri().ListSexpVector([])
        res = as_dict(_R("pack", proxy.sexp, bool(auto), strings(list(names)), given_r,
                         strings(list(packages)), bool(keep_source), float(limit)))
        if str(res["status"][0]) == "too_large":
            raise _too_large(label, res, limit)
        data = r_array(res["data"]).tobytes()
        keys = [int(k) for k in res["pyobj_keys"]]
        namespaces = tuple(str(n) for n in res["namespaces"])
        attached = tuple(str(n) for n in res["attached"])
        captured = tuple(str(n) for n in res["globals"])
        pynames = bridge.python_values([str(n) for n in res["py_names"]])
    conversion = {**settings.current(), "shape": proxy._settings.get("shape", "python")}
    return Packed(data, namespaces, attached, {k: bridge.references.get(k) for k in keys}, pynames, captured,
                  label, conversion, _origin(), fixed)


def _too_large(label: str, res: dict, limit: int) -> GlobalsTooLarge:
    names = [str(n) for n in res["sizes"].names]
    sizes = dict(sorted(zip(names, (float(v) for v in res["sizes"])), key=lambda kv: -kv[1]))
    largest = ", ".join(f"{name} ({_size(size)})" for name, size in list(sizes.items())[:3])
    return GlobalsTooLarge(
        f"{label} would take {_size(float(res['total'][0]))} to another process, above the limit of "
        f"{_size(limit)}; largest: {largest}. Pass large data as arguments instead, or raise the limit "
        "(%config RMagics.remote_max_size = ..., or rmagic_ext.remote(..., max_size=...))", sizes)


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _origin() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), **versions()}


_versions: dict[str, str] = {}


def versions() -> dict[str, str]:
    """R's, rpy2's and rmagic_ext's versions in this process (R starts if needed)."""
    if not _versions:
        with get_session().entered():
            _versions["R"] = str(_R("r_version")[0])
        _versions["rpy2"] = _rapi.rpy2_modules().version
        _versions["rmagic_ext"] = metadata.version("rmagic_ext")
    return dict(_versions)


def _register_own_environments(session) -> None:
    """Tell remote.R which environments are rmagic_ext's own (written by
    name); again when a module's R code has been loaded since."""
    envs = {file: code.env for file, code in RCode.loaded.items() if code.env is not None}
    envs["session.R"] = session.helpers_env
    if _registered.get("count") != len(envs):
        names = list(envs)
        rlist = ri().ListSexpVector([envs[n] for n in names])
        rlist.do_slot_assign("names", strings(names))
        _R("own_environments", rlist)
        _registered["count"] = len(envs)


_registered: dict[str, int] = {}


# -- unpacking -------------------------------------------------------------------------

class _Unpacked:
    """This process's R objects unpacked from bytes, by digest: the same
    function arriving with each of a thousand tasks is unpacked once."""

    MAX_ENTRIES = 64
    MAX_BYTES = 1 << 30

    def __init__(self) -> None:
        self._objects: collections.OrderedDict[bytes, tuple[Any, int]] = collections.OrderedDict()
        self._bytes = 0

    def get(self, digest: bytes):
        found = self._objects.get(digest)
        if found is None:
            return None
        self._objects.move_to_end(digest)
        return found[0]

    def put(self, digest: bytes, sexp, size: int) -> None:
        self._objects[digest] = (sexp, size)
        self._bytes += size
        while len(self._objects) > 1 and (len(self._objects) > self.MAX_ENTRIES or self._bytes > self.MAX_BYTES):
            _, (_, dropped) = self._objects.popitem(last=False)
            self._bytes -= dropped

    def clear(self) -> None:
        self._objects.clear()
        self._bytes = 0


unpacked = _Unpacked()


def unpack(packed: Packed):
    """The R object of ``packed`` in this process (R starts if it has not):
    the packages it needs first, then the bytes."""
    session = get_session()
    with session.entered():
        found = unpacked.get(packed.digest)
        if found is not None:
            return found
        if _digest(packed.data) != packed.digest:
            raise RemoteError(f"the pickled R value {packed.label} is damaged: its bytes do not match "
                              "their digest (cut short or changed on the way)")
        _register_own_environments(session)
        value = _unpack_in_r(packed)
        unpacked.put(packed.digest, value, len(packed.data))
        return value


def _unpack_in_r(packed: Packed):
    refs = [bridge.reference_to_r(obj) for obj in packed.pyobjects.values()]
    rrefs = ri().ListSexpVector(refs)
    rrefs.do_slot_assign("names", strings([f"rmagic_ext_pyobj:{key}" for key in packed.pyobjects]))
    data = filled_vector(ri().ByteSexpVector, memoryview(packed.data).cast("B"))
    try:
        with _missing_packages():
            return _R("unpack", data, rrefs, strings(list(packed.namespaces)), strings(list(packed.attached)),
                      packed.label)
    except RPackageMissing:
        raise
    except RError as exc:
        raise RemoteError(f"the pickled R value {packed.label} cannot be unpacked here: {exc.message}") from None


@contextlib.contextmanager
def _missing_packages() -> Iterator[None]:
    """R's report of a missing package (remote.R's prepare_packages) as RPackageMissing."""
    try:
        yield
    except RError as exc:
        if "rmagic_ext_package_missing" not in exc.classes:
            raise
        package = exc.message.split("'")[1] if "'" in exc.message else ""
        raise RPackageMissing(exc.message, package) from None


@contextlib.contextmanager
def _calling(proxy: RObject) -> Iterator[None]:
    """Around a call of a function that travelled: ``py$name`` finds the
    Python values it brought, and an R error says which process raised it
    (the worker, when it goes back to the notebook)."""
    packed = proxy._packed
    try:
        with bridge.names_from_afar(packed.pynames):
            yield
    except RError as exc:
        if exc.worker is None and _away(packed):
            exc.worker = this_process()
        raise


def _away(packed: Packed) -> bool:
    origin = packed.origin
    return (origin.get("host"), origin.get("pid")) != (socket.gethostname(), os.getpid())


robject.Travel.reduce = _reduce
robject.Travel.unpack = unpack
robject.Travel.calling = _calling


# -- explicit control --------------------------------------------------------------------

def remote(fn: RObject | str, *, globals: bool | Iterable[str] | dict = True, packages: Iterable[str] = (),
           label: str | None = None, keep_source: bool | None = None, max_size: int | None = None) -> RObject:
    """An R function packed now, to run in other processes as it is.

    ``fn``: an R function (``r.f``, ``%R -o f``) or the name of one in R's
    global environment. ``globals``: True finds what it needs in the
    notebook (as pickling does); False takes nothing along; a list of names
    takes exactly those global R objects; a dict takes those Python values,
    converted, as R globals of those names. ``packages``: R packages to
    attach in the worker beyond those found. ``label``: its name in R's
    error messages and in engines' task names. ``keep_source``: keep source
    references (dropped by default). ``max_size``: the size limit in bytes
    (default ``%config RMagics.remote_max_size``; 0 for none).

    The result is a function proxy: called here it runs here; pickled, it
    travels as packed now, however often it is pickled.
    """
    proxy = _function(fn)
    auto, names, given = _what_travels(globals)
    packed = pack(proxy, auto=auto, names=names, given=given, packages=packages, label=label,
                  keep_source=keep_source, max_size=max_size, fixed=True)
    made = robject.named(proxy.__copy__(), packed.label)
    object.__setattr__(made, "_packed", packed)
    return made


def _function(fn) -> RObject:
    if isinstance(fn, str):
        found = get_session().lookup(fn)
        if found is None:
            raise NameError(f"R has no object named {fn!r}")
        proxy = robject.named(default.r2py(found), fn)
    else:
        proxy = fn
    if not isinstance(proxy, RObject) or proxy.typeof not in robject.FUNCTION_TYPES:
        raise TypeError(f"rmagic_ext.remote needs an R function (r.name, or the name of one), "
                        f"not {type(proxy).__name__}")
    return proxy


def _what_travels(spec) -> tuple[bool, list[str], dict | None]:
    if spec is True or spec is None:
        return True, [], None
    if spec is False:
        return False, [], None
    if isinstance(spec, dict):
        if not all(isinstance(k, str) for k in spec):
            raise TypeError("globals= as a dict maps R names (str) to Python values")
        return False, [], spec
    if isinstance(spec, str):
        raise TypeError("globals= takes a list of R names, not one string: globals=[" + repr(spec) + "]")
    names = list(spec)
    if not all(isinstance(n, str) for n in names):
        raise TypeError("globals= takes True, False, a list of R names or a dict of name: value")
    return False, names, None


# -- workers -----------------------------------------------------------------------------

def start_r(packages: Iterable[str] = ()) -> dict[str, str]:
    """Start R in this process now (not at the first task) and attach
    ``packages`` (an error names one that is missing); answers
    :func:`versions` (the Dask plugin's set-up)."""
    with get_session().entered(), _missing_packages():
        _R("prepare_packages", strings(list(packages)), strings(list(packages)), "the worker set-up")
    return versions()

__all__ = ["FORMAT", "Packed", "configure", "pack", "remote", "restore", "start_r", "unpack", "versions"]
