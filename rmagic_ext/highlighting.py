"""Pygments lexers for notebooks that use the magics, so that nbconvert's
exports (``jupyter nbconvert --to html``) highlight R as R.

- ``rmagic-r``: a ``%%R`` cell. The magic line is a magic (``%%`` operator,
  ``R`` keyword, the options as text, as IPython's lexer shows any cell
  magic); the body is Pygments' own R lexer.
- ``rmagic-ipython3``: any cell of a notebook whose kernel has the extension
  loaded. ``%%R`` cells as above; in other cells, each ``%R`` line
  (``%R mean(x)``, ``m = %R mean(x)``) has its code lexed as R; everything
  else is IPython's own lexer.

Both are registered with Pygments through the ``pygments.lexers`` entry
point. nbconvert uses the lexer that the notebook's ``language_info`` names:
:func:`use_in_kernel` makes the kernel report ``rmagic-ipython3``.
(The JupyterLab extension in ``labextension/`` does the same for the
editor; both recognise the same lines.)
"""

from __future__ import annotations

import re
from typing import Iterator

from pygments.lexer import Lexer
from pygments.lexers.r import SLexer
from pygments.token import Keyword, Operator, Text, Whitespace

#: The lexer nbconvert uses for a notebook whose kernel loaded the extension.
NOTEBOOK_LEXER = "rmagic-ipython3"

# IPython drops blank lines before a cell magic; the options end the line.
_CELL_MAGIC = re.compile(r"\A(\s*)(%%)(R)(?=\s|\Z)([^\n]*)(\n?)")
# "%R code" alone, or assigned to names ("m = %R mean(x)"); the options are
# rmagic_ext's and rpy2's, with their values where they take one.
_LINE_MAGIC = re.compile(
    r"^([ \t]*(?:[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*)?)(%)(R)(?=[ \t]|$)"
)
_OPTIONS = re.compile(
    r"(?:[ \t]+(?:-[nN]\b|--(?:noreturn|noisolation)\b|-[iocdwhpbur][ \t]*[^\s-]\S*"
    r"|--(?:input|output|converter|display|width|height|pointsize|bg|units|res|type)(?:=|[ \t]+)\S+))*"
)


def _ipython_lexer() -> Lexer:
    """IPython's own lexer (its own package from IPython 9 on)."""
    try:
        from ipython_pygments_lexers import IPython3Lexer
    except ImportError:
        from IPython.lib.lexers import IPython3Lexer
    return IPython3Lexer(stripnl=False, ensurenl=False)


def _shifted(lexer: Lexer, text: str, offset: int) -> Iterator[tuple[int, object, str]]:
    for index, token, value in lexer.get_tokens_unprocessed(text):
        yield index + offset, token, value


def _r() -> Lexer:
    return SLexer(stripnl=False, ensurenl=False)


class RCellLexer(Lexer):
    """A ``%%R`` cell: its magic line as a magic, its body as R."""

    name = "R cell (rmagic_ext's %%R)"
    aliases = ["rmagic-r"]
    mimetypes = ["text/x-rmagic-r"]

    def get_tokens_unprocessed(self, text: str):
        found = _CELL_MAGIC.match(text)
        if found is None:
            yield from _shifted(_r(), text, 0)
            return
        blank, percent, name, options, newline = found.groups()
        if blank:
            yield 0, Whitespace, blank
        yield found.start(2), Operator, percent
        yield found.start(3), Keyword, name
        if options:
            yield found.start(4), Text, options
        if newline:
            yield found.start(5), Whitespace, newline
        yield from _shifted(_r(), text[found.end() :], found.end())


class IPythonRLexer(Lexer):
    """IPython's lexer, with the R of ``%%R`` cells and ``%R`` lines lexed as R."""

    name = "IPython 3 with rmagic_ext's %%R and %R"
    aliases = [NOTEBOOK_LEXER]
    mimetypes = ["text/x-rmagic-ipython"]

    def get_tokens_unprocessed(self, text: str):
        if _CELL_MAGIC.match(text):
            yield from RCellLexer().get_tokens_unprocessed(text)
            return
        python, start = _ipython_lexer(), 0  # start: where the Python not yet lexed begins
        for line in re.finditer(r"[^\n]*\n?", text):
            found = _LINE_MAGIC.match(line.group())
            if found is None or not line.group():
                continue
            at = line.start()
            if at + len(found.group(1)) > start:
                yield from _shifted(python, text[start : at + len(found.group(1))], start)
            yield at + found.start(2), Operator, found.group(2)
            yield at + found.start(3), Keyword, found.group(3)
            options = _OPTIONS.match(line.group(), found.end())
            if options.group():
                yield at + options.start(), Text, options.group()
            yield from _shifted(_r(), line.group()[options.end() :], at + options.end())
            start = line.end()
        if start < len(text):
            yield from _shifted(python, text[start:], start)


def use_in_kernel(shell, use: bool = True) -> None:
    """Make the shell's IPython kernel, if it runs in one, name
    :data:`NOTEBOOK_LEXER` as its Pygments lexer (``language_info.pygments_lexer``,
    saved in each notebook's metadata), so that nbconvert highlights the
    notebook's R as R; with ``use=False``, IPython's own again (the extension
    unloaded)."""
    kernel = getattr(shell, "kernel", None)
    info = getattr(kernel, "language_info", None)
    if isinstance(info, dict) and info.get("pygments_lexer") in ("ipython3", NOTEBOOK_LEXER):
        kernel.language_info = {**info, "pygments_lexer": NOTEBOOK_LEXER if use else "ipython3"}
