"""How a visible R value is shown in the notebook, and how R's own rich
output reaches it (as IRkernel does it).

- A data.frame, tibble or matrix is an HTML table (its kind and dimensions,
  a row of column types, the first and last rows and columns with an
  ellipsis between them) with R's own print beside it as text/plain.
- A help page (``?mean``, ``help(mean)``) goes to IPython's pager as R
  renders it: HTML (links inert) and text; R's pager (``??topic``,
  ``help(package = ...)``) sends its text there too.
- Values that R packages written for Jupyter give a rich representation
  (htmlwidgets such as plotly and DT, HTML tags, repr methods) are shown as
  IRkernel shows them: the mime bundle of IRdisplay/repr, the widgets'
  JavaScript included, so nothing needs the network.
- ``IRdisplay::display_*()``, ``publish_mimebundle`` and ``clear_output``
  work: R's ``jupyter.*`` options point here. ``View(df)`` shows the table.
- Anything else is printed by R, exactly as R's console prints it.

The content comes from R (``R/display.R`` formats table cells, renders help,
builds bundles); this module writes HTML and talks to IPython.
"""

from __future__ import annotations

import atexit
import base64
import html
import sys
from typing import Callable

from IPython.core import page
from IPython.display import clear_output, display

from .session import RCode, as_dict, get_session, is_null, on_start, scalar

_R = RCode("display.R")

_ELLIPSIS = "⋮"
_H_ELLIPSIS = "⋯"
_LISTS = ("names", "types", "cells", "row_names")


def _default_table_limits() -> tuple[int, int]:
    return 20, 20


_table_limits: Callable[[], tuple[int, int]] = _default_table_limits  # RMagics' traits while loaded


def show_value(session, value, max_rows: int, max_cols: int, rich_vectors: bool = False) -> None:
    """Show one visible value: a table, a help page, a rich bundle, or what
    R's console prints (``rich_vectors``: plain vectors and lists as
    IRkernel shows them, HTML, LaTeX and markdown lists)."""
    with session.entered():
        plan = _R("display_plan", value, max_rows, max_cols, bool(rich_vectors))
        if is_null(plan):
            kind = None
        else:
            plan = as_dict(plan)
            kind = scalar(plan["show"])
            if kind == "table":
                preview = _table_fields(plan)
                preview["text"] = scalar(_R("print_text", value, max_rows))
            else:
                data, metadata = mime_bundle(plan["data"]), _metadata(plan.get("metadata"))
    if kind is None:
        session.print_value(value)
    elif kind == "table":
        _flush()
        display(table_bundle(preview), raw=True)
    elif kind == "page":
        _flush()
        page.page(data)
    else:
        _flush()
        display(data, raw=True, metadata=metadata)


def table_bundle(preview: dict) -> dict:
    """A table's mime bundle: our HTML, R's print, and repr's LaTeX and
    markdown where R has repr (IRkernel's four, for nbconvert's exports)."""
    bundle = {"text/html": table_html(preview), "text/plain": preview["text"]}
    for field, mime in (("latex", "text/latex"), ("markdown", "text/markdown")):
        if preview.get(field) is not None:
            bundle[mime] = preview[field]
    return bundle


def _table_fields(res: dict) -> dict:
    return {k: (list(v) if k in _LISTS else scalar(v)) for k, v in res.items() if k != "show"}


def mime_bundle(rdata) -> dict:
    """An R list of mime type -> character or raw (IRdisplay's data) as
    Jupyter's data: text joined by lines, bytes base64-encoded."""
    bundle = {}
    for mime, value in as_dict(rdata).items():
        if value.typeof.name == "RAWSXP":
            bundle[mime] = base64.b64encode(bytes(value)).decode("ascii")
        else:
            bundle[mime] = "\n".join(str(line) for line in value)
    return bundle


def _metadata(rmeta) -> dict:
    if rmeta is None or is_null(rmeta):
        return {}
    from .convert import default  # display sits above convert; imported when R is up

    meta = default.r2py(rmeta)
    return meta if isinstance(meta, dict) else {}


def _flush() -> None:
    sys.stdout.flush()  # keep text printed before a display above it
    sys.stderr.flush()


def table_html(preview: dict) -> str:
    """The HTML table of a ``display_plan`` answer for a table."""
    names, types, rows = preview["names"], preview["types"], preview["row_names"]
    ncol_shown, col_gap, row_gap = len(names), preview["col_gap"], preview["row_gap"]
    cells = preview["cells"]  # column-major, as R stores matrices

    def cell(i: int, j: int) -> str:
        return cells[j * len(rows) + i]

    def with_gap(items: list[str], filler: str) -> list[str]:
        return items[:col_gap] + [filler] + items[col_gap:] if col_gap else items

    head = "".join(f"<th>{_e(n)}</th>" for n in with_gap(names, _H_ELLIPSIS))
    kinds = "".join(
        f"<th>&lt;{_e(t)}&gt;</th>" if t != _H_ELLIPSIS else f"<th>{t}</th>" for t in with_gap(types, _H_ELLIPSIS)
    )
    body = []
    for i, row_name in enumerate(rows):
        if row_gap and i == row_gap:
            body.append(
                "<tr><th>" + _ELLIPSIS + "</th>" + f"<td>{_ELLIPSIS}</td>" * (ncol_shown + bool(col_gap)) + "</tr>"
            )
        values = with_gap([cell(i, j) for j in range(ncol_shown)], _H_ELLIPSIS)
        body.append(f"<tr><th>{_e(row_name)}</th>" + "".join(f"<td>{_e(v)}</td>" for v in values) + "</tr>")
    caption = f"{preview['kind']}: {preview['nrow']} × {preview['ncol']}"
    return (
        f'<table class="dataframe rmagic-table">'
        f"<caption>{_e(caption)}</caption>"
        f"<thead><tr><th></th>{head}</tr><tr><th></th>{kinds}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _e(text) -> str:
    return html.escape(str(text))


# -- R's side of Jupyter's display: called by R --------------------------------------


def _answer(session):
    return session.ri.BoolSexpVector([True])  # R ignores it; rpy2 wants an R vector


def _callback(fn):
    """An R-callable Python function: it shows, and never lets an error
    unwind through R (it is said in one line instead)."""

    def call(*args):
        session = get_session()
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported, R continues
            print(f"rmagic_ext: could not show R's output: {type(exc).__name__}: {exc}", file=sys.stderr)
        return _answer(session)

    return get_session().ri.rternalize(call)


def _publish(data, metadata=None) -> None:
    _flush()
    display(mime_bundle(data), raw=True, metadata=_metadata(metadata))


def _page(data) -> None:
    _flush()
    page.page(mime_bundle(data))


def _clear(wait) -> None:
    clear_output(wait=bool(wait[0]))


def _view(value) -> None:
    show_value(get_session(), value, *_table_limits())


def follow_table_limits(source: Callable[[], tuple[int, int]] | None) -> None:
    """Where ``View()`` finds the table's rows and columns shown (the magics'
    ``max_rows``/``max_cols`` traits while the extension is loaded)."""
    global _table_limits
    _table_limits = source or _default_table_limits


_callbacks: tuple = ()
_warnings = {"style": "r", "started": False}
WARNING_STYLES = ("r", "irkernel")


def use_warning_style(style: str) -> None:
    """How R's warnings read: "r" as R's console prints them, "irkernel" as
    IRkernel does (``Warning message in f():`` and the message quoted)."""
    if style not in WARNING_STYLES:
        raise ValueError(f"the warning style is one of {', '.join(WARNING_STYLES)} (got {style!r})")
    _warnings["style"] = style
    if _warnings["started"]:
        with get_session().entered():
            _R("set_warning_style", style)


@on_start
def install(session) -> None:
    """Point R's jupyter.* options, pager and View at this module."""
    global _callbacks
    _callbacks = tuple(_callback(fn) for fn in (_publish, _page, _clear, _view))  # kept: rpy2 needs them alive
    _R("display_install", *_callbacks)
    _warnings["started"] = True
    _R("set_warning_style", _warnings["style"])
    atexit.register(_let_go)


def _let_go() -> None:
    """At exit, while rpy2 can still free them (at teardown it cannot)."""
    global _callbacks
    _callbacks = ()
