"""Every notebook in notebooks/ runs top to bottom in a real kernel.

A cell may fail only when it is tagged ``raises-exception`` (a notebook that
demonstrates an error); any other error output fails the test.
"""

from __future__ import annotations

import base64
import struct
from functools import cache
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@cache
def executed(path: Path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_clean(path):
    for cell in executed(path).cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in cell.metadata.get("tags", []):
            usage = [o for o in cell.outputs if o.output_type == "stream" and o.text.startswith("UsageError")]
            assert errors or usage, f"{path.name}: a cell tagged raises-exception did not fail"
        else:
            assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


def test_there_are_notebooks():
    assert NOTEBOOKS


def png_sizes(cell) -> list[tuple[int, int]]:
    sizes = []
    for output in cell.outputs:
        data = output.get("data", {})
        if "image/png" in data:
            raw = base64.b64decode(data["image/png"])
            sizes.append(struct.unpack(">II", raw[16:24]))
    return sizes


def test_matplotlib_and_ggplot2_figures_have_the_same_size():
    nb = executed(Path(__file__).parent.parent / "notebooks" / "plots_in_both_languages.ipynb")
    python_figure = next(png_sizes(c) for c in nb.cells if c.cell_type == "code" and "plt.show()" in c.source)
    r_figure = next(png_sizes(c) for c in nb.cells if c.cell_type == "code" and "ggplot(" in c.source)
    assert python_figure == r_figure == [(480, 320)]


def test_the_tour_shows_a_help_page_a_widget_and_a_plot_from_python():
    pages = {}

    def keep_pages(cell, cell_index, execute_reply):
        pages[cell_index] = [p["data"] for p in execute_reply["content"].get("payload", []) if p["source"] == "page"]

    path = Path(__file__).parent.parent / "notebooks" / "tour.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=keep_pages,
    ).execute()
    help_pages = [page for found in pages.values() for page in found]
    assert any("Sample Quantiles" in page.get("text/html", "") for page in help_pages)
    outputs = [(cell.source, o) for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any("html-widget" in o.get("data", {}).get("text/html", "") for _, o in outputs)
    assert any(
        source.startswith("from rmagic_ext import r") and "image/png" in o.get("data", {}) for source, o in outputs
    )
