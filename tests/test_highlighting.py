"""R highlighted as R outside the kernel (issue 19): the Pygments lexers
that nbconvert uses for exported notebooks, found through Pygments' own
plugin lookup, a real ``jupyter nbconvert --to html`` of a notebook, and the
kernel naming the lexer in its language_info. (The JupyterLab side is in
test_browser.py.)"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Operator, String

from rmagic_ext.highlighting import NOTEBOOK_LEXER, IPythonRLexer, RCellLexer

R_CELL = '%%R -i df -w 5 -u in\nx <- c(1, 2)  # a comment\nf <- function(a) if (a) TRUE else "no"\n'


def tokens(lexer, text: str) -> list[tuple[object, str]]:
    return [(token, value) for _, token, value in lexer.get_tokens_unprocessed(text) if value.strip()]


def test_pygments_finds_both_lexers_by_their_names():
    assert isinstance(get_lexer_by_name("rmagic-r"), RCellLexer)
    assert isinstance(get_lexer_by_name(NOTEBOOK_LEXER), IPythonRLexer)


@pytest.mark.parametrize("lexer", [RCellLexer(), IPythonRLexer()])
def test_a_percent_percent_r_cell_is_a_magic_line_then_r(lexer):
    found = tokens(lexer, R_CELL)
    assert found[:3] == [(Operator, "%%"), (Keyword, "R"), (found[2][0], " -i df -w 5 -u in")]
    assert (Operator, "<-") in found, "R's assignment is one operator"
    assert (Comment.Single, "# a comment") in found
    assert (Keyword.Reserved, "function") in found and (Keyword.Constant, "TRUE") in found
    assert "".join(value for token, value in found if token in String) == '"no"'
    assert (Name, "x") in found


def test_the_offsets_cover_the_cell_exactly():
    for text in (R_CELL, "\n\n%%R\nx <- 1", "%R -o m m <- mean(1:3)\nprint(m)\n", "y = %R 1:3  # r\nz = 1"):
        pieces = list(IPythonRLexer().get_tokens_unprocessed(text))
        assert "".join(value for _, _, value in pieces) == text
        assert all(text[index : index + len(value)] == value for index, _, value in pieces)


def test_percent_r_lines_are_r_and_the_rest_of_the_cell_is_python():
    found = tokens(IPythonRLexer(), "import math\nm = %R -o x x <- 1  # r side\ndef f(): return m\n")
    assert (Keyword.Namespace, "import") in found
    assert (Operator, "%") in found and (Keyword, "R") in found
    assert (Operator, "<-") in found and (Comment.Single, "# r side") in found
    assert (Keyword, "def") in found and (Name.Function, "f") in found


def test_a_plain_python_cell_is_ipython_s_own_lexing():
    from pygments.lexers import get_lexer_by_name as by_name

    source = "%timeit x = [a for a in range(3)]\nx <- 1  # python: a comparison\n"
    ours = [(t, v) for t, v in tokens(IPythonRLexer(), source)]
    ipython = [(t, v) for t, v in tokens(by_name("ipython3"), source)]
    assert ours == ipython
    assert (Operator, "<-") not in ours


def notebook(path, pygments_lexer: str) -> None:
    cells = [R_CELL, "def shout(text):\n    return text.upper()  # python\n", "m = %R mean(c(1, 2))"]
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "kernelspec": {"name": "python3-r", "display_name": "Python 3 + R", "language": "python"},
                    "language_info": {
                        "name": "python",
                        "pygments_lexer": pygments_lexer,
                        "codemirror_mode": {"name": "ipython", "version": 3},
                    },
                },
                "cells": [
                    {
                        "cell_type": "code",
                        "id": f"c{i}",
                        "metadata": {},
                        "execution_count": None,
                        "outputs": [],
                        "source": source,
                    }
                    for i, source in enumerate(cells)
                ],
            }
        )
    )


def exported_inputs(tmp_path, pygments_lexer: str) -> list[str]:
    """The highlighted input of each cell of ``jupyter nbconvert --to html``."""
    source = tmp_path / "cells.ipynb"
    notebook(source, pygments_lexer)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    page = (tmp_path / "cells.html").read_text()
    return re.findall(r'<div class="highlight[^"]*"><pre>(.*?)</pre></div>', page, re.S)


def spans(highlighted: str) -> list[tuple[str, str]]:
    return [
        (cls, html.unescape(text)) for cls, text in re.findall(r'<span class="([^"]+)">([^<]*)</span>', highlighted)
    ]


def test_nbconvert_html_highlights_r_as_r(tmp_path):
    r_cell, python_cell, line_cell = exported_inputs(tmp_path, NOTEBOOK_LEXER)
    r_spans = spans(r_cell)
    assert ("o", "%%") in r_spans and ("k", "R") in r_spans
    assert ("o", "&lt;-") not in r_spans and ("o", "<-") in r_spans, "R's <- is one operator"
    assert ("c1", "# a comment") in r_spans
    assert ("kc", "TRUE") in r_spans
    python_spans = spans(python_cell)
    assert ("k", "def") in python_spans and ("nf", "shout") in python_spans and ("c1", "# python") in python_spans
    assert ("o", "%") in spans(line_cell) and ("nf", "mean") in spans(line_cell)


def test_the_kernel_names_the_lexer_while_the_extension_is_loaded():
    from kernel_helpers import Kernel

    kernel = Kernel()
    try:
        before = kernel.client.kernel_info(reply=True, timeout=30)["content"]["language_info"]
        assert before["pygments_lexer"] == "ipython3"
        assert kernel.execute("%load_ext rmagic_ext").error is None
        after = kernel.client.kernel_info(reply=True, timeout=30)["content"]["language_info"]
        assert after["pygments_lexer"] == NOTEBOOK_LEXER
        assert {k: v for k, v in after.items() if k != "pygments_lexer"} == {
            k: v for k, v in before.items() if k != "pygments_lexer"
        }
        assert kernel.execute("%unload_ext rmagic_ext").error is None
        assert kernel.client.kernel_info(reply=True, timeout=30)["content"]["language_info"] == before
    finally:
        kernel.shutdown()


def test_the_prebuilt_labextension_is_what_its_committed_sources_build():
    """make labextension writes the sources' digest beside the build: edited
    sources without a rebuild fail here, not in a user's JupyterLab."""
    from rmagic_ext import labextension

    checkout = Path(__file__).resolve().parents[1] / "rmagic_ext" / "labextension"  # sources ship only there
    built_from = (checkout / "prebuilt" / "sources.sha256").read_text().strip()
    assert built_from == labextension.sources_digest(checkout), (
        "rmagic_ext/labextension/src changed since the last build: run `make labextension` and commit prebuilt/"
    )


def test_pip_installed_the_labextension_where_jupyterlab_finds_it():
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    lines = [line for line in (listed.stdout + listed.stderr).splitlines() if "rmagic-ext" in line]
    assert lines and "enabled" in lines[0] and "OK" in lines[0] and "rmagic_ext" in lines[0], (
        listed.stdout + listed.stderr
    )
