"""What code written for rpy2's magics relies on, checked against rpy2's
documented behaviour: its exception classes catch our errors, a line ending
with ";" returns nothing, ``-d`` is called once with the last value."""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.error import UsageError

from helpers import R
from rmagic_ext import RError, RParseError


def test_r_errors_are_rpy2_runtime_errors(ip):
    from rpy2.rinterface_lib.embedded import RRuntimeError
    with pytest.raises(RRuntimeError) as info:
        R(ip, "stop('boom')")
    assert isinstance(info.value, RError) and info.value.message == "boom"


def test_parse_errors_are_rpy2_parsing_errors(ip):
    from rpy2.rinterface_lib._rinterface_capi import RParsingError
    with pytest.raises(RParsingError) as info:
        R(ip, "1 +* 2")
    assert isinstance(info.value, RParseError) and info.value.line == 1


@pytest.mark.parametrize("magic, line", [("R", "-i missing_py 1"), ("Rpush", "missing_py"),
                                         ("R", "-d missing_py 1"), ("R", "-c missing_py 1")])
def test_a_missing_python_name_is_a_name_error(ip, magic, line):
    with pytest.raises(NameError, match="missing_py"):
        ip.run_line_magic(magic, line)
    with pytest.raises(UsageError):
        ip.run_line_magic(magic, line)


@pytest.mark.parametrize("magic, line", [("R", "-o missing_r 1"), ("Rpull", "missing_r"), ("Rget", "missing_r")])
def test_a_missing_r_name_is_a_key_error_as_rpy2_s_lookup_gives(ip, magic, line):
    with pytest.raises(KeyError, match="missing_r"):
        ip.run_line_magic(magic, line)


def test_missing_names_still_show_one_line(run_cell, capsys):
    run_cell("%Rget missing_r")
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip() == "UsageError: R has no object named 'missing_r'"


def test_importing_the_package_still_loads_neither_rpy2_nor_libr():
    code = ("import sys, rmagic_ext\n"
            "print(sorted(m for m in sys.modules if m.startswith('rpy2')))\n"
            "print(any('libR' in line for line in open('/proc/self/maps')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "False"]


def test_a_line_ending_with_a_semicolon_returns_none(ip, capsys):
    assert R(ip, "x <- 5;") is None
    assert R(ip, "x <- 5") == 5.0
    assert R(ip, 'paste("a;b")') == "a;b"  # a ";" inside a string is R's, not a separator
    assert R(ip, "cat('a\\n'); 2") == 2.0
    assert capsys.readouterr().out == "a\n"


# -- python -m rmagic_ext migrate -------------------------------------------------------------

def rpy2_notebook(path):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("We use `%load_ext rpy2.ipython` below."),
                nbformat.v4.new_code_cell("import pandas as pd\n%load_ext rpy2.ipython"),
                nbformat.v4.new_code_cell("  %load_ext rmagic  "),
                nbformat.v4.new_code_cell("%%R\nx <- 1")]
    nbformat.write(nb, str(path))
    return path.read_text()


def migrate_cmd(*args):
    return subprocess.run([sys.executable, "-m", "rmagic_ext", "migrate", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_migrate_rewrites_the_load_lines_and_nothing_else(tmp_path):
    path = tmp_path / "old.ipynb"
    before = rpy2_notebook(path)
    done = migrate_cmd(str(path))
    assert done.returncode == 0 and "rewrote 2 lines" in done.stdout, done.stdout + done.stderr
    after = path.read_text()
    assert after == before.replace('"%load_ext rpy2.ipython"', '"%load_ext rmagic_ext"') \
                          .replace('"  %load_ext rmagic  "', '"  %load_ext rmagic_ext  "')
    assert "We use `%load_ext rpy2.ipython` below." in after  # markdown untouched
    assert "nothing to change" in migrate_cmd(str(path)).stdout


def test_migrate_dry_run_shows_the_diff_and_changes_nothing(tmp_path):
    path = tmp_path / "old.ipynb"
    before = rpy2_notebook(path)
    done = migrate_cmd("--dry-run", str(path))
    assert done.returncode == 0 and "would rewrite 2 lines" in done.stdout
    assert '-    "%load_ext rpy2.ipython"' in done.stdout and '+    "%load_ext rmagic_ext"' in done.stdout
    assert path.read_text() == before


def test_migrate_reports_a_broken_notebook_and_leaves_it(tmp_path):
    broken, good = tmp_path / "broken.ipynb", tmp_path / "good.ipynb"
    broken.write_text('{"cells": [')
    rpy2_notebook(good)
    done = migrate_cmd(str(broken), str(good))
    assert done.returncode == 1
    assert "broken.ipynb: not changed" in done.stdout and "good.ipynb: rewrote 2 lines" in done.stdout
    assert broken.read_text() == '{"cells": ['


# -- structured arrays ----------------------------------------------------------------------------

def test_a_structured_array_becomes_a_data_frame(ip):
    import numpy as np
    ip.user_ns["rec"] = np.array([(1, 2.5, b"ab", "x"), (2, -1.0, b"c", "yz")],
                                 dtype=[("i", "i4"), ("f", "f8"), ("b", "S2"), ("u", "U2")])
    ip.run_line_magic("Rpush", "rec")
    assert R(ip, "class(rec)") == "data.frame"
    assert R(ip, "names(rec)").tolist() == ["i", "f", "b", "u"]
    assert R(ip, "vapply(rec, typeof, '')").tolist() == ["integer", "double", "character", "character"]
    assert R(ip, "rec$b").tolist() == ["ab", "c"] and R(ip, "rec$f").tolist() == [2.5, -1.0]
    ip.user_ns["recarray"] = ip.user_ns["rec"].view(np.recarray)
    ip.run_line_magic("Rpush", "recarray")
    assert R(ip, "nrow(recarray)") == 2


def test_a_structured_array_with_sub_arrays_is_refused(ip):
    import numpy as np
    from rmagic_ext import ConversionError, py2r
    with pytest.raises(ConversionError, match="sub-arrays"):
        py2r(np.zeros(2, dtype=[("v", "f8", (3,))]))


def test_a_structured_array_with_bytes_that_are_not_text_is_a_clear_error():
    import numpy as np
    from rmagic_ext import ConversionError, py2r
    with pytest.raises(ConversionError, match="field 'b'.*not UTF-8"):
        py2r(np.array([(1, b"\xff")], dtype=[("i", "i4"), ("b", "S1")]))
