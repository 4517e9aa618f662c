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

Where it runs, a function keeps R's promises (see ``relay.py`` and
``streams.py``): what R prints and warns there comes back to the notebook,
and each call draws random numbers from a L'Ecuyer-CMRG stream of its own,
numbered by a digest of the function and its arguments, of a base drawn
from the notebook's generator: the same map after the same ``set.seed``
gives the same numbers, whichever worker runs which task.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import os
import pickle
import secrets
import socket
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable, Iterator

from . import _rapi, bridge, relay, streams
from .convert import RObject, default, robject, settings, strings
from .convert._bulk import filled_vector, r_array
from .convert._rt import ri
from .errors import GlobalsTooLarge, RError, RemoteError, RPackageMissing, this_process
from .session import RCode, as_dict, get_session

_R = RCode("remote.R")

#: What a pickled R value is written as; another number is refused with a
#: clear error instead of being misread.
FORMAT = 2
#: Above this, a capture is refused (R's future package uses the same 500 MiB).
DEFAULT_MAX_SIZE = 500 * 2**20

_options: dict[str, Any] = {
    "max_size": DEFAULT_MAX_SIZE,
    "keep_source": False,
    "relay": True,
    "output_limit": relay.DEFAULT_LIMIT,
}


def configure(
    *,
    max_size: int | None = None,
    keep_source: bool | None = None,
    relay: bool | None = None,
    output_limit: int | None = None,
) -> None:
    """Defaults for what R functions take along when pickled:
    ``max_size`` in bytes (0: no limit), ``keep_source`` (source references,
    dropped by default: they hold the text of the cell), ``relay`` (what R
    prints and warns in a worker comes back to the notebook),
    ``output_limit`` (characters of one task's text relayed; 0: no limit)."""
    for name, value in (("max_size", max_size), ("output_limit", output_limit)):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be 0 (no limit) or more (got {value!r})")
    if max_size is not None:
        _options["max_size"] = int(max_size)
    if output_limit is not None:
        _options["output_limit"] = int(output_limit)
    if keep_source is not None:
        _options["keep_source"] = bool(keep_source)
    if relay is not None:
        _options["relay"] = bool(relay)


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
    #: where random numbers come from: "notebook" (a base drawn from the
    #: notebook's generator), "fixed" (remote(seed=n)) or "off"
    seeding: str = "notebook"
    seed: tuple[int, ...] | None = None  # the base of the streams it draws from, where it runs
    #: one map's streams, told apart from the next map's with the same base
    #: (a worker reused across maps must not take them for repeated tasks)
    streams_id: str = ""
    relay: dict = field(default_factory=dict)  # relay.deliver's settings: on, limit, the notebook's address

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self.data))

    def state(self) -> dict[str, Any]:
        """Plain data for pickle: no class of ours but the proxy's."""
        return {
            "data": self.data,
            "digest": self.digest,
            "namespaces": list(self.namespaces),
            "attached": list(self.attached),
            "pyobjects": self.pyobjects,
            "pynames": self.pynames,
            "captured": list(self.captured),
            "label": self.label,
            "conversion": self.conversion,
            "origin": self.origin,
            "fixed": self.fixed,
            "seeding": self.seeding,
            "seed": None if self.seed is None else list(self.seed),
            "streams_id": self.streams_id,
            "relay": self.relay,
        }

    @classmethod
    def from_state(cls, state: Any) -> "Packed":
        """Checked, without R: what does not look like ours is an error now."""
        try:
            data = state["data"]
            packed = cls(
                bytes(data) if isinstance(data, (bytearray, memoryview)) else data,
                tuple(state["namespaces"]),
                tuple(state["attached"]),
                dict(state["pyobjects"]),
                dict(state["pynames"]),
                tuple(state["captured"]),
                state["label"],
                dict(state["conversion"]),
                dict(state["origin"]),
                bool(state["fixed"]),
                state["digest"],
                str(state["seeding"]),
                None if state["seed"] is None else tuple(int(x) for x in state["seed"]),
                str(state["streams_id"]),
                dict(state["relay"]),
            )
        except (TypeError, KeyError, ValueError) as exc:
            raise pickle.UnpicklingError(
                f"not an R value pickled by rmagic_ext ({type(exc).__name__}: {exc})"
            ) from None
        text = (*packed.namespaces, *packed.attached, *packed.captured, packed.label)
        if (
            not isinstance(packed.data, bytes)
            or not isinstance(packed.digest, bytes)
            or not all(isinstance(t, str) for t in text)
        ):
            raise pickle.UnpicklingError("not an R value pickled by rmagic_ext (fields of the wrong types)")
        if packed.seed is not None and len(packed.seed) != 7:
            raise pickle.UnpicklingError("not an R value pickled by rmagic_ext (a seed that is not L'Ecuyer-CMRG's)")
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
            f"{FORMAT}): use the same rmagic_ext release in the notebook and the workers"
        )
    if not (isinstance(cls, type) and issubclass(cls, RObject)):
        raise pickle.UnpicklingError(f"not an R value pickled by rmagic_ext ({cls!r} is not an RObject class)")
    packed = Packed.from_state(state)
    return cls.arriving(packed, packed.label, packed.conversion)


def _packed_for(proxy: RObject) -> Packed:
    """The bytes a proxy travels as: those it arrived as from another
    process; fixed by remote() or by this process; else packed now, and again only after R has run
    (values are captured when pickled: an engine pickling one function for
    a thousand tasks packs it once). With them, this cell's random-number
    base and where its text goes back to."""
    packed = proxy._packed
    if packed is not None and not packed.fixed and _away(packed):
        return packed  # forwarded as it came: its notebook's streams and listener (Dask workers pickle again)
    session = get_session()
    cached = proxy._packing
    if cached is not None and cached[0] == _occasion(session):
        return cached[1]
    # Made by remote(), or back in the process that packed it (Dask's client
    # unpickles and pickles again): its bytes stand, and so do its streams.
    own_bytes = packed is not None and (packed.fixed or not _away(packed))
    fresh = packed if own_bytes else pack(proxy)
    seed, streams_id = _seed_for(proxy, fresh)
    sent = dataclasses.replace(fresh, seed=seed, streams_id=streams_id, relay=_relay_settings(fresh))
    object.__setattr__(proxy, "_packing", (_occasion(session), sent))
    return sent


def _occasion(session) -> tuple[int, int | None]:
    """What a cached pack is good for: until R runs again, within one cell."""
    return session.entries, _execution_count()


def _execution_count() -> int | None:
    module = sys.modules.get("IPython.core.interactiveshell")
    shell = getattr(module, "InteractiveShell", None)
    instance = shell._instance if shell is not None and shell.initialized() else None
    return getattr(instance, "execution_count", None)


_bases: dict[str, Any] = {}


def _seed_for(proxy: RObject, packed: Packed) -> tuple[tuple[int, ...] | None, str]:
    """The base of the streams a function draws from, and which map they
    are: drawn from the notebook's generator once per cell, and again when
    the notebook drew random numbers since (remote.R's stream_base); a
    fixed seed's streams are a new map each time they are packed."""
    if packed.seeding != "notebook" or proxy.typeof not in robject.FUNCTION_TYPES:
        return packed.seed, secrets.token_hex(8)
    count = _execution_count()
    last = _bases.get("last") if _bases.get("count") == count else None
    with get_session().entered():
        drawn = _R("stream_base", last if last is not None else ri().NULL)
        found = as_dict(drawn)
        base = tuple(int(x) for x in found["base"])
        fresh = bool(found["fresh"][0])
    if fresh or "id" not in _bases:
        _bases["id"] = secrets.token_hex(8)
    _bases.update(count=count, last=drawn)
    return base, _bases["id"]


def _relay_settings(packed: Packed) -> dict[str, Any]:
    on = bool(packed.relay.get("on", _options["relay"])) if packed.fixed else _options["relay"]
    if not on:
        return {"on": False}
    return {"on": True, "limit": _options["output_limit"], **relay.listener_info()}


def pack(
    proxy: RObject,
    *,
    auto: bool = True,
    names: Iterable[str] = (),
    given: dict | None = None,
    packages: Iterable[str] = (),
    label: str | None = None,
    keep_source: bool | None = None,
    max_size: int | None = None,
    fixed: bool = False,
    seeding: str = "notebook",
    seed: tuple[int, ...] | None = None,
    relay_on: bool | None = None,
) -> Packed:
    """Pack an R value (and, for a function, what it needs) into bytes."""
    keep_source = _options["keep_source"] if keep_source is None else keep_source
    limit = _options["max_size"] if max_size is None else max_size
    label = label or proxy._label
    session = get_session()
    with session.entered():
        _register_own_environments(session)
        given_r = default.py2r(dict(given)) if given else ri().ListSexpVector([])
        res = as_dict(
            _R(
                "pack",
                proxy.sexp,
                bool(auto),
                strings(list(names)),
                given_r,
                strings(list(packages)),
                bool(keep_source),
                float(limit),
            )
        )
        if str(res["status"][0]) == "too_large":
            raise _too_large(label, res, limit)
        data = r_array(res["data"]).tobytes()
        keys = [int(k) for k in res["pyobj_keys"]]
        namespaces = tuple(str(n) for n in res["namespaces"])
        attached = tuple(str(n) for n in res["attached"])
        captured = tuple(str(n) for n in res["globals"])
        pynames = bridge.python_values([str(n) for n in res["py_names"]])
    conversion = {**settings.current(), "shape": proxy._settings.get("shape", "python")}
    relay_settings = {} if relay_on is None else {"on": bool(relay_on)}
    return Packed(
        data,
        namespaces,
        attached,
        {k: bridge.references.get(k) for k in keys},
        pynames,
        captured,
        label,
        conversion,
        _origin(),
        fixed,
        seeding=seeding,
        seed=seed,
        relay=relay_settings,
    )


def _too_large(label: str, res: dict, limit: int) -> GlobalsTooLarge:
    names = [str(n) for n in res["sizes"].names]
    sizes = dict(sorted(zip(names, (float(v) for v in res["sizes"])), key=lambda kv: -kv[1]))
    largest = ", ".join(f"{name} ({_size(size)})" for name, size in list(sizes.items())[:3])
    return GlobalsTooLarge(
        f"{label} would take {_size(float(res['total'][0]))} to another process, above the limit of "
        f"{_size(limit)}; largest: {largest}. Pass large data as arguments instead, or raise the limit "
        "(%config RMagics.remote_max_size = ..., or rmagic_ext.remote(..., max_size=...))",
        sizes,
    )


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
            raise RemoteError(
                f"the pickled R value {packed.label} is damaged: its bytes do not match "
                "their digest (cut short or changed on the way)"
            )
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
            return _R(
                "unpack", data, rrefs, strings(list(packed.namespaces)), strings(list(packed.attached)), packed.label
            )
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


def _call(proxy: RObject, rargs):
    """A call of a function that travelled (or was made by remote()), under
    the R lock: ``py$name`` finds the Python values it brought; it draws
    from its own random-number stream; where it runs away from the notebook,
    what R writes is recorded and sent back, or carried by the RError that
    says which process raised it. Answers R's value."""
    packed = proxy._packed
    away = _away(packed)
    if not away and packed.fixed:
        packed = _packed_for(proxy)  # this cell's random-number base, as the workers get it
    relay_on = away and bool(packed.relay.get("on"))
    recording = relay.Recording(int(packed.relay.get("limit", relay.DEFAULT_LIMIT))) if relay_on else None
    session = get_session()
    try:
        with (
            bridge.names_from_afar(packed.pynames),
            session.console.recording(recording) if relay_on else contextlib.nullcontext(),
        ):
            value = _call_in_stream(proxy, packed, rargs, away)
    except RError as exc:
        if exc.worker is None and away:
            exc.worker = this_process()
        if recording:
            exc.stdout = "".join(text for _, text in relay.marked_for(recording.chunks(), proxy._label, packed.relay))
        raise
    if recording:
        relay.deliver(recording.chunks(), proxy._label, packed.relay)
    return value


def _call_in_stream(proxy: RObject, packed: Packed, rargs, away: bool):
    seeded = packed.seed is not None and (away or packed.fixed)
    stream, repeated = _stream(packed.seed, packed, rargs) if packed.seed is not None and seeded else (None, False)
    res = _R(
        "call_in_stream",
        robject.call_function_helper(),
        proxy.sexp,
        rargs,
        proxy._label,
        ri().NULL if stream is None else ri().IntSexpVector(stream),
        status=True,
    )
    if res.flag("drew"):
        _note_unreproducible(proxy, packed, seeded, repeated)
    return res["value"]


class _Streams:
    """The streams this process has handed out per base: a task whose
    arguments (and function) repeat one already run here would draw the
    same numbers again, so it gets a fresh stream instead, with a warning
    that it cannot be reproduced."""

    MAX = 200_000

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], int] = {}

    def take(self, streams_id: str, k: int) -> tuple[int, bool]:
        key = (streams_id, k)
        times = self.seen.get(key, 0)
        if len(self.seen) >= self.MAX:
            self.seen.clear()
        self.seen[key] = times + 1
        if not times:
            return k, False
        again = hashlib.blake2b(k.to_bytes(8, "little") + times.to_bytes(8, "little"), digest_size=8).digest()
        return streams.stream_number(again), True


handed_out = _Streams()


def _stream(seed: tuple[int, ...], packed: Packed, rargs) -> tuple[list[int], bool]:
    """The stream of this call: numbered by a digest of the function and its
    arguments (the same task, the same numbers, wherever it runs)."""
    data = r_array(_R("argument_bytes", rargs))
    digest = hashlib.blake2b(packed.digest, digest_size=8)
    digest.update(data[14:].data)  # past serialize's header: format, R's version
    k, repeated = handed_out.take(packed.streams_id, streams.stream_number(digest.digest()))
    return streams.stream(seed, k), repeated


_warned: set[tuple[bytes, str]] = set()


def _note_unreproducible(proxy: RObject, packed: Packed, seeded: bool, repeated: bool) -> None:
    """One line, once per function and reason in this process, where what
    it drew cannot be drawn again."""
    if seeded and not repeated:
        return
    reason = "repeat" if repeated else "unseeded"
    if (packed.digest, reason) in _warned:
        return
    _warned.add((packed.digest, reason))
    if repeated:
        text = (
            f"{proxy._label} ran again here with the same arguments: it drew from a fresh random-number "
            "stream, so these numbers cannot be reproduced (give each task an argument of its own, "
            "such as a replicate number)"
        )
    else:
        text = f"{proxy._label} drew random numbers without a stream of its own (seed=False): they cannot be reproduced"
    get_session().console.write_stderr(f"Warning message (rmagic_ext):\n{text}\n")


def _away(packed: Packed) -> bool:
    origin = packed.origin
    return (origin.get("host"), origin.get("pid")) != (socket.gethostname(), os.getpid())


robject.Travel.reduce = _reduce
robject.Travel.unpack = unpack
robject.Travel.call = _call


# -- explicit control --------------------------------------------------------------------


def remote(
    fn: RObject | str,
    *,
    globals: bool | Iterable[str] | dict = True,
    packages: Iterable[str] = (),
    label: str | None = None,
    keep_source: bool | None = None,
    max_size: int | None = None,
    seed: bool | int | None = True,
    relay: bool | None = None,
) -> RObject:
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

    ``seed``: where each call's random numbers come from. True (the
    default): a L'Ecuyer-CMRG stream per call, numbered by its arguments, of
    a base drawn from the notebook's generator in the cell that sends it
    (``set.seed`` before the map gives the same numbers again). An integer:
    streams of ``set.seed(seed, kind = "L'Ecuyer-CMRG")``, the same in every
    cell and session, whatever the notebook's generator did. False: the
    worker's own generator, as R left it there (a warning says so when the
    function draws). ``relay``: whether what R prints and warns in the
    worker comes back to the notebook (default ``%config
    RMagics.remote_relay``).

    The result is a function proxy: called here it runs here (in its
    streams, like in a worker); pickled, it travels as packed now, however
    often it is pickled.
    """
    proxy = _function(fn)
    auto, names, given = _what_travels(globals)
    seeding, base = _seeding(seed)
    packed = pack(
        proxy,
        auto=auto,
        names=names,
        given=given,
        packages=packages,
        label=label,
        keep_source=keep_source,
        max_size=max_size,
        fixed=True,
        seeding=seeding,
        seed=base,
        relay_on=relay,
    )
    made = robject.named(proxy.__copy__(), packed.label)
    object.__setattr__(made, "_packed", packed)
    return made


def _seeding(seed) -> tuple[str, tuple[int, ...] | None]:
    if seed is True:
        return "notebook", None
    if seed is False or seed is None:
        return "off", None
    if isinstance(seed, int) and not isinstance(seed, bool):
        if not -(2**31) < seed < 2**31:
            raise ValueError(f"seed= takes an R integer, -2147483647 to 2147483647 (got {seed})")
        with get_session().entered():
            return "fixed", tuple(int(x) for x in _R("lecuyer_seed", int(seed)))
    raise TypeError(f"seed= takes True, False or an integer, not {type(seed).__name__}")


def _function(fn) -> RObject:
    if isinstance(fn, str):
        found = get_session().lookup(fn)
        if found is None:
            raise NameError(f"R has no object named {fn!r}")
        proxy = robject.named(default.r2py(found), fn)
    else:
        proxy = fn
    if not isinstance(proxy, RObject) or proxy.typeof not in robject.FUNCTION_TYPES:
        raise TypeError(
            f"rmagic_ext.remote needs an R function (r.name, or the name of one), not {type(proxy).__name__}"
        )
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
