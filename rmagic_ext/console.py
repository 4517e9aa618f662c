"""R's console: what R writes, in order and redrawn in place, and what R
asks, answered by whoever runs the notebook.

Writes. R's text goes to whatever ``sys.stdout``/``sys.stderr`` are when it
is written (ipykernel swaps them per cell), in the order R wrote it, decoded
incrementally (bytes that are not UTF-8 shown as ``\\xNN``). A line that R
redraws with ``\\r`` (a progress bar) goes out at most ten times a second,
its latest state only, so that a tight loop cannot flood the front end; the
last state always shows.

Reads. Every read of R's console (``readline``, ``menu``, ``askYesNo``,
``scan`` from the console, the debugger's prompt) is a question to the
person running the notebook: an input request with R's own prompt, after
what R printed before it (a menu's choices). A password prompt
(``askpass``) asks with the password flag. An interrupt while R waits ends
the wait and stops the cell.

Where nobody can answer (nbclient, papermill, ``nbconvert --execute``: no
stdin; a worker process), R runs as Rscript does, non-interactively:
``menu()`` is R's "cannot be used non-interactively" error, ``readline()``
answers "" at once, ``askYesNo()`` its default. What still reads the console
then (``scan()``, the debugger) gets an empty answer (the debugger: "c",
carry on) with one note per cell, and a cell that keeps asking is stopped.
Nothing waits for an answer that cannot come.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
import time
from typing import Callable, ContextManager, Iterator

from . import _rapi

#: R/console.R's `where` for the user's calls (on R's search path).
WHERE = "rmagic_ext_where"
#: The prompt of R's debugger, "Browse[1]> ".
_DEBUGGER_PROMPT = "Browse["
#: How R's side marks a password prompt (R/console.R's askpass option).
PASSWORD_MARK = "\x01rmagic_ext-password\x01"
#: Reads in one cell that nobody could answer, after which the cell is stopped.
MAX_UNANSWERED = 20
#: Redraws of a line per second, at most.
REDRAWS_PER_SECOND = 10


class Console:
    """R's console for one session. ``while_reading`` marks the wait for an
    answer as user code (a SIGINT stops it at once); ``interrupt`` asks R
    to stop at its next check (an interrupt while R waited)."""

    def __init__(self, while_reading: Callable[[], ContextManager], interrupt: Callable[[], None]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self._last_stream = None
        self._redraw: str | None = None  # the latest state of a line R redraws, not yet shown
        self._redrawn_at = 0.0
        self._while_reading = while_reading
        self._interrupt = interrupt
        self.wrote_stdout = False
        self.interactive = True
        self._unanswered = 0
        self._noted = False
        self._stopping = False  # interrupted while R waited: every later read ends at once
        self.left_debugger = False  # the user answered Q at the debugger's prompt
        self._recording = None  # a relay.Recording taking R's text instead of the streams

    def install(self) -> None:
        """Route R's console writes and reads here."""
        _rapi.route_console(self.write_stdout, self.write_stderr, self.decode)
        _rapi.route_console_read(self.read)

    def setup(self, session) -> None:
        """R's side (R/console.R), once the session's helpers are loaded."""
        session.call(session.source("console.R"), "console_setup", PASSWORD_MARK)

    # -- each outermost entry into R --------------------------------------------

    def begin(self) -> None:
        """R asks only where someone can answer (see the module docstring)."""
        self.interactive = can_answer()
        _rapi.set_interactive(self.interactive)
        self._unanswered = 0
        self._noted = False
        self._stopping = False
        self.left_debugger = False

    def end(self) -> None:
        """What R wrote last, shown: a split character's tail, a redrawn line."""
        tail = self._decoder.decode(b"", final=True)
        if tail:
            sys.stdout.write(tail)
        self._show_redraw()

    # -- writes ----------------------------------------------------------------

    def decode(self, data: bytes) -> str:
        """R may print bytes that are not UTF-8 (latin1 data, a multibyte
        character split between writes): decoded incrementally, bad bytes
        shown as \\xNN."""
        return self._decoder.decode(data)

    def write_stdout(self, text: str) -> None:
        self.wrote_stdout = True
        if self._recording is not None:
            self._recording.write("stdout", text)
            return
        self._write_in_order(sys.stdout, sys.stderr, text)

    def write_stderr(self, text: str) -> None:
        if self._recording is not None:
            self._recording.write("stderr", text)
            return
        self._write_in_order(sys.stderr, sys.stdout, text)

    @contextlib.contextmanager
    def recording(self, recording) -> Iterator[None]:
        """R's text goes to ``recording`` (its ``write(stream, text)``) inside
        the block, not to the streams: a call in a worker whose text goes back
        to the notebook (rmagic_ext.relay). R writes only under the R lock,
        so no other thread's text is taken."""
        before = self._recording
        self._recording = recording
        try:
            yield
        finally:
            self._recording = before

    def _write_in_order(self, stream, other, text: str) -> None:
        """R's text in the order R wrote it: ipykernel buffers stdout and
        stderr apart and sends each on its own schedule, so when R switches
        from one to the other, what is buffered on the other goes out first.
        Text on one stream still streams as it comes."""
        if self._last_stream is other:
            self._show_redraw()
            other.flush()
        self._last_stream = stream
        cut = text.rfind("\r")
        if cut >= 0 and "\n" not in text[cut:]:  # ends inside a line R will redraw
            self._write_redrawn(stream, text[:cut], text[cut:])
            return
        self._show_redraw()
        stream.write(text)

    def _write_redrawn(self, stream, before: str, line: str) -> None:
        """A redrawn line's state (``line`` starts with \\r): shown now when
        the last one went out long enough ago, else kept as the latest."""
        if before.strip("\r"):
            self._show_redraw()
            stream.write(before)
        self._redraw = line
        # Not a state that only erases (txtProgressBar blanks the line, then
        # draws it): shown alone, it would be the state the front end keeps.
        if line.rstrip() != line or time.monotonic() - self._redrawn_at < 1 / REDRAWS_PER_SECOND:
            return
        self._show_redraw()
        stream.flush()

    def _show_redraw(self) -> None:
        if self._redraw is not None:
            (self._last_stream or sys.stdout).write(self._redraw)
            self._redraw = None
            self._redrawn_at = time.monotonic()

    def flush(self) -> None:
        """What R printed so far, out before a question."""
        self._show_redraw()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()

    # -- reads -------------------------------------------------------------------

    def read(self, prompt: str) -> str:
        """R's console read: the answer (R sees "" as the end of input, so
        an empty answer goes as a blank, which R reads as an empty line)."""
        self.flush()
        password = prompt.startswith(PASSWORD_MARK)
        prompt = prompt[len(PASSWORD_MARK) :] if password else prompt
        debugger = prompt.startswith(_DEBUGGER_PROMPT)
        if self._stopping:
            return "Q" if debugger else ""
        if not self.interactive:
            return self._unanswerable(prompt)
        try:
            with self._while_reading():
                answer = _ask(prompt, password)
        except KeyboardInterrupt:
            # R stops at its next check (the cell ends with RInterrupt); the
            # debugger checks nothing between its reads, so it is left (Q).
            self._stopping = True
            self._interrupt()
            return "Q" if debugger else ""
        except (EOFError, _stdin_not_implemented()):
            self.interactive = False
            _rapi.set_interactive(False)
            return self._unanswerable(prompt)
        command = answer.strip()
        if debugger and command == "Q":
            self.left_debugger = True
        if debugger and command == "where":  # R's own lists the machinery around the cell too
            return f"{WHERE}()"
        return answer if answer else " "

    def _unanswerable(self, prompt: str) -> str:
        """Nobody can answer: one note per cell, the debugger carries on,
        any other read is empty; a cell that keeps asking is stopped."""
        self._unanswered += 1
        if not self._noted:
            self._noted = True
            sys.stderr.write(
                f"R asked {prompt.strip()!r} but nobody can answer here (no input: an unattended "
                "run, or a front end without stdin); the answer is empty"
                + (" (the debugger carries on)" if prompt.startswith(_DEBUGGER_PROMPT) else "")
                + "\n"
            )
        if self._unanswered > MAX_UNANSWERED:
            sys.stderr.write(
                f"R kept asking for input that cannot come ({self._unanswered} times): the cell is stopped\n"
            )
            self._interrupt()
            return ""
        return "c" if prompt.startswith(_DEBUGGER_PROMPT) else ""


def _ask(prompt: str, password: bool) -> str:
    if password:
        import getpass

        return getpass.getpass(prompt)
    return input(prompt)


def _stdin_not_implemented() -> type:
    """IPython's error for a front end without stdin (an exception class that
    never matches when IPython is not there)."""
    error = getattr(sys.modules.get("IPython.core.error"), "StdinNotImplementedError", None)
    return error if isinstance(error, type) else _Never


class _Never(Exception):
    pass


def can_answer() -> bool:
    """Whether anyone can answer R's questions now: in a Jupyter kernel, the
    request allows stdin; elsewhere, stdin is a terminal (asked once per
    stdin: each cell enters R several times)."""
    shells = getattr(sys.modules.get("IPython.core.interactiveshell"), "InteractiveShell", None)
    shell = getattr(shells, "_instance", None)  # get_ipython(), without its cost (each entry into R asks)
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    stdin = sys.stdin
    if _terminal[0] is not stdin:
        _terminal[:] = [stdin, _isatty(stdin)]
    return _terminal[1]


_terminal: list = [None, False]  # the stdin last asked, and whether it is a terminal


def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
