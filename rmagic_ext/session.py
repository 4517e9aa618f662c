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
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import RError, RInterrupt, RParseError, RSetupError
from .rsetup import mismatch_advice

_R_HELPERS = ("session.R", "graphics.R", "bridge.R")


def _import_rinterface():
    """Import rpy2's low-level interface, or say exactly what to install."""
    try:
        import rpy2.rinterface as ri
        import rpy2.rinterface_lib.callbacks as callbacks
        import rpy2.rinterface_lib.openrlib as openrlib
    except Exception as exc:  # ImportError, OSError, cffi's missing-symbol errors
        raise RSetupError(f"cannot load R through rpy2 ({exc}). {mismatch_advice()}") from None
    return ri, callbacks, openrlib


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
        self.ri, self._callbacks, openrlib = _import_rinterface()
        # rpy2 takes this same lock in its callbacks; sharing it means R is
        # entered by one thread at a time and a callback from R into Python
        # (same thread) can re-enter freely.
        self.lock: threading.RLock = openrlib.rlock
        self._rlib = openrlib.rlib
        self._ffi = openrlib.ffi
        self._console_decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self._wrote_stdout = False
        self._depth = threading.local()  # nesting of entered() per thread
        self._interrupted = False
        self._user_code = 0  # depth of user Python code run for R (callbacks)
        self._main_thread = threading.current_thread() is threading.main_thread()
        with self.lock:
            self._start()

    # -- start-up ---------------------------------------------------------

    def _start(self) -> None:
        ri = self.ri
        library_path = os.environ.get("LD_LIBRARY_PATH")
        with warnings.catch_warnings():
            # rpy2 warns when R's start-up variables (R_LIBS_SITE, ...) are
            # already set, as they are in a kernel started from a process
            # that ran R: noise, not news.
            warnings.filterwarnings("ignore", message="Environment variable", category=UserWarning)
            ri.initr_checkenv()  # a no-op when R is already up (e.g. started by rpy2)
        _restore_library_path(library_path)
        self._stack_limit = _enable_stack_check(self._rlib) if self._main_thread else None
        self._route_console()
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

    def _route_console(self) -> None:
        """Send R's console to whatever sys.stdout/sys.stderr are at the time
        of writing (ipykernel swaps them per cell)."""
        cb = self._callbacks
        cb.consolewrite_print = self._write_stdout
        cb.consolewrite_warnerror = _write_stderr
        cb.showmessage = _write_stderr
        # R may print bytes that are not UTF-8 (latin1 data, a split multibyte
        # character): decode incrementally and show bad bytes as \xNN rather
        # than letting rpy2's strict decoding drop the text.
        import rpy2.rinterface_lib.conversion as rconversion
        rconversion._cchar_to_str_with_maxlen = self._decode_console

    def _decode_console(self, buf, maxlen: int, encoding: str) -> str:
        return self._console_decoder.decode(self._ffi.string(buf, maxlen))

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
        cdata = value.__sexp__._cdata if hasattr(value, "__sexp__") else value
        with self.entered():
            symbol = self._symbol(name)
            if self._ordinary_binding(symbol) is False:
                run_helper("assign_global", name, self.ri.ListSexpVector([wrap_sexp(cdata)]))
            else:  # no rpy2 wrapper: its reference would keep the value from being overwritten in place
                self._rlib.Rf_defineVar(symbol, cdata, self.globalenv.__sexp__._cdata)

    def bound_value(self, name: str):
        """The value (a bare cffi SEXP) bound to ``name`` in the global
        environment itself, when that is an ordinary binding; else None."""
        find = libr().find_var_in_frame
        if find is None:
            return None
        with self.entered():
            symbol = self._symbol(name)
            if not self._ordinary_binding(symbol):
                return None
            return self._ffi.cast("SEXP", find(address(self.globalenv.__sexp__._cdata), address(symbol), 1))

    def _symbol(self, name: str):
        return self._rlib.Rf_install(self._ffi.new("char[]", name.encode("utf-8")))

    def _ordinary_binding(self, symbol) -> bool | None:
        """True for an existing binding of the global environment that is
        neither active (reading or writing it runs R code) nor locked; None
        when there is none and one may be added; False otherwise."""
        env = self.globalenv.__sexp__._cdata
        env_address, symbol_address = address(env), address(symbol)
        lib = libr()
        if not lib.R_existsVarInFrame(env_address, symbol_address):  # the checks below raise then
            return False if self._rlib.R_EnvironmentIsLocked(env) else None
        return not (lib.R_BindingIsActive(symbol_address, env_address)
                    or lib.R_BindingIsLocked(symbol_address, env_address))

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
        if self._stack_limit is None or threading.current_thread() is threading.main_thread():
            yield
            return
        main = (self._rlib.R_CStackStart, self._rlib.R_CStackLimit)
        top, size = _thread_stack() or (main[0], _NO_STACK_LIMIT)
        self._rlib.R_CStackStart = top
        self._rlib.R_CStackLimit = int(size * 0.95) if size != _NO_STACK_LIMIT else size
        try:
            yield
        finally:
            self._rlib.R_CStackStart, self._rlib.R_CStackLimit = main

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
            self._rlib.R_interrupts_pending = 0  # a late SIGINT must not hit the next cell
            self._interrupted = False

    def _request_interrupt(self, signum, frame) -> None:
        """Ask R to stop at its next check. When the user's own Python code is
        what runs (code R called back into, a display function), stop it at
        once. Other code (rpy2's, ours, which may hold R's protect stack) is
        never interrupted mid-way: it stops at its next checkpoint
        (check_interrupt)."""
        self._interrupted = True
        self._rlib.R_interrupts_pending = 1
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


_NO_STACK_LIMIT = 2**64 - 1  # uintptr_t(-1): R's "do not check"


def _restore_library_path(before: str | None) -> None:
    """rpy2 puts R's library folders (/usr/lib/x86_64-linux-gnu, ...) in front
    of LD_LIBRARY_PATH once R is loaded; every later subprocess (`!python`,
    subprocess.run) would then load the system's libpython and others instead
    of its own. R needs nothing from the variable after start-up."""
    if before is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = before


def _thread_stack() -> tuple[int, int] | None:
    """(top address, size) of the calling thread's stack, from glibc's
    pthread_getattr_np; None where that is not available."""
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        libc.pthread_self.restype = ctypes.c_ulong
        attr = ctypes.create_string_buffer(256)  # larger than any pthread_attr_t
        if libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) != 0:
            return None
        base, size = ctypes.c_void_p(), ctypes.c_size_t()
        try:
            if libc.pthread_attr_getstack(attr, ctypes.byref(base), ctypes.byref(size)) != 0:
                return None
        finally:
            libc.pthread_attr_destroy(attr)
    except (OSError, AttributeError):
        return None
    return base.value + size.value, size.value  # the stack grows down from its top


def _enable_stack_check(rlib) -> int | None:
    """rpy2 switches R's C stack check off; turn it back on for the thread R
    started on, so runaway recursion is an R error rather than a crash."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return None
    limit = int(soft * 0.95)  # R's own margin: room left to unwind and report
    rlib.R_CStackLimit = limit
    return limit


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


@functools.cache
def libr():
    """R's own C functions that rpy2 does not declare (reference counts,
    ALTREP, binding flags), called through ctypes on the R already loaded."""
    import ctypes
    import platform

    import rpy2.situation
    from rpy2.rinterface_lib import openrlib

    lib = ctypes.CDLL(rpy2.situation.get_rlib_path(openrlib.R_HOME, platform.system()))
    for name in ("TYPEOF", "REFCNT", "TRACKREFS", "ALTREP"):
        getattr(lib, name).argtypes, getattr(lib, name).restype = [ctypes.c_void_p], ctypes.c_int
    for name in ("R_existsVarInFrame", "R_BindingIsActive", "R_BindingIsLocked"):
        getattr(lib, name).argtypes, getattr(lib, name).restype = [ctypes.c_void_p] * 2, ctypes.c_int
    # Not in rpy2 3.6's declarations, and on its way out of R's API: where R
    # no longer exports it, values are not overwritten in place (never wrong).
    lib.find_var_in_frame = getattr(lib, "Rf_findVarInFrame3", None)
    if lib.find_var_in_frame is not None:
        lib.find_var_in_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.find_var_in_frame.restype = ctypes.c_void_p
    return lib


def address(pointer) -> int:
    """Where a cffi pointer (an R object, its data) points: what ctypes calls
    into libR take."""
    from rpy2.rinterface_lib import openrlib
    return int(openrlib.ffi.cast("uintptr_t", pointer))


def wrap_sexp(cdata):
    """An rpy2 object for a bare (protected) SEXP."""
    from rpy2.rinterface_lib.conversion import _cdata_res_to_rinterface
    return _cdata_res_to_rinterface(lambda: cdata)()


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
