"""The one embedded R of this process.

Starts R lazily through ``rpy2.rinterface``, runs code the way R's console
does (parse everything first, then evaluate and auto-print each top-level
expression), turns R conditions into Python exceptions and serialises every
entry into R behind one re-entrant lock. R's console itself (what R writes,
what R asks) is console.py's.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

from . import _rapi
from .console import Console
from .errors import ConversionError, RDebuggerQuit, RError, RInterrupt, RParseError, RSetupError, adopt_rpy2_bases
from .rsetup import mismatch_advice


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
        rp = _rapi.rpy2_modules()
    adopt_rpy2_bases(rp.RRuntimeError, rp.capi.RParsingError)
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
        self.console = Console(while_reading=self.user_code, interrupt=self.interrupt_from_read)
        self._depth = threading.local()  # nesting of entered() per thread
        self._interrupted = False
        self._forwarded = False  # the SIGINT was handed to R (see _process_events)
        self._user_code = 0  # depth of user Python code run for R (callbacks)
        self._leave_hooks: list[Callable[[], None]] = []
        self.entries = 0  # outermost entries into R so far: R's state may differ after each
        with self.lock:
            self._start()

    # -- start-up ---------------------------------------------------------

    def _start(self) -> None:
        ri = self.ri
        start_embedded_r()  # a no-op when R is already up (e.g. started by rpy2)
        self._stack_check = _rapi.c_stack() is not None
        _rapi.on_process_events(self._process_events)
        self.console.install()
        self._helpers: dict = {}
        self._own = self.source("session.R", parent=ri.baseenv)
        self.console.setup(self)
        self.globalenv = ri.globalenv
        self.tmpdir = _private_tmpdir(Path(str(self.call(self._own, "r_tempdir")[0])))
        self.call(self._own, "refuse_quit")

    @property
    def helpers_env(self):
        """The R environment of session.R's helpers (the parent of the others)."""
        return self._own

    def source(self, file: str, parent=None):
        """A new R environment holding the functions of ``rmagic_ext/R/<file>``
        (under session.R's own, whose functions they may use)."""
        ri = self.ri
        env = ri.baseenv["new.env"](parent=parent if parent is not None else self._own)
        with resources.as_file(resources.files("rmagic_ext").joinpath("R", file)) as path:
            if not path.is_file():
                raise RSetupError(f"rmagic_ext is installed without its R file {file} ({path}): reinstall rmagic_ext")
            ri.baseenv["sys.source"](str(path), envir=env, **{"keep.source": False})
        return env

    # -- running code -----------------------------------------------------

    def parse(self, code: str, name: str = "<cell>"):
        """Parse ``code`` into R's expression vector, or raise RParseError."""
        _check_text(code)
        with self.entered():
            res = self.call(self._own, "parse_cell", code, name, status=True)
            _raise_parse_error(res)
            return res["value"]

    def run(
        self,
        code: str,
        *,
        name: str = "<cell>",
        show: Callable | None = None,
        keep_last: bool = False,
        after_each: Callable[[bool], None] | None = None,
    ) -> Outcome:
        """Run ``code`` like R's console: parse it all, then evaluate each
        top-level expression in the global environment, showing visible values
        with ``show`` (R's print/show by default) as they come.

        With ``keep_last`` the last value is returned instead of shown.
        ``after_each(last)`` runs after every top-level expression (graphics
        use it to show finished pages in order).
        """
        _check_text(code)
        with self.entered():
            try:
                return self._run(code, name, show, keep_last, after_each)
            except RDebuggerQuit:
                if self.interrupt_pending():
                    raise RInterrupt() from None  # an interrupt at the debugger's prompt
                return Outcome(self.ri.NULL, False, self.console.wrote_stdout)  # Q: the cell ends there

    def _run(
        self, code: str, name: str, show: Callable | None, keep_last: bool, after_each: Callable[[bool], None] | None
    ) -> Outcome:
        outcome = Outcome(self.ri.NULL, False, False)
        self.console.wrote_stdout = False
        res = self.call(self._own, "run_first", code, name, self.globalenv, warnings=False, status=True)
        _raise_parse_error(res)
        exprs = res.get("exprs")
        for index in range(0 if exprs is None else len(exprs)):
            if index:
                self.console.wrote_stdout = False
                res = self.call(
                    self._own, "eval_toplevel", exprs, index + 1, self.globalenv, warnings=False, status=True
                )
            self.check_interrupt()
            value, visible = res["value"], res.flag("visible")
            last = index == len(exprs) - 1
            try:
                if visible and not (last and keep_last):
                    (show or self.print_value)(value)
            finally:
                if res.length("warnings"):  # after the value, as R's console does
                    self.call(self._own, "print_warnings", res["warnings"])
            if after_each is not None:
                after_each(last)
            outcome = Outcome(value, visible, self.console.wrote_stdout)
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
                self.call(self._own, "assign_global", name, _rapi.wrap(_rapi.cdata(value)))
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

    @staticmethod
    def running() -> bool:
        """Whether R still runs (at exit, rpy2 may have ended it already)."""
        return _rapi.r_ready()

    def inside_r(self) -> bool:
        """Whether this thread is already in R, e.g. in Python code that R
        code called and that R code is still running."""
        return getattr(self._depth, "value", 0) > 0

    def lookup(self, name: str):
        """The R object called ``name`` as seen from the global environment
        (search path included), or None when there is none."""
        if not _rapi.acceptable_name(name):
            return None
        with self.entered():
            found = as_dict(self.call(self._own, "lookup", name))
            return found["value"] if scalar(found["found"]) else None

    def print_value(self, value) -> None:
        """Print a visible value with R's print/show (what R's console does);
        an error of the print method is an RError with its own call stack."""
        self.call(self._own, "show_toplevel", value)

    # -- calling R helpers -----------------------------------------------------

    def call(self, helpers, name: str, *args, warnings: bool = True, status: bool = False):
        """Call the R function ``name`` of ``helpers`` (an environment from
        :meth:`source`) with ``args`` (rpy2 objects or Python scalars): the
        one way Python calls rmagic_ext's R code. What it returns is an rpy2
        object: read it while holding R (:meth:`entered`), as every use of
        an rpy2 object must be.

        session.R's ``call_helper`` runs it under R's protection and answers
        with one status shape (a helper marked ``reports_status`` answers for
        itself: it is called directly, through R_tryEval, whenever its
        arguments are values that R evaluates to themselves): status, value,
        message, call, trace, classes, warnings. R errors are raised as
        RError, interrupts as RInterrupt; R's deferred warnings are printed
        once, here; with ``warnings=False`` they are left to the caller (in
        ``status``), unless an error is raised.
        Returns the value, or with ``status`` the whole status as a dict."""
        with self.entered():
            self.check_interrupt()  # a SIGINT since R was entered: R would stop before our handlers
            function, reports_status = self._helper(helpers, name)
            values = [_as_r(self.ri, a) for a in args]
            try:
                if reports_status and _rapi.can_call_with(values):  # what call_helper would do, without it
                    res = Status(_rapi.try_call(function, values))
                else:  # see _interruptible for rpy2's errors
                    res = Status(self._helper(self._own, "call_helper")[0](function, self.ri.ListSexpVector(values)))
            except _rapi.rpy2_modules().RRuntimeError as exc:
                if isinstance(exc, RError):
                    raise
                if self.console.left_debugger:  # Q jumps to the top: past all our handlers
                    raise RDebuggerQuit() from None
                self.check_interrupt()
                raise _unhandled(str(exc)) from None
            outcome = res.text("status")
            if (outcome != "ok" or warnings) and res.length("warnings"):
                self._own["print_warnings"](res["warnings"])  # with an error: R's "In addition: ..."
            if outcome == "error":
                raise RError(
                    scalar(res["message"]), scalar(res["call"]) or "", tuple(res["trace"]), tuple(res["classes"])
                )
            if outcome == "interrupt":
                raise RInterrupt()
            return res if status else res["value"]

    def _helper(self, helpers, name: str):
        """The R function ``name`` of ``helpers`` and whether it reports a
        status of its own (session.R's reports_status), looked up once (each
        lookup is an R call and an rpy2 object)."""
        key = (_rapi.address(_rapi.cdata(helpers)), name)
        found = self._helpers.get(key)
        if found is None:
            function = helpers[name]
            found = self._helpers[key] = (function, _rapi.has_true_attribute(_rapi.cdata(function), "reports_status"))
        return found

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
            _rapi.release_pending()
            self.console.begin()
            try:
                with self._stack_check_for_this_thread(), self._interruptible():
                    try:
                        yield
                    finally:
                        self.console.end()
                        for hook in self._leave_hooks:
                            hook()
            finally:
                self._depth.value = 0
                self.entries += 1

    def on_leave(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` as each outermost :meth:`entered` ends, still holding
        R (graphics shows what Python's calls into R drew this way)."""
        if hook not in self._leave_hooks:
            self._leave_hooks.append(hook)

    def forget_leave_hook(self, hook: Callable[[], None]) -> None:
        if hook in self._leave_hooks:
            self._leave_hooks.remove(hook)

    @contextlib.contextmanager
    def _stack_check_for_this_thread(self) -> Iterator[None]:
        """R measures C stack use from the top of the thread it started on
        (and rpy2 turns the check off): point it at the entering thread's own
        stack for the time that thread holds R, so deep recursion on any
        thread, whichever one started R, is an R error, not a crash."""
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
        except _rapi.rpy2_modules().RRuntimeError:
            self.check_interrupt()  # R stopped inside an rpy2 call because of the SIGINT
            raise
        finally:
            signal.signal(signal.SIGINT, previous)
            _rapi.request_interrupt(False)  # a late SIGINT must not hit the next cell
            interrupted, self._interrupted = self._interrupted, False
        if interrupted:  # never lost on the way out, even where no checkpoint saw it
            raise RInterrupt()

    def _request_interrupt(self, signum, frame) -> None:
        """Note the SIGINT. R code stops at its next interrupt check (see
        :meth:`_process_events`). When the user's own Python code is what runs
        (code R called back into, a display function), it stops at once.
        Other code (rpy2's, ours, which may hold R's protect stack) is never
        interrupted mid-way: it stops at its next checkpoint (check_interrupt)."""
        self._interrupted = True
        self._forwarded = False
        if self._user_code:
            raise RInterrupt()

    def _process_events(self) -> None:
        """R checks for interrupts while its code runs, processing events
        first (Python's SIGINT handler runs then too): a noted SIGINT becomes
        R's own interrupt right there, where R is ready for it. Once: R's
        handling of it checks for interrupts again, and a second one there
        would escape R's handlers."""
        if self._interrupted and not self._forwarded:
            self._forwarded = True
            _rapi.request_interrupt(True)

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

    def interrupt_pending(self) -> bool:
        """Whether a SIGINT arrived since R was entered (and is not handled yet)."""
        return self._interrupted

    def interrupt_from_read(self) -> None:
        """An interrupt while R waited for an answer (or a cell that keeps
        asking what nobody can answer): R stops at its next check."""
        self._interrupted = True
        self._forwarded = True
        _rapi.request_interrupt(True)


def _unhandled(text: str) -> RError:
    """An R error that no handler of ours saw: R raised it while our
    handlers were being set up (R's time limits fire at its next check,
    wherever that falls), so the call it names is ours, not the user's.
    R's printed form is "Error in f(x) : message" or "Error: message"."""
    text = text.strip()
    if text.startswith("Error in ") and " : " in text:
        return RError(text.split(" : ", 1)[1].strip())
    return RError(text[len("Error: ") :] if text.startswith("Error: ") else text)


def _raise_parse_error(res: "Status") -> None:
    if res.text("status") == "parse_error":
        line, column = scalar(res["line"]), scalar(res["column"])
        raise RParseError(res.text("message"), line, column, res.text("detail"))


class Status:
    """A status list of call_helper (status, value, warnings, ...): each
    element is wrapped as an rpy2 object only when asked for, and short
    fields are read in C. A trivial cell reads four of them twice."""

    def __init__(self, rlist) -> None:
        self._rlist = rlist  # keeps the list, and so its elements, alive
        pointer = _rapi.cdata(rlist)
        self._elements = dict(zip(_rapi.names_of(pointer), range(_rapi.length(pointer))))
        self._pointer = pointer

    def __contains__(self, key: str) -> bool:
        return key in self._elements

    def __getitem__(self, key: str):
        return self._rlist[self._elements[key]]

    def get(self, key: str, default=None):
        return self[key] if key in self._elements else default

    def text(self, key: str) -> str | None:
        return _rapi.first_string(_rapi.element(self._pointer, self._elements[key]))

    def length(self, key: str) -> int:
        return _rapi.length(_rapi.element(self._pointer, self._elements[key]))

    def flag(self, key: str) -> bool:
        return bool(_rapi.first_logical(_rapi.element(self._pointer, self._elements[key])))


def as_dict(rlist) -> dict:
    """An R named list (our helpers' status lists) as a dict of its elements.
    (The names attribute is read directly: rpy2's ``.names`` calls R.)"""
    try:
        names = rlist.do_slot("names")
    except LookupError:  # no names: an empty list
        return {}
    return dict(zip(names, rlist))


def is_null(value) -> bool:
    """Whether an rpy2 object is R's NULL."""
    return value is get_session().ri.NULL


def scalar(vector):
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
                session = Session()
                with session.entered():  # other threads wait in entered() until the hooks ran
                    _session = session
                    for hook in _start_hooks:  # they may use get_session(): it is set
                        hook(session)
    return _session


def on_start(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Run ``hook(session)`` once R has started (at once if it has): layers
    above the session install their R side this way, without starting R."""
    _start_hooks.append(hook)
    if _session is not None:
        with _session.entered():
            hook(_session)
    return hook


class RCode:
    """The R functions of one Python module, kept in ``rmagic_ext/R/<file>``
    (whose header names that module) and sourced once R starts, under
    session.R's own. ``code("name", *args)`` calls one through
    :meth:`Session.call`."""

    #: every module's R code, by file (remote.py writes their environments by name)
    loaded: dict[str, "RCode"] = {}

    def __init__(self, file: str) -> None:
        self.file = file
        self.env = None
        RCode.loaded[file] = self
        on_start(self._source)

    def _source(self, session: Session) -> None:
        self.env = session.source(self.file)

    def __call__(self, name: str, *args, **options):
        session = get_session()
        if self.env is None:  # its loading failed at start (say, a file missing): fail as it did, every time
            self._source(session)
        return session.call(self.env, name, *args, **options)


def _check_text(code: str) -> None:
    """Code R can read is text: a lone surrogate (a notebook's JSON can hold
    one) or a NUL (pasted from a binary file) is a parse error at its
    position, not an encoder's traceback or R's fatal error."""
    nul = code.find("\x00")
    if nul >= 0:
        raise RParseError("embedded nul in string: R code cannot hold NUL", *_position(code, nul)) from None
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RParseError(
            f"character {code[exc.start]!r} is not text (a lone surrogate)", *_position(code, exc.start)
        ) from None


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


_TMP_PREFIX = "rmagic_ext-"


def _private_tmpdir(r_tempdir: Path) -> Path:
    """This process's folder for cells' files (``rmagic_ext-<pid>-*``),
    removed at exit together with R's own temp folder (R's tempdir(), which
    the embedding R never removes). Folders that killed processes left behind
    are removed first: their pid is in the name, and R's folder is noted
    inside."""
    _remove_orphans()
    tmpdir = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
    (tmpdir / "r-tempdir").write_text(str(r_tempdir))
    atexit.register(_remove, tmpdir, r_tempdir)
    return tmpdir


def _remove(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_orphans() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*-*"):
        pid = folder.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            r_tempdir = _noted_r_tempdir(folder)
            _remove(folder, *([r_tempdir] if r_tempdir and r_tempdir.name.startswith("Rtmp") else []))


def _noted_r_tempdir(folder: Path) -> Path | None:
    """R's temp folder noted in an orphan, or None where there is none or
    another process starting at the same time has just removed it."""
    try:
        return Path((folder / "r-tempdir").read_text().strip())
    except (OSError, UnicodeDecodeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _as_r(ri, value):
    """Python scalars as length-1 R vectors; rpy2 objects as they are."""
    if isinstance(value, (bool, float)) or (isinstance(value, int) and -(2**31) < value < 2**31):
        return _rapi.scalar_vector(value)
    if isinstance(value, int):
        return ri.IntSexpVector([value])  # beyond R's integers: rpy2's OverflowError
    if isinstance(value, str):
        try:
            return _rapi.utf8_string(value.encode("utf-8"))
        except _rapi.EmbeddedNul:
            raise ConversionError(f"{value[:40]!r}: embedded nul in string (R strings cannot hold NUL)") from None
    if value is None:
        return ri.NULL
    return value
