"""The R environment pane's kernel side: what JupyterLab's "R environment"
panel lists, opens and acts on, over one Jupyter comm per front end.

The front end opens a comm to :data:`TARGET` (or answers the one the kernel
opens when the extension loads) and subscribes; it then gets a snapshot of
R's global environment and of the Python names R sees as ``py$``, and after
each cell an update holding only what changed. Nothing runs while no pane
listens, nor while the kernel is idle: R is scanned after a cell only when
the cell entered R. Values never travel, only summaries, pages of tables,
source text and drawn plots.

Messages (``type``): front end to kernel ``subscribe``, ``page`` (name,
offset, limit, sort, descending), ``open`` (name), ``pull`` (name),
``remove`` (name); kernel to front end ``snapshot``, ``update``, and a
reply to each request carrying its ``request`` id: ``page``, ``text``,
``plot``, ``pulled``, ``removed`` or ``error`` (one line).
"""

from __future__ import annotations

import base64
import keyword
import math
import re
import sys
import types

from . import session as session_module
from .errors import RError
from .session import RCode, as_dict, get_session, on_start

TARGET = "rmagic_ext.environment"
MAX_PAGE_ROWS = 1000
TEXT_LINES = 2000
PLOT_SIZE = (720, 480)

_R = RCode("environment.R")
_entered = {"r": True}  # R ran since the last scan (set by each outermost entry)
_pane: "Pane | None" = None


def _mark_entered() -> None:
    _entered["r"] = True


@on_start
def _follow_entries(session) -> None:
    session.on_leave(_mark_entered)


class PaneError(Exception):
    """A request the pane cannot answer: its one-line message goes back."""


class Pane:
    """The kernel's side of every open pane: subscribed comms, what they were
    last sent (R keeps its side of that: ``.seen`` in R/environment.R;
    Python's names here), and the requests they make."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.comms: list = []
        self.python_seen: dict[str, tuple] = {}
        self.announcement = None

    # -- comms ------------------------------------------------------------------

    def install(self) -> None:
        from comm import create_comm, get_comm_manager

        get_comm_manager().register_target(TARGET, self._opened_by_front_end)
        self.shell.events.register("post_run_cell", self.after_cell)
        # Front ends already open learn that the extension is here now.
        self.announcement = create_comm(target_name=TARGET, data={"type": "hello"})
        self.announcement.on_msg(lambda msg: self.receive(self.announcement, msg))

    def uninstall(self) -> None:
        from comm import get_comm_manager

        get_comm_manager().unregister_target(TARGET, self._opened_by_front_end)
        self.shell.events.unregister("post_run_cell", self.after_cell)
        for comm in [*self.comms, self.announcement]:
            if comm is not None:
                comm.close()
        self.comms.clear()

    def _opened_by_front_end(self, comm, open_msg) -> None:
        comm.on_msg(lambda msg: self.receive(comm, msg))
        self.receive(comm, {"content": {"data": {"type": "subscribe"}}})

    def subscribe(self, comm) -> None:
        """A snapshot for a pane that opens; the panes already open first get
        what changed, so that all of them go on from the same state."""
        if self.comms:
            self.send_changes()
        if comm not in self.comms:
            self.comms.append(comm)
            comm.on_close(lambda _msg: self.comms.remove(comm) if comm in self.comms else None)
        r_rows, _ = self._r_changes(reset=True)
        self.python_seen = self._python_fingerprints()
        comm.send(
            {
                "type": "snapshot",
                "r_started": self._r_started(),
                "r": r_rows,
                "python": [self._python_row(n) for n in sorted(self.python_seen)],
            }
        )

    def after_cell(self, _result=None) -> None:
        """After each cell, while a pane listens. Whatever fails here goes to
        the panes as one line, never into the cell's output."""
        if not self.comms:
            return
        try:
            self.send_changes()
        except Exception as exc:  # noqa: BLE001
            for comm in list(self.comms):
                comm.send({"type": "error", "request": None, "message": _one_line(exc)})

    def send_changes(self) -> dict | None:
        """An update to every subscribed pane of what changed since the last
        one (None, and nothing sent, when nothing did)."""
        update = {}
        changed, removed = self._r_changes()
        if changed or removed:
            update["r"] = {"changed": changed, "removed": removed}
        python_now = self._python_fingerprints()
        changed, removed = _diff(self.python_seen, python_now)
        self.python_seen = python_now
        if changed or removed:
            update["python"] = {"changed": [self._python_row(n) for n in changed], "removed": removed}
        if not update:
            return None
        update.update(type="update", r_started=self._r_started())
        for comm in list(self.comms):
            comm.send(update)
        return update

    def receive(self, comm, msg) -> None:
        data = msg["content"]["data"]
        kind = data.get("type")
        request = data.get("request")
        try:
            if kind == "subscribe":
                self.subscribe(comm)
                return
            handler = self.handlers.get(kind)
            if handler is None:
                raise PaneError(f"unknown request {kind!r}")
            reply = handler(self, data)
        except (PaneError, RError) as exc:
            reply = {"type": "error", "message": _one_line(exc)}
        except Exception as exc:  # noqa: BLE001 - a pane's request never reaches ipykernel's log as a traceback
            reply = {"type": "error", "message": f"{type(exc).__name__}: {_one_line(exc)}"}
        reply["request"] = request
        comm.send(reply)
        if kind in ("pull", "remove") and reply["type"] != "error":
            self.send_changes()

    # -- requests ---------------------------------------------------------------

    def page(self, data: dict) -> dict:
        name = _r_name(data)
        offset = max(0, int(data.get("offset", 0)))
        limit = min(MAX_PAGE_ROWS, max(1, int(data.get("limit", 100))))
        sort = data.get("sort")
        with get_session().entered():
            page = as_dict(
                _R(
                    "env_page",
                    name,
                    offset,
                    limit,
                    int(sort) + 1 if sort is not None else math.nan,
                    bool(data.get("descending", False)),
                )
            )
            return {
                "type": "page",
                "name": name,
                "columns": list(page["columns"]),
                "types": list(page["types"]),
                "rows": list(page["rows"]),
                "cells": [list(col) for col in page["cells"]],
                "total": int(page["total"][0]),
                "offset": offset,
                "sort": sort,
                "descending": bool(data.get("descending", False)),
            }

    def open(self, data: dict) -> dict:
        name = _r_name(data)
        row = self._r_rows([name])
        if not row:
            raise PaneError(f"R has no object named {name!r}")
        if row[0]["kind"] == "plot":
            return {"type": "plot", "name": name, "png": self._draw(name)}
        with get_session().entered():
            text = str(_R("env_text", name, TEXT_LINES)[0])
        return {"type": "text", "name": name, "kind": row[0]["kind"], "text": text}

    def pull(self, data: dict) -> dict:
        name = _r_name(data)
        python_name = python_name_for(name)
        magics = self.shell.magics_manager.registry.get("RMagics")
        if magics is None:
            raise PaneError("the R magics are not loaded (%load_ext rmagic_ext)")
        magics.pull(name, python_name)
        return {
            "type": "pulled",
            "name": name,
            "python_name": python_name,
            "python_type": _type_name(self.shell.user_ns[python_name]),
        }

    def remove(self, data: dict) -> dict:
        name = _r_name(data)
        with get_session().entered():
            _R("env_remove", name)
        return {"type": "removed", "name": name}

    handlers = {"page": page, "open": open, "pull": pull, "remove": remove}

    def _draw(self, name: str) -> str:
        session = get_session()
        path = session.tmpdir / "environment-pane.png"
        try:
            with session.entered():
                _R("env_draw", name, str(path), *PLOT_SIZE)
            return base64.b64encode(path.read_bytes()).decode("ascii")
        finally:
            path.unlink(missing_ok=True)

    # -- R's side ---------------------------------------------------------------

    @staticmethod
    def _r_started() -> bool:
        return session_module._session is not None

    def _r_changes(self, reset: bool = False) -> tuple[list[dict], list[str]]:
        """Rows of the names of R's global environment changed since the last
        scan (of every name with ``reset``) and the names removed; none when
        R did not run since (or has not started: the pane never starts R)."""
        if not self._r_started() or not (_entered["r"] or reset):
            return [], []
        session = get_session()
        with session.entered():
            rows, removed = _R("env_changes", reset)
            found = _rows(rows), list(removed)
        _entered["r"] = False  # the scan itself entered R
        return found

    def _r_rows(self, names: list[str]) -> list[dict]:
        if not names or not self._r_started():
            return []
        session = get_session()
        with session.entered():
            return _rows(_R("env_rows", session.ri.StrSexpVector(names)))

    # -- Python's side: what R sees as py$ ------------------------------------------

    def _python_names(self) -> list[str]:
        hidden = self.shell.user_ns_hidden
        return [
            name
            for name, value in self.shell.user_ns.items()
            if not name.startswith("_") and name not in hidden and not isinstance(value, types.ModuleType)
        ]

    def _python_fingerprints(self) -> dict[str, tuple]:
        ns = self.shell.user_ns
        return {name: _python_fingerprint(ns[name]) for name in self._python_names()}

    def _python_row(self, name: str) -> dict:
        value = self.shell.user_ns[name]
        row = {"name": name, "class": _type_name(value), "type": "python", "kind": "python", "origin": "python"}
        try:
            row.update(dims=_python_dims(value), size=_python_size(value), summary=_python_summary(value))
        except Exception as exc:  # noqa: BLE001 - an object whose attributes raise is still listed
            row.update(dims="", size=None, summary=f"<cannot summarise: {type(exc).__name__}>")
        return row


# -- helpers ------------------------------------------------------------------------


def _rows(columns) -> list[dict]:
    """env_rows()'s columns (read while holding R) as one dict per object."""
    fields = {key: list(values) for key, values in as_dict(columns).items()}
    return [
        {
            "name": fields["name"][i],
            "class": fields["class"][i],
            "type": fields["type"][i],
            "dims": fields["dims"][i],
            "size": _size(fields["size"][i]),
            "summary": fields["summary"][i],
            "kind": fields["kind"][i],
            "origin": "r",
        }
        for i in range(len(fields.get("name", ())))
    ]


def _diff(before: dict, now: dict) -> tuple[list[str], list[str]]:
    changed = sorted(name for name, print_ in now.items() if before.get(name) != print_)
    removed = sorted(name for name in before if name not in now)
    return changed, removed


def _r_name(data: dict) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PaneError("the request names no R object")
    if "\0" in name:
        raise PaneError("an R name cannot hold a NUL byte")
    return name


def python_name_for(r_name: str) -> str:
    """The Python name a pulled R object gets: its own where Python allows
    it (``df``), else one with every other character as ``_`` (``my.df`` ->
    ``my_df``)."""
    if r_name.isidentifier() and not keyword.iskeyword(r_name):
        return r_name
    name = re.sub(r"\W", "_", r_name)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"r_{name}"
    return name


def _one_line(exc: BaseException) -> str:
    text = str(exc.message if isinstance(exc, RError) else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _size(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _type_name(value) -> str:
    cls = type(value)
    module = cls.__module__.split(".")[0]
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


_SCALARS = (int, float, complex, str, bytes, bool)


def _python_fingerprint(value) -> tuple:
    """Enough to see that a name now holds another object, or an object of
    another shape; a scalar's value (the summary shows it)."""
    try:
        shape = getattr(value, "shape", None)
        if not isinstance(shape, tuple):
            shape = _safe_len(value)
    except Exception:  # noqa: BLE001 - a property that raises
        shape = None
    return id(value), type(value), shape, _short_repr(value) if isinstance(value, _SCALARS) else ""


def _short_repr(value) -> str:
    """repr() of a scalar, at most 120 characters, without building the repr
    of a gigabyte string."""
    text = repr(value[:121]) if isinstance(value, (str, bytes)) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _safe_len(value) -> int | None:
    if isinstance(value, type) or not hasattr(type(value), "__len__"):
        return None
    try:
        return len(value)
    except Exception:  # noqa: BLE001 - some objects' __len__ raises
        return None


def _python_dims(value) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return " \u00d7 ".join(f"{n:,}" for n in shape)
    length = _safe_len(value)
    return f"{length:,}" if length is not None else ""


def _python_size(value) -> float | None:
    try:
        if hasattr(value, "memory_usage") and hasattr(value, "columns"):  # pandas frames
            return float(value.memory_usage(index=True, deep=False).sum())
        nbytes = getattr(value, "nbytes", None)  # numpy, pandas series, pyarrow, xarray
        if isinstance(nbytes, int):
            return float(nbytes)
        if hasattr(value, "estimated_size"):  # polars
            return float(value.estimated_size())
        return float(sys.getsizeof(value))
    except Exception:  # noqa: BLE001 - a size is a hint
        return None


def _python_summary(value) -> str:
    if callable(value) and not isinstance(value, type):
        import inspect

        try:
            return f"{getattr(value, '__name__', 'function')}{inspect.signature(value)}"[:120]
        except (TypeError, ValueError):
            return getattr(value, "__name__", "a callable")
    if isinstance(value, _SCALARS) or value is None:
        return _short_repr(value)
    shape = getattr(value, "shape", None)
    if hasattr(value, "columns") and isinstance(shape, tuple) and len(shape) == 2:
        return f"{shape[0]:,} rows \u00d7 {shape[1]:,} columns"
    dtype = getattr(value, "dtype", None)
    if dtype is not None and isinstance(shape, tuple):
        return f"{dtype} array of shape {shape}"
    length = _safe_len(value)
    return f"{_type_name(value)} of length {length:,}" if length is not None else _type_name(value)


# -- installing in a kernel -------------------------------------------------------------


def install(shell) -> "Pane | None":
    """Serve R environment panes from this kernel (kernels only: a terminal
    IPython has no front end to send to)."""
    global _pane
    if getattr(shell, "kernel", None) is None:
        return None
    if _pane is None or _pane.shell is not shell:
        _pane = Pane(shell)
        _pane.install()
    return _pane


def uninstall(shell) -> None:
    global _pane
    if _pane is not None and _pane.shell is shell:
        _pane.uninstall()
        _pane = None
