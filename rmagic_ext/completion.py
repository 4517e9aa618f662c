"""Tab completion of R code in %R and %%R cells, by R's own completion
engine (the one R's console uses): globals, functions, ``$`` members,
``pkg::`` exports, arguments."""

from __future__ import annotations

from IPython.core.completer import SimpleCompletion, context_matcher

from .session import RCode, get_session, scalar

_R = RCode("completion.R")


def completions(line: str) -> tuple[str, list[str]]:
    """R's own completions for the code left of the cursor: the token it
    completes and the candidates."""
    with get_session().entered():
        res = _R("complete_line", line)
        return scalar(res[0]) or "", [str(c) for c in res[1]]


def _r_code_before_cursor(context) -> str | None:
    """The R code on the cursor's line, or None when the cursor is not in R."""
    text = context.full_text
    line = context.line_with_cursor
    if text.lstrip().startswith("%%R"):
        first_line = text.lstrip().split("\n", 1)[0]
        return None if line.lstrip() == first_line.strip() and line.lstrip().startswith("%%R") else line
    stripped = line.lstrip()
    if stripped.startswith("%R "):
        return stripped[3:]
    return None


@context_matcher()
def r_matcher(context):
    """IPython matcher: R completions inside R cells, nothing elsewhere."""
    line = _r_code_before_cursor(context)
    if line is None:
        return {"completions": [], "suppress": False}
    token, candidates = completions(line)
    cut = len(token) - len(context.token)  # IPython's token starts after '$', '::' ...
    if cut < 0:
        cut = 0
    found = [SimpleCompletion(text=c[cut:], type="R") for c in candidates if len(c) >= cut]
    return {"completions": found, "suppress": True}


def install(shell) -> None:
    if r_matcher not in shell.Completer.custom_matchers:
        shell.Completer.custom_matchers.append(r_matcher)


def uninstall(shell) -> None:
    while r_matcher in shell.Completer.custom_matchers:
        shell.Completer.custom_matchers.remove(r_matcher)
