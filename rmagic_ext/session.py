"""The one embedded R of this process.

Starts R lazily through ``rpy2.rinterface``, runs code the way R's console
does (parse everything first, then evaluate and auto-print each top-level
expression), streams R's console text into ``sys.stdout``/``sys.stderr`` while
R runs, turns R conditions into Python exceptions and serialises every entry
into R behind one re-entrant lock.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

from . import _rapi
from .errors import ConversionError, RError, RInterrupt, RParseError, RSetupError
from .rsetup import mismatch_advice

_R_HELPERS = ("session.R", "graphics.R", "bridge.R")


@contextlib.contextmanager
def _setup_errors(doing: str) -> Iterator[None]:
    """Failures of loading or starting R become RSetupError with the fix."""
    try:
        yield
    except RSetupError:
        raise
    except Exception as exc:  # ImportError, OSError, cffi's missing-symbol errors, R's start-up
        raise RSetupError(f"cannot {doing} ({type(exc).__name__}: {exc}). {mismatch_advice()}") from None


def start_embedded_r() -> None:
    """Load libR through rpy2 and start R, as the session and doctor's probe
    both do; RSetupError (with the fix) when that fails."""
    with _setup_errors("load R through rpy2"):
        _rapi.rpy2_modules()
    with _setup_errors("start the embedded R"):
        _rapi.start_r()


@dataclass
class Outcome:
    """What running a cell left behind: the last value, its visibility, and
    whether the last expression wrote to R's standard output."""

    value: Any
    visible: bool
    printed: bool


class Session:
    """The embedded R. Use :func:`get_session`; there is one per process."""

    def __init__(self) -> None:
        with _setup_errors("load R through rpy2"):
            self.ri = _rapi.rpy2_modules().ri
        self.lock: threading.RLock = _rapi.lock()
        self._console_decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self._wrote_stdout = False
        self._depth = threading.local()  # nesting of entered() per thread
        self._interrupted = False
        self._user_code = 0  # depth of user Python code run for R (callbacks)
        with self.lock:
            self._start()

    # -- start-up ---------------------------------------------------------

    def _start(self) -> None:
        ri = self.ri
        start_embedded_r()  # a no-op when R is already up (e.g. started by rpy2)
        self._stack_check = _rapi.c_stack() is not None
        _rapi.route_console(self._write_stdout, _write_stderr, self._decode_console)
        helpers = ri.baseenv["new.env"](parent=ri.baseenv)
        for name in _R_HELPERS:
            with resources.as_file(resources.files("rmagic_ext").joinpath("R", name)) as file:
                ri.baseenv["sys.source"](str(file), envir=helpers, **{"keep.source": False})
        self.helpers = helpers
        self.globalenv = ri.globalenv
        self.tmpdir = Path(tempfile.mkdtemp(prefix="rmagic_ext-"))  # cells' files, removed at exit
        atexit.register(shutil.rmtree, self.tmpdir, True)
        helpers["refuse_quit"]()
        from .convert import registry
        registry.set_guard(self.entered, self.check_interrupt)

    def _decode_console(self, data: bytes) -> str:
        """R's console text goes to whatever sys.stdout/sys.stderr are when it
        is written (ipykernel swaps them per cell). R may print bytes that are
        not UTF-8 (latin1 data, a multibyte character split between writes):
        they are decoded incrementally, bad bytes shown as \\xNN."""
        return self._console_decoder.decode(data)

    def _write_stdout(self, text: str) -> None:
        self._wrote_stdout = True
        sys.stdout.write(text)

    # -- running code -----------------------------------------------------

    def parse(self, code: str, name: str = "<cell>"):
        """Parse ``code`` into R's expression vector, or raise RParseError."""
        with self.entered():
            res = as_dict(self.helpers["parse_cell"](code, name))
        if _scalar(res["status"]) != "ok":
            line, column = _scalar(res["line"]), _scalar(res["column"])
            raise RParseError(_scalar(res["message"]), line, column, _scalar(res["detail"]))
        return res["exprs"]

    def run(self, code: str, *, name: str = "<cell>", show: Callable | None = None,
            keep_last: bool = False, after_each: Callable[[bool], None] | None = None) -> Outcome:
        """Run ``code`` like R's console: parse it all, then evaluate each
        top-level expression in the global environment, showing visible values
        with ``show`` (R's print/show by default) as they come.

        With ``keep_last`` the last value is returned instead of shown.
        ``after_each(last)`` runs after every top-level expression (graphics
        use it to show finished pages in order).
        """
        exprs = self.parse(code, name)
        outcome = Outcome(self.ri.NULL, False, False)
        with self.entered():
            for index in range(len(exprs)):
                self._wrote_stdout = False
                value, visible, warnings = self._eval_toplevel(exprs, index)
                last = index == len(exprs) - 1
                try:
                    if visible and not (last and keep_last):
                        self._check(show(value) if show else self.print_value(value))
                finally:
                    if len(warnings):
                        self.helpers["print_warnings"](warnings)
                if after_each is not None:
                    after_each(last)
                outcome = Outcome(value, visible, self._wrote_stdout)
        return outcome

    def assign(self, name: str, value) -> None:
        """Bind ``value`` (an rpy2 Sexp, or a bare cffi SEXP) to ``name`` in the
        global environment as R's ``<-`` does: no copy (rpy2's own assignment
        duplicates the whole object first); R copies later only if the object
        is modified while shared. Locked and active bindings (and a locked
        environment) get R's own ``assign``, so R's errors arrive as RError."""
        with self.entered():
            symbol = self._symbol(name)
            if _rapi.binding_kind(self.globalenv, symbol) == "special":
                run_helper("assign_global", name, self.ri.ListSexpVector([_rapi.wrap(_rapi.cdata(value))]))
            else:  # no rpy2 wrapper: its reference would keep the value from being overwritten in place
                _rapi.define(symbol, value, self.globalenv)

    def bound_value(self, name: str):
        """The value (a bare cffi SEXP) bound to ``name`` in the global
        environment itself, when that is an ordinary binding; else None."""
        with self.entered():
            symbol = self._symbol(name)
            if _rapi.binding_kind(self.globalenv, symbol) != "ordinary":
                return None
            return _rapi.bound_value(self.globalenv, symbol)

    @staticmethod
    def _symbol(name: str):
        try:
            return _rapi.symbol(name)
        except ValueError as exc:
            raise ConversionError(str(exc)) from None

    def inside_r(self) -> bool:
        """Whether this thread is already in R, e.g. in Python code that R
        code called and that R code is still running."""
        return getattr(self._depth, "value", 0) > 0

    def lookup(self, name: str):
        """The R object called ``name`` as seen from the global environment
        (search path included), or None when there is none."""
        with self.entered():
            found = as_dict(self.helpers["lookup"](name))
        return found["value"] if _scalar(found["found"]) else None

    def print_value(self, value):
        """Print a visible value with R's print/show (what R's console does)."""
        return self.helpers["show_toplevel"](self.ri.ListSexpVector([value]))

    def table_preview(self, value, max_rows: int, max_cols: int) -> dict | None:
        """Size, column types and the formatted edge cells of a data.frame,
        tibble or matrix, or None for other values."""
        with self.entered():
            boxed = self.ri.ListSexpVector([value])
            res = self.helpers["table_preview"](boxed, max_rows, max_cols)
            if res is self.ri.NULL:
                return None
            data = {k: (list(v) if k in ("names", "types", "cells", "row_names") else _scalar(v))
                    for k, v in as_dict(res).items()}
            data["text"] = _scalar(self.helpers["print_text"](boxed, max_rows))
        return data

    def completions(self, line: str) -> tuple[str, list[str]]:
        """R's own completions for the code left of the cursor."""
        with self.entered():
            res = as_dict(self.helpers["complete_line"](line))
        return _scalar(res["token"]) or "", list(res["completions"])

    def _eval_toplevel(self, exprs, index: int):
        outcome = self._check(self.helpers["eval_toplevel"](exprs, index + 1, self.globalenv))
        self.check_interrupt()
        return outcome["value"], bool(_scalar(outcome["visible"])), outcome["warnings"]

    def _check(self, result):
        """Turn an eval_toplevel status list into a dict, or raise what it reports."""
        if result is None:
            return None
        res = as_dict(result)
        status = _scalar(res["status"])
        if status != "ok" and "warnings" in res:
            self.helpers["print_warnings"](res["warnings"])  # R's "In addition: ..."
        if status == "error":
            raise RError(_scalar(res["message"]), _scalar(res["call"]),
                         tuple(res["trace"]), tuple(res["classes"]))
        if status == "interrupt":
            raise RInterrupt()
        return res

    # -- entering R -----------------------------------------------------------

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Hold R for the current thread: the one lock, R's C stack check set
        for this thread, and (on the main thread) SIGINT routed to R.

        Re-entrant: R calling back into Python that calls R again is fine.
        """
        depth = getattr(self._depth, "value", 0)
        if depth:
            self._depth.value = depth + 1
            try:
                yield
            finally:
                self._depth.value = depth
            return
        with self.lock:
            self._depth.value = 1
            try:
                with self._stack_check_for_this_thread(), self._interruptible():
                    yield
            finally:
                self._depth.value = 0
                self._flush_console()

    @contextlib.contextmanager
    def _stack_check_for_this_thread(self) -> Iterator[None]:
        """R measures C stack use from the top of the thread it started on. On
        another thread, point that measure at this thread's own stack for the
        time it holds R, so deep recursion there is an R error, not a crash."""
        mine = _rapi.c_stack_for_this_thread() if self._stack_check else None
        before = _rapi.c_stack() if mine is not None else None
        if before is None:
            yield
            return
        _rapi.set_c_stack(*mine)
        try:
            yield
        finally:
            _rapi.set_c_stack(*before)

    @contextlib.contextmanager
    def _interruptible(self) -> Iterator[None]:
        """While R runs, SIGINT asks R to stop at its next interrupt check
        (R_CheckUserInterrupt) instead of raising inside rpy2's callbacks."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._request_interrupt)
        self._interrupted = False
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            _rapi.request_interrupt(False)  # a late SIGINT must not hit the next cell
            self._interrupted = False

    def _request_interrupt(self, signum, frame) -> None:
        """Ask R to stop at its next check. When the user's own Python code is
        what runs (code R called back into, a display function), stop it at
        once. Other code (rpy2's, ours, which may hold R's protect stack) is
        never interrupted mid-way: it stops at its next checkpoint
        (check_interrupt)."""
        self._interrupted = True
        _rapi.request_interrupt(True)
        if self._user_code:
            raise RInterrupt()

    @contextlib.contextmanager
    def user_code(self) -> Iterator[None]:
        """Mark user Python code that R called (a callback): SIGINT stops it
        at once, even inside a builtin such as time.sleep."""
        self._user_code += 1
        try:
            yield
        finally:
            self._user_code -= 1

    def check_interrupt(self) -> None:
        """A safe point: raise RInterrupt if SIGINT arrived since R was entered."""
        if self._interrupted:
            raise RInterrupt()

    def _flush_console(self) -> None:
        tail = self._console_decoder.decode(b"", final=True)
        if tail:
            sys.stdout.write(tail)


def _write_stderr(text: str) -> None:
    sys.stderr.write(text)


def as_dict(rlist) -> dict:
    """An R named list (our helpers' status lists) as a dict of its elements."""
    return dict(zip(rlist.names, rlist))


def _scalar(vector):
    """The single element of a length-1 R vector, None for NA."""
    value = vector[0]
    return None if _is_na(value) else value


def _is_na(value) -> bool:
    return type(value).__name__.startswith("NA")


_session: Session | None = None
_start_lock = threading.Lock()
_start_hooks: list[Callable[[Session], None]] = []


def get_session() -> Session:
    """The process's R session, started on first use."""
    global _session
    if _session is None:
        with _start_lock:
            if _session is None:
                _session = Session()
                for hook in _start_hooks:  # they may use get_session(): it is set
                    hook(_session)
    return _session


def on_start(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Run ``hook(session)`` once R has started (at once if it has): layers
    above the session install their R side this way, without starting R."""
    _start_hooks.append(hook)
    if _session is not None:
        hook(_session)
    return hook


def run_helper(name: str, *args) -> dict:
    """Call one of session.R's helpers that report like ``eval_toplevel`` (a
    status list) with the same care as ``Session.run`` gives a cell: under the
    R lock, interruptible, R errors raised as RError, deferred warnings printed
    once it is done. Used for R code that is not a cell: RObject member access
    and calls of R functions from Python."""
    session = get_session()
    with session.entered():
        res = session._check(session.helpers[name](*args))
        if _scalar(res["status"]) == "ok" and "warnings" in res:
            session.helpers["print_warnings"](res["warnings"])
    return res
