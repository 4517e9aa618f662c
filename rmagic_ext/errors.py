"""Exceptions raised by rmagic_ext.

Plain data only: nothing here talks to R. Each exception knows how to render
itself for IPython (``_render_traceback_``), so a failing cell shows R's
message and R's call stack instead of the Python frames of the machinery that
ran it.
"""

from __future__ import annotations

import os
import socket
import sys


class RSetupError(RuntimeError):
    """R or rpy2 is missing, or the two do not fit; the message says what to do."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


_EDGE = 10  # a runaway recursion shows its first and last frames, not thousands


class _Rpy2RuntimeError(Exception):
    """Stands in for rpy2's RRuntimeError until rpy2 is loaded (same layout,
    so that the session can swap it for rpy2's class: adopt_rpy2_bases)."""


class _Rpy2ParsingError(Exception):
    """Stands in for rpy2's RParsingError until rpy2 is loaded."""


class RError(_Rpy2RuntimeError):
    """An error raised by R code.

    ``message`` is R's condition message, ``call`` the deparsed call R blames
    (empty when there is none), ``r_traceback`` the user's R frames, outermost
    first and innermost last, and ``classes`` the condition's class vector
    (``rlang_error``, custom classes, ...). ``worker`` says which process
    raised it when it crossed from another one (a Dask worker, a process
    pool's child), else None; ``stdout`` then holds what R printed and
    warned there before the error, each line marked with the process.
    """

    worker: str | None = None

    def __init__(
        self,
        message: str,
        call: str = "",
        r_traceback: tuple[str, ...] = (),
        classes: tuple[str, ...] = ("simpleError", "error", "condition"),
    ):
        _adopt_rpy2_magics_error()
        Exception.__init__(self, message)  # not the base's __init__: rpy2's takes other arguments
        self.message = message
        self.call = call
        self.r_traceback = tuple(r_traceback)
        self.classes = tuple(classes)
        self.err, self.stdout = self.headline(), ""  # what rpy2's RInterpreterError holds

    def __str__(self) -> str:
        return self.headline() + (f" [R in {self.worker}]" if self.worker else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):
        """Pickled with all its fields (engines send a worker's errors back
        to the caller), noting the process it leaves."""
        state = dict(self.__dict__)
        state["worker"] = self.worker or this_process()
        return _rebuilt, (type(self), self.message, state)

    def headline(self) -> str:
        """R's own one-line form: ``Error in f() : boom`` or ``Error: boom``."""
        if self.call:
            return f"Error in {self.call} : {self.message}"
        return f"Error: {self.message}"

    def render(self) -> str:
        """What the task printed before it failed (an error from a worker),
        the R call stack (innermost last), then R's error message."""
        lines = [self.stdout.rstrip("\n")] if self.stdout else []
        frames = list(enumerate(self.r_traceback, 1))
        if frames:
            lines.append("R traceback (innermost last):")
            width = len(str(len(frames)))
            shown: list[tuple[int, str] | None] = list(frames)
            if len(frames) > 2 * _EDGE:
                shown = [*frames[:_EDGE], None, *frames[-_EDGE:]]
            for item in shown:
                if item is None:
                    lines.append(f"  {'':>{width}}  ... {len(frames) - 2 * _EDGE} more frames ...")
                else:
                    lines.append(f"  {item[0]:>{width}}: {item[1]}")
        lines.append(self.headline())
        if self.worker:
            lines.append(f"(raised by R in {self.worker})")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:
        return [self.render()]


class RPackageMissing(RError):
    """An R value or function arrived in a process whose R lacks a package
    it needs; ``package`` names it."""

    def __init__(self, message: str, package: str, call: str = ""):
        super().__init__(message, call, (), ("rmagic_ext_package_missing", "error", "condition"))
        self.package = package


def _rebuilt(cls, message: str, state: dict):
    """An exception of ours as it was pickled (no __init__: subclasses differ)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


def this_process() -> str:
    """Which process this is, for errors that travel: the Dask worker's
    address where there is one, the host and pid always."""
    here = f"{socket.gethostname()} pid {os.getpid()}"
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            return f"Dask worker {distributed.get_worker().address} ({here})"
        except (ValueError, AttributeError):  # not in a worker's task
            pass
    return f"process {here}"


class RParseError(_Rpy2ParsingError):
    """R could not parse a cell; nothing in it was run.

    ``line`` and ``column`` are 1-based positions in the cell's text (None
    when R did not say), ``message`` R's short reason such as
    ``unexpected symbol``, ``detail`` R's full report with the context lines.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.detail = detail or message

    def __str__(self) -> str:
        where = f" at line {self.line}, column {self.column}" if self.line else ""
        return f"R parse error{where}: {self.message}"

    def _render_traceback_(self) -> list[str]:
        return [f"{self}\n{self.detail}"]


def adopt_rpy2_bases(runtime_error: type, parsing_error: type) -> None:
    """Make RError also an rpy2 ``RRuntimeError`` and RParseError also an
    rpy2 ``RParsingError``, so that ``except RRuntimeError:`` in code written
    for rpy2 catches ours. Done once rpy2 is loaded (the session does it),
    never at import: ``import rmagic_ext`` must not need rpy2 or libR."""
    for ours, theirs in ((RError, runtime_error), (RParseError, parsing_error)):
        if theirs not in ours.__mro__:
            ours.__bases__ = (theirs,)


def _adopt_rpy2_magics_error() -> None:
    """Make RError also rpy2's ``RInterpreterError`` (what rpy2's magics
    raise, itself an ``RRuntimeError``) once a notebook has imported it to
    catch it; checked as each RError is made, since the import may come at
    any time, and never importing rpy2.ipython ourselves (it loads R)."""
    rmagic = sys.modules.get("rpy2.ipython.rmagic")
    theirs = getattr(rmagic, "RInterpreterError", None)
    if isinstance(theirs, type) and theirs not in RError.__mro__:
        RError.__bases__ = (theirs,)


class RInterrupt(KeyboardInterrupt):
    """R code was interrupted (SIGINT, the kernel's Interrupt); R's state is intact."""

    def __str__(self) -> str:
        return "R computation interrupted; the R session is intact."

    def _render_traceback_(self) -> list[str]:
        return [f"KeyboardInterrupt: {self}"]


class RDebuggerQuit(RInterrupt):
    """The user left R's debugger with Q: R went back to the top, and the
    cell stopped there (a cell ends quietly; a call from Python raises this)."""

    def __str__(self) -> str:
        return "left R's debugger (Q): R stopped there; the R session is intact."


class ConversionError(TypeError):
    """A value cannot be converted to the other language without losing it."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class RemoteError(RuntimeError):
    """An R value or function cannot travel to another process, or what
    arrived cannot be unpacked; the message says why and what to do."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class GlobalsTooLarge(RemoteError):
    """What an R function needs from the notebook is above the size limit;
    ``sizes`` has each captured object's size in bytes, largest first."""

    def __init__(self, message: str, sizes: dict[str, float] | None = None):
        super().__init__(message)
        self.sizes = dict(sizes or {})

    def __reduce__(self):
        return type(self), (str(self), self.sizes)


class ConversionWarning(UserWarning):
    """A value was converted, but not exactly (said once per column)."""


class RuleReplacedWarning(UserWarning):
    """A conversion rule was registered again for the same key of a converter."""
