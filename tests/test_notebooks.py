"""Every notebook in notebooks/ runs top to bottom in a real kernel.

A cell may fail only when it is tagged ``raises-exception`` (a notebook that
demonstrates an error); any other error output fails the test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_clean(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in cell.metadata.get("tags", []):
            assert errors, f"{path.name}: a cell tagged raises-exception did not fail"
        else:
            assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


def test_there_are_notebooks():
    assert NOTEBOOKS
