"""How a visible R value is shown in the notebook.

A data.frame, tibble or matrix is shown as an HTML table (its kind and
dimensions, a row of column types, the first and last rows and columns with
an ellipsis between them) with R's own print beside it as text/plain;
anything else is printed by R, exactly as R's console prints it.

The table's content comes from R (``R/display.R`` formats the cells, so
numbers, factors, dates and NA look as they do in R); this module writes HTML.
"""

from __future__ import annotations

import html
import sys

from IPython.display import display

from .session import RCode, as_dict, get_session, is_null, scalar

_R = RCode("display.R")

_ELLIPSIS = "⋮"
_H_ELLIPSIS = "⋯"


def show_value(session, value, max_rows: int, max_cols: int) -> None:
    """Show one visible value: a table, or what R's console prints."""
    preview = table_preview(value, max_rows, max_cols)
    if preview is None:
        session.print_value(value)
        return
    sys.stdout.flush()  # keep text printed before the table above it
    display({"text/html": table_html(preview), "text/plain": preview["text"]}, raw=True)


_LISTS = ("names", "types", "cells", "row_names")


def table_preview(value, max_rows: int, max_cols: int) -> dict | None:
    """Size, column types, the formatted edge cells and R's own print of a
    data.frame, tibble or matrix; None for other values."""
    with get_session().entered():
        res = _R("table_preview", value, max_rows, max_cols)
        if is_null(res):  # NULL: not a table
            return None
        data = {k: (list(v) if k in _LISTS else scalar(v)) for k, v in as_dict(res).items()}
        data["text"] = scalar(_R("print_text", value, max_rows))
    return data


def table_html(preview: dict) -> str:
    """The HTML table for a :func:`table_preview`."""
    names, types, rows = preview["names"], preview["types"], preview["row_names"]
    ncol_shown, col_gap, row_gap = len(names), preview["col_gap"], preview["row_gap"]
    cells = preview["cells"]  # column-major, as R stores matrices

    def cell(i: int, j: int) -> str:
        return cells[j * len(rows) + i]

    def with_gap(items: list[str], filler: str) -> list[str]:
        return items[:col_gap] + [filler] + items[col_gap:] if col_gap else items

    head = "".join(f"<th>{_e(n)}</th>" for n in with_gap(names, _H_ELLIPSIS))
    kinds = "".join(f"<th>&lt;{_e(t)}&gt;</th>" if t != _H_ELLIPSIS else f"<th>{t}</th>"
                    for t in with_gap(types, _H_ELLIPSIS))
    body = []
    for i, row_name in enumerate(rows):
        if row_gap and i == row_gap:
            body.append("<tr><th>" + _ELLIPSIS + "</th>" + f"<td>{_ELLIPSIS}</td>" * (ncol_shown + bool(col_gap)) + "</tr>")
        values = with_gap([cell(i, j) for j in range(ncol_shown)], _H_ELLIPSIS)
        body.append(f"<tr><th>{_e(row_name)}</th>" + "".join(f"<td>{_e(v)}</td>" for v in values) + "</tr>")
    caption = f"{preview['kind']}: {preview['nrow']} × {preview['ncol']}"
    return (f'<table class="dataframe rmagic-table">'
            f"<caption>{_e(caption)}</caption>"
            f"<thead><tr><th></th>{head}</tr><tr><th></th>{kinds}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _e(text) -> str:
    return html.escape(str(text))
