"""What code written for rpy2's magics relies on, checked against rpy2's
documented behaviour: its exception classes catch our errors, a line ending
with ";" returns nothing, ``-d`` is called once with the last value."""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.error import UsageError

from helpers import R, run_python
from rmagic_ext import ConversionError, RError, RParseError


def test_r_errors_are_rpy2_runtime_errors(ip):
    from rpy2.rinterface_lib.embedded import RRuntimeError

    with pytest.raises(RRuntimeError) as info:
        R(ip, "stop('boom')")
    assert isinstance(info.value, RError) and info.value.message == "boom"


def test_r_errors_are_the_error_rpy2s_magics_raise_once_a_notebook_imports_it():
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'rmagic_ext')\n"
        "ip.run_line_magic('R', '1')\n"  # R already up when the notebook imports rpy2's error
        "from rpy2.ipython.rmagic import RInterpreterError\n"
        "try:\n"
        "    ip.run_line_magic('R', 'stop(\"boom\")')\n"
        "except RInterpreterError as e:\n"
        "    print('caught:', e.err, '|', e.message)\n"
    )
    done = run_python(code)
    assert done.stdout.strip().splitlines()[-1] == "caught: Error: boom | boom"


def test_parse_errors_are_rpy2_parsing_errors(ip):
    from rpy2.rinterface_lib._rinterface_capi import RParsingError

    with pytest.raises(RParsingError) as info:
        R(ip, "1 +* 2")
    assert isinstance(info.value, RParseError) and info.value.line == 1


@pytest.mark.parametrize(
    "magic, line",
    [("R", "-i missing_py 1"), ("Rpush", "missing_py"), ("R", "-d missing_py 1"), ("R", "-c missing_py 1")],
)
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
    code = (
        "import sys, rmagic_ext\n"
        "print(sorted(m for m in sys.modules if m.startswith('rpy2')))\n"
        "print(any('libR' in line for line in open('/proc/self/maps')))"
    )
    done = run_python(code, timeout=60)
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
    nb.cells = [
        nbformat.v4.new_markdown_cell("We use `%load_ext rpy2.ipython` below."),
        nbformat.v4.new_code_cell("import pandas as pd\n%load_ext rpy2.ipython"),
        nbformat.v4.new_code_cell("  %load_ext rmagic  "),
        nbformat.v4.new_code_cell("%%R\nx <- 1"),
    ]
    nbformat.write(nb, str(path))
    return path.read_text()


def migrate_cmd(*args):
    return subprocess.run(
        [sys.executable, "-m", "rmagic_ext", "migrate", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_migrate_rewrites_the_load_lines_and_nothing_else(tmp_path):
    path = tmp_path / "old.ipynb"
    before = rpy2_notebook(path)
    done = migrate_cmd(str(path))
    assert done.returncode == 0 and "rewrote 2 lines" in done.stdout, done.stdout + done.stderr
    after = path.read_text()
    assert after == before.replace('"%load_ext rpy2.ipython"', '"%load_ext rmagic_ext"').replace(
        '"  %load_ext rmagic  "', '"  %load_ext rmagic_ext  "'
    )
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

    ip.user_ns["rec"] = np.array(
        [(1, 2.5, b"ab", "x"), (2, -1.0, b"c", "yz")], dtype=[("i", "i4"), ("f", "f8"), ("b", "S2"), ("u", "U2")]
    )
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


# -- item 7: rpy2 converters with -c --------------------------------------------


@pytest.fixture
def rpy2_converters(ip):
    """Converters as an rpy2 notebook builds them (rpy2's documented recipe:
    a Converter from a template, rules registered on py2rpy/rpy2py)."""
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri

    class Celsius:
        def __init__(self, degrees):
            self.degrees = degrees

    with_pandas = ro.default_converter + pandas2ri.converter
    mine = ro.conversion.Converter("temperatures", template=with_pandas)

    class Broken:
        pass

    @mine.py2rpy.register(Celsius)
    def _(value):
        return ro.FloatVector([value.degrees])

    @mine.py2rpy.register(Broken)
    def _(value):
        raise NotImplementedError("Broken has no R form")  # rpy2's way to say "cannot convert"

    ip.push({"ro": ro, "with_pandas": with_pandas, "mine": mine, "Celsius": Celsius, "Broken": Broken})
    return ro


def test_an_rpy2_converter_converts_inputs_with_its_own_rules(ip, rpy2_converters):
    ip.push({"t": ip.user_ns["Celsius"](21.5)})
    assert R(ip, "-c mine -i t t * 2")[0] == 43.0
    assert R(ip, "-i t class(t)")[0] != "numeric"  # without -c: ours, which has no rule (a reference)


def test_an_rpy2_converter_gives_rpy2s_results(ip, rpy2_converters):
    value = R(ip, "-c ro.default_converter c(a = 1, b = 2)")
    assert isinstance(value, rpy2_converters.vectors.FloatVector)
    assert list(value.names) == ["a", "b"] and list(value) == [1.0, 2.0]
    ip.run_cell_magic("R", "-c with_pandas -o frame", "frame <- data.frame(x = 1:2, s = c('a', 'b'))")
    assert ip.user_ns["frame"]["s"].tolist() == ["a", "b"]


def test_py_dollar_in_an_rpy2_converter_cell_uses_it(ip, rpy2_converters):
    ip.push({"t": ip.user_ns["Celsius"](10.0), "double": lambda x: 2 * x[0]})
    # py$t by the rpy2 rule; py$double, a function rpy2 has no rule for, by ours
    assert list(R(ip, "-c mine py$double(py$t)")) == [20.0]  # x: rpy2's FloatVector


def test_a_failing_rpy2_conversion_is_a_one_line_error(ip, rpy2_converters, run_cell, capsys):
    R(ip, "kept <- 1")
    ip.push({"obj": ip.user_ns["Broken"](), "fine": 2.0})
    result = run_cell("%R -c mine -i fine,obj kept <- 3")
    assert isinstance(result.error_in_exec, ConversionError)
    assert "rpy2 converter 'temperatures': Broken has no R form" in str(result.error_in_exec)
    assert "Traceback" not in capsys.readouterr().out
    assert R(ip, "c(kept, exists('fine'))").tolist() == [1.0, 0.0]  # nothing ran, nothing was bound


def test_a_notebook_that_started_r_through_rpy2_first_works_and_exits_cleanly():
    code = (
        "import rpy2.robjects as ro\n"
        "ro.r('zz <- 5')\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'rmagic_ext')\n"
        "ip.push({'cv': ro.default_converter})\n"
        "print(ip.run_line_magic('R', 'zz + 1').tolist(), list(ip.run_line_magic('R', '-c cv zz')))\n"
    )
    done = run_python(code)
    assert done.stdout.strip().splitlines()[-1] == "[6.0] [5.0]"
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
