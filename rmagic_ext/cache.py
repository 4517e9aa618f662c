"""Cached R cells: ``%%R --cache [NAME]`` runs once and is served again,
never stale, always saying why.

The key is everything the cell's result depends on (``R/cache.R`` reads the
R side): the parsed code (comments and spacing do not count) and the cell's
options that change what it shows; the content of each ``-i`` value; the
values of the R globals the code reads (functions through the globals they
read); the ``py$`` values it reads; the packages' versions; R's version;
the content of the files it names (string literals naming existing files,
and ``--cache-files``); ``--cache-extra`` Python values; and, when the cell
drew random numbers without setting its own seed first, the generator's
state coming in. R's options, environment variables and the locale do not
count (keying cosmetic state makes a cache miss far too often).

A hit replays the cell: the R objects it created or changed (large ones read
when first used), the names it removed, the packages it attached, the
options it set, the generator's state it left, its outputs in their order
(text, messages, warnings, tables, plots as they were), then the Python
values it set through ``py$``. One line says it was served from cache, when
it was made and how long it ran; its output metadata (``rmagic_ext.cache``)
marks the hit for runners and CI.

Entries live in a folder (``.rmagic_cache`` beside the notebook by default),
one per cell name, written atomically; a damaged entry is a miss with a
warning; entries past the size limits are dropped, least recently used
first. An entry holds R objects: one from someone else is code from someone
else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import pickle
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from IPython.core.error import UsageError

from .convert import strings
from .session import RCode, as_dict, get_session, is_null

_R = RCode("cache.R")

MODES = ("on", "off", "refresh", "read-only", "strict")
#: The environment variable that sets the mode for a whole run (papermill, CI).
MODE_VARIABLE = "RMAGIC_EXT_CACHE"
FORMAT = 1
_MANIFEST = "entry.json"


class CacheWarning(UserWarning):
    """A cache entry could not be used or kept (damaged, unreadable, too large)."""


class CacheMiss(UsageError):
    """Strict mode: a cached cell that is not in the cache stops the run."""

    def _render_traceback_(self) -> list[str]:
        return [f"CacheMiss: {self}"]


@dataclass
class Settings:
    folder: str = ".rmagic_cache"
    mode: str = "on"
    max_entry: int = 2 * 2**30
    max_total: int = 10 * 2**30

    def effective_mode(self) -> str:
        mode = os.environ.get(MODE_VARIABLE, "").strip().lower() or self.mode
        if mode not in MODES:
            raise UsageError(f"{MODE_VARIABLE}={mode!r}: the cache mode is one of {', '.join(MODES)}")
        return mode


@dataclass
class Request:
    """What a %%R --cache cell asks."""

    name: str
    code: str
    options: str  # the cell's options that change what it shows (plot size, format, display function)
    inputs: list[str]  # R names the -i values were assigned to
    files: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    rerun: bool = False


# -- the key ----------------------------------------------------------------------------


def _hash(data: bytes | str) -> str:
    return hashlib.blake2b(data.encode() if isinstance(data, str) else data, digest_size=16).hexdigest()


def python_hash(value: Any) -> str:
    """A Python value by content (pickled; its repr where it does not pickle)."""
    try:
        return _hash(pickle.dumps(value, protocol=5))
    except Exception:  # noqa: BLE001 - some objects do not pickle
        return _hash(repr(value))


def key_parts(request: Request, namespace: dict) -> dict[str, Any]:
    """The key of a cell, part by part (each a hash), for lookup and ``why``."""
    session = get_session()
    with session.entered():
        found = as_dict(_R("cache_key_parts", request.code, strings(list(request.files))))
        parts = {name: _plain(value) for name, value in found.items()}
        inputs = _plain(_R("cache_hash_names", strings(list(request.inputs)))) if request.inputs else {}
    parts["inputs"] = dict(zip(request.inputs, inputs.values())) if isinstance(inputs, dict) else {}
    parts["options"] = _hash(request.options)
    read, written = parts.pop("py") or [], parts.pop("py_written") or []
    parts["py"] = {name: python_hash(namespace.get(name)) for name in _listed(read)}
    parts["py_written"] = sorted(_listed(written))
    parts["extra"] = {name: python_hash(value) for name, value in request.extras.items()}
    return parts


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _plain(value) -> Any:
    """An R answer as JSON-able Python: strings, lists of them, dicts of them."""
    if is_null(value):
        return []
    names = value.names if hasattr(value, "names") and not is_null(value.names) else None
    if value.typeof.name == "VECSXP":
        items = [_plain(v) for v in value]
        return dict(zip([str(n) for n in names], items)) if names is not None else items
    items = [str(v) if not isinstance(v, bool) else v for v in value]
    if names is not None and len(names):
        return dict(zip([str(n) for n in names], items))
    if len(items) == 1:
        return items[0]
    return items


_COMPARED = ("code", "options", "inputs", "globals", "py", "packages", "files", "extra", "r_version")


def differences(stored: dict, now: dict, uses_rng: bool) -> list[str]:
    """Which inputs of the key changed since the stored run, in words."""
    said = []
    labels = {"code": "the code", "options": "the cell's options", "r_version": "R's version"}
    for part in _COMPARED + (("rng",) if uses_rng else ()):
        old, new = stored.get(part), now.get(part)
        if old == new:
            continue
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            kind = {
                "inputs": "-i value",
                "globals": "R global",
                "py": "py$ value",
                "packages": "package",
                "files": "file",
                "extra": "--cache-extra value",
            }[part]
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    what = "is new" if name not in old else "is gone" if name not in new else "changed"
                    said.append(f"{kind} {name} {what}")
        elif part == "rng":
            said.append("the random-number state coming in (the cell draws random numbers and sets no seed first)")
        else:
            said.append(f"{labels.get(part, part)} changed")
    return said


# -- storage ---------------------------------------------------------------------------------


class Store:
    """One folder of entries: per cell name, one entry (a folder) per key
    seen, so that a cell whose inputs change back is served again."""

    PER_NAME = 8  # entries kept per cell name, least recently used dropped first

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.folder)

    def _dir(self, name: str) -> Path:
        return self.root / re.sub(r"[^A-Za-z0-9._-]", "_", name)

    def candidates(self, name: str) -> list[dict]:
        """The entries of ``name``, most recently used first; damaged ones
        are a warning each and are left out."""
        folder = self._dir(name)
        found = []
        for child in folder.iterdir() if folder.is_dir() else []:
            if child.name.startswith(".") or not (child / _MANIFEST).exists():
                continue
            entry = self._load(child, name)
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda e: -e["used"])

    def _load(self, folder: Path, name: str) -> dict | None:
        try:
            entry = json.loads((folder / _MANIFEST).read_text())
            if entry.get("format") != FORMAT or entry.get("name") != name:
                raise ValueError("not an entry of this rmagic_ext")
            for file in entry["objects"]["files"]:
                if not (folder / "objects" / file).exists():
                    raise ValueError(f"object file {file} is missing")
            for file in ("options.rds", "seed.rds", "python.pickle"):
                if not (folder / file).exists():
                    raise ValueError(f"{file} is missing")
            if _hash((folder / "outputs.pickle").read_bytes()) != entry["outputs_hash"]:
                raise ValueError("its outputs do not match their hash")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"a cache entry of {name} is damaged ({exc}): it is not used", CacheWarning, stacklevel=3)
            return None
        entry["folder"], entry["used"] = str(folder), (folder / _MANIFEST).stat().st_mtime
        return entry

    @contextlib.contextmanager
    def writing(self, name: str, key: str) -> Iterator[Path]:
        """A new entry's folder; it is in place only when complete."""
        home = self._dir(name)
        home.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=home))
        try:
            yield staging
            final = home / key
            if final.exists():
                trash = Path(tempfile.mkdtemp(prefix=".old-", dir=home))
                os.replace(final, trash / "entry")
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def touch(self, entry: dict) -> None:
        with contextlib.suppress(OSError):
            os.utime(Path(entry["folder"]) / _MANIFEST)

    def entries(self) -> list[dict]:
        """Every entry (read without checking), for listing and limits."""
        found = []
        for manifest in self.root.glob(f"*/*/{_MANIFEST}") if self.root.exists() else []:
            if manifest.parent.name.startswith("."):
                continue
            with contextlib.suppress(OSError, ValueError):
                entry = json.loads(manifest.read_text())
                entry["folder"], entry["used"] = str(manifest.parent), manifest.stat().st_mtime
                found.append(entry)
        return found

    def remove_entry(self, entry: dict) -> None:
        shutil.rmtree(entry["folder"], ignore_errors=True)

    def enforce_limits(self, name: str) -> None:
        """At most PER_NAME entries for ``name``; then the least recently
        used entries go until all fit in the total limit."""
        for extra in self.candidates(name)[self.PER_NAME :]:
            self.remove_entry(extra)
        entries = sorted(self.entries(), key=lambda e: e["used"])
        total = sum(e.get("size", 0) for e in entries)
        while entries and total > self.settings.max_total:
            oldest = entries.pop(0)
            total -= oldest.get("size", 0)
            self.remove_entry(oldest)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# -- outputs ----------------------------------------------------------------------------


class _Tee:
    """A stream that records what is written and passes it on."""

    def __init__(self, stream, name: str, record: list) -> None:
        self._stream, self._name, self._record = stream, name, record

    def write(self, text: str) -> int:
        if text:
            self._record.append(("text", self._name, text))
        return self._stream.write(text)

    def __getattr__(self, attr):
        return getattr(self._stream, attr)


@contextlib.contextmanager
def recording(shell) -> Iterator[list]:
    """The cell's outputs in their order: text by stream, and each display
    (an update replaces its display's data)."""
    record: list = []
    publisher = getattr(shell, "display_pub", None)
    original = publisher.publish if publisher is not None else None

    def publish(data, metadata=None, *args, **kwargs):
        transient = kwargs.get("transient") or {}
        display_id = transient.get("display_id")
        if kwargs.get("update") and display_id is not None:
            for i, item in enumerate(record):
                if item[0] == "display" and item[3] == display_id:
                    record[i] = ("display", data, metadata or {}, display_id)
        else:
            record.append(("display", data, metadata or {}, display_id))
        return original(data, metadata, *args, **kwargs)

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(stdout, "stdout", record), _Tee(stderr, "stderr", record)
    if publisher is not None:
        publisher.publish = publish
    try:
        yield record
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if publisher is not None:
            del publisher.publish  # the class's own method again


def replay_outputs(outputs: list) -> None:
    from IPython.display import display

    for item in outputs:
        if item[0] == "text":
            stream = sys.stdout if item[1] == "stdout" else sys.stderr
            stream.write(item[2])
            stream.flush()
        else:
            sys.stdout.flush()
            sys.stderr.flush()
            display(item[1], raw=True, metadata=item[2])


# -- a cached cell --------------------------------------------------------------------------


def cached_cell(shell, settings: Settings, request: Request, namespace: dict, run: Callable[[], Any]):
    """Serve the cell from the cache, or run it (``run``) and store it.
    Answers what ``run`` answered, or None on a hit."""
    mode = settings.effective_mode()
    if mode == "off":
        return run()
    store = Store(settings)
    now = key_parts(request, namespace)
    stored = store.candidates(request.name)
    hit = next((e for e in stored if not differences(e["parts"], now, e["uses_rng"])), None)
    if mode != "refresh" and not request.rerun and hit is not None:
        _replay(shell, store, hit, namespace)
        return None
    why = (["it was never cached"] if not stored else differences(stored[0]["parts"], now, stored[0]["uses_rng"])) or [
        "a rerun was asked for"
    ]
    if mode == "strict":
        raise CacheMiss(f"cell {request.name} is not served from the cache (strict mode): {'; '.join(why)}")
    _say_miss(request.name, why, mode)
    session = get_session()
    with session.entered():
        before = _R("cache_before")
    python_before = {name: id(value) for name, value in namespace.items()}
    started = time.perf_counter()
    with recording(shell) as outputs:
        result = run()
    seconds = time.perf_counter() - started
    if mode != "read-only":
        _store(store, request, now, before, outputs, seconds, namespace, python_before)
    return result


def _say_miss(name: str, why: list[str], mode: str) -> None:
    from IPython.display import display

    stored = "" if mode != "read-only" else " (read-only: not stored)"
    display(
        {"text/plain": f"[rmagic_ext] {name} runs{stored}: {'; '.join(why)}"},
        raw=True,
        metadata={"rmagic_ext": {"cache": {"hit": False, "name": name, "why": why}}},
    )


def _store(
    store: Store,
    request: Request,
    parts: dict,
    before,
    outputs: list,
    seconds: float,
    namespace: dict,
    python_before: dict,
) -> None:
    py_names = set(parts["py"]) | set(parts["py_written"])
    python_set = {
        name: value for name, value in namespace.items() if name in py_names and python_before.get(name) != id(value)
    }
    try:
        key = _hash(json.dumps(parts, sort_keys=True))
        with store.writing(request.name, key) as folder:
            with get_session().entered():
                res = as_dict(_R("cache_store", before, str(folder)))
                refused = None if is_null(res["refused"]) else str(res["refused"][0])
                if refused is not None:
                    print(
                        f"rmagic_ext: cell {request.name} is not cached: R object '{refused}' holds an external "
                        "pointer (a connection, a handle, a C object), which cannot be stored",
                        file=sys.stderr,
                    )
                    raise _NotStored()
                stored = {field: _texts(res[field]) for field in ("names", "files", "removed", "attached")}
                drew = bool(res["drew"][0])
            data = pickle.dumps(_joined([_picklable(item) for item in outputs]), protocol=5)
            (folder / "outputs.pickle").write_bytes(data)
            (folder / "python.pickle").write_bytes(pickle.dumps(python_set, protocol=5))
            uses_rng = drew and parts.get("seeds_first") not in (True, "TRUE")
            entry: dict[str, Any] = {
                "format": FORMAT,
                "name": request.name,
                "parts": parts,
                "uses_rng": uses_rng,
                "request": {
                    "code": request.code,
                    "options": request.options,
                    "inputs": request.inputs,
                    "files": request.files,
                    "extras": sorted(request.extras),
                },
                "made": dt.datetime.now().isoformat(timespec="seconds"),
                "seconds": round(seconds, 3),
                "objects": stored,
                "outputs_hash": _hash(data),
            }
            entry["size"] = _folder_size(folder)
            if entry["size"] > store.settings.max_entry:
                print(
                    f"rmagic_ext: cell {request.name} is not cached: its entry would take {entry['size']:,} bytes, "
                    f"above RMagics.cache_max_entry ({store.settings.max_entry:,})",
                    file=sys.stderr,
                )
                raise _NotStored()
            (folder / _MANIFEST).write_text(json.dumps(entry))
    except _NotStored:
        return
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        print(
            f"rmagic_ext: cell {request.name} is not cached: a Python value it set cannot be stored ({exc})",
            file=sys.stderr,
        )
        return
    store.enforce_limits(request.name)


def _texts(value) -> list[str]:
    return [] if is_null(value) else [str(v) for v in value]


class _NotStored(Exception):
    pass


def _joined(outputs: list) -> list:
    """Adjacent writes to one stream as one text (as the front end shows them)."""
    joined: list = []
    for item in outputs:
        if item[0] == "text" and joined and joined[-1][0] == "text" and joined[-1][1] == item[1]:
            joined[-1] = ("text", item[1], joined[-1][2] + item[2])
        else:
            joined.append(item)
    return joined


def _picklable(item):
    if item[0] == "display":
        return ("display", dict(item[1]), dict(item[2]), None)
    return item


def _replay(shell, store: Store, entry: dict, namespace: dict) -> None:
    from IPython.display import display

    folder = Path(entry["folder"])
    outputs = pickle.loads((folder / "outputs.pickle").read_bytes())
    python_set = pickle.loads((folder / "python.pickle").read_bytes())
    objects = entry["objects"]
    with get_session().entered():
        _R(
            "cache_replay",
            str(folder),
            strings(objects["names"]),
            strings(objects["files"]),
            strings(objects["removed"]),
            strings(objects["attached"]),
        )
    made = entry["made"].replace("T", " ")
    line = f"[rmagic_ext] {entry['name']} served from cache (made {made}, ran {entry['seconds']:.2f} s)"
    display(
        {"text/plain": line},
        raw=True,
        metadata={
            "rmagic_ext": {
                "cache": {"hit": True, "name": entry["name"], "made": entry["made"], "seconds": entry["seconds"]}
            }
        },
    )
    replay_outputs(outputs)
    namespace.update(python_set)
    store.touch(entry)


# -- %Rcache ------------------------------------------------------------------------------


def listing(settings: Settings) -> str:
    entries = Store(settings).entries()
    if not entries:
        return f"no cached cells in {settings.folder}"
    lines = [f"{'name':<32} {'made':<20} {'ran':>8} {'size':>12}"]
    for e in sorted(entries, key=lambda e: (e["name"], -e["used"])):
        lines.append(f"{e['name']:<32} {e['made'].replace('T', ' '):<20} {e['seconds']:>7.2f}s {e.get('size', 0):>12,}")
    return "\n".join(lines)


def why(settings: Settings, name: str, namespace: dict) -> str:
    """Which inputs of a cached cell's key changed since its latest stored
    run (what it read is read again now: R's globals, -i values as R holds
    them, py$ and --cache-extra values in ``namespace``, files)."""
    stored = Store(settings).candidates(name)
    if not stored:
        return f"{name} is not in the cache"
    entry = stored[0]
    asked = entry["request"]
    request = Request(
        name=name,
        code=asked["code"],
        options=asked["options"],
        inputs=asked["inputs"],
        files=asked["files"],
        extras={n: namespace.get(n) for n in asked["extras"]},
    )
    request.inputs = [n for n in request.inputs if get_session().lookup(n) is not None]
    now = key_parts(request, namespace)
    if any(not differences(e["parts"], now, e["uses_rng"]) for e in stored):
        return f"{name}: nothing changed: the next run is served from cache"
    return f"{name}: " + "; ".join(differences(entry["parts"], now, entry["uses_rng"]))


def clear(
    settings: Settings, name: str | None = None, everything: bool = False, older_than: float | None = None
) -> list[str]:
    store = Store(settings)
    removed = []
    for entry in store.entries():
        old_enough = older_than is not None and time.time() - entry["used"] > older_than
        if everything or entry["name"] == name or old_enough:
            store.remove_entry(entry)
            removed.append(entry["name"])
    return sorted(set(removed))


def parse_age(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``45s`` in seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not found:
        raise UsageError(f"--older-than: {text!r} is not an age such as 7d, 12h, 30m or 45s")
    return float(found.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)]
