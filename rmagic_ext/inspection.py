"""Shift-Tab on R code: the kernel's inspect request answered by R.

Inside R code of ``%R``/``%%R`` cells, and on ``r.name`` in Python, the
front end's inspector shows the R function's usage (its arguments) and the
start of its help page, or ``str()`` of another object. Anywhere else the
kernel's own (Python's) inspection answers, unchanged.
"""

from __future__ import annotations

import re

from .session import RCode, get_session, is_null, scalar

_R = RCode("inspection.R")

_NAME = re.compile(r"[A-Za-z.][A-Za-z0-9._]*(?:::?:?[A-Za-z.][A-Za-z0-9._]*)?$")
_R_DOT = re.compile(r"(?<![\w.])r\.([A-Za-z_][A-Za-z0-9_]*)(?:\([^()]*)?$")
_LINE_MAGIC = re.compile(r"(?:^|[=(\s])%R\s+")  # `%R code`, also `x = %R code`
_LINES = {0: 24, 1: 200}
#: A literal R reads by itself: a number (1, 2.5e3, 7L, 0x1F, 2i) or a string.
_LITERAL = re.compile(
    r"""(?:(?<![\w.])(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[Li]?"""
    r"""|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')$"""
)


def r_code_at(code: str, cursor_pos: int) -> str | None:
    """The R code left of the cursor when the cursor is in R code (the body
    of a ``%%R`` cell, a ``%R`` line); None in Python."""
    before = code[:cursor_pos]
    if code.lstrip().startswith("%%R"):
        start = code.find("\n", len(code) - len(code.lstrip()))
        return before[start + 1 :] if start != -1 and cursor_pos > start else None
    line = before.rsplit("\n", 1)[-1]
    found = _LINE_MAGIC.search(line)
    return line[found.end() :] if found else None


def name_at(r_code: str, after: str = "") -> str | None:
    """The R name Shift-Tab asks about: the one under the cursor, a literal
    (``1``, ``"a"``), else the function of the innermost call the cursor is
    in (``quantile(x, |``)."""
    word = re.match(r"[A-Za-z0-9._]*", after).group(0)
    literal = _LITERAL.search(r_code + word)
    if literal:
        return literal.group(0)
    found = _NAME.search(r_code + word)
    if found and found.group(0)[0] != ".":
        return found.group(0)
    depth = 0
    for i in range(len(r_code) - 1, -1, -1):
        ch = r_code[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                call = _NAME.search(r_code[:i].rstrip())
                return call.group(0) if call else None
            depth -= 1
    return None


def inspect(code: str, cursor_pos: int, detail_level: int = 0) -> dict | None:
    """The inspect reply for R code at the cursor; None when the cursor is
    not in R code (Python answers then)."""
    r_code = r_code_at(code, cursor_pos)
    if r_code is not None:
        name = name_at(r_code, code[cursor_pos:])
    else:
        on_r = _R_DOT.search(code[:cursor_pos] + re.match(r"\w*", code[cursor_pos:]).group(0))
        if on_r is None:
            return None
        name = on_r.group(1)
    if not name:
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}
    session = get_session()
    with session.entered():
        res = _R("inspect_name", name, _LINES.get(detail_level, 200))
        text = None if is_null(res) else scalar(res)
    if not text:
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}
    return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}


def install(shell) -> None:
    """Answer the kernel's inspect requests for R code (kernels only)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or getattr(kernel.do_inspect, "rmagic_ext_original", None) is not None:
        return
    original = kernel.do_inspect

    def do_inspect(code, cursor_pos, detail_level=0, omit_sections=(), **kwargs):
        try:
            reply = inspect(code, cursor_pos, detail_level)
        except Exception:  # noqa: BLE001 - inspection must never fail the request
            reply = None
        if reply is None:
            return original(code, cursor_pos, detail_level, omit_sections, **kwargs)
        return reply

    do_inspect.rmagic_ext_original = original
    kernel.do_inspect = do_inspect


def uninstall(shell) -> None:
    kernel = getattr(shell, "kernel", None)
    original = getattr(getattr(kernel, "do_inspect", None), "rmagic_ext_original", None)
    if original is not None:
        kernel.do_inspect = original
