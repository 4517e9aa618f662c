"""%R, %%R, %Rpush, %Rpull, %Rget and their options, through a real IPython shell."""

from __future__ import annotations

import math

import types

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

import rmagic_ext
from rmagic_ext import RError, RParseError

# Values are checked as Python scalars and Series; test_shapes.py checks rpy2's arrays.
pytestmark = pytest.mark.usefixtures("python_shapes")


def test_cell_runs_and_returns_none(ip, capsys):
    assert ip.run_cell_magic("R", "", "y <- c(2, 4)\nmean(y)") is None
    assert capsys.readouterr().out == "[1] 3\n"


def test_line_returns_converted_last_value(ip):
    assert ip.run_line_magic("R", "x <- c(1.5, 2.5); sum(x)") == 4.0
    np.testing.assert_array_equal(ip.run_line_magic("R", "1:3"), np.array([1, 2, 3]))


def test_line_semicolons_are_split_by_r_not_by_us(ip):
    assert ip.run_line_magic("R", 'paste("a;b", "c")') == "a;b c"
    assert ip.run_line_magic("R", "z <- 2; z * 10") == 20


def test_line_keeps_quotes_hashes_and_minus_signs(ip):
    assert ip.run_line_magic("R", "-1 + 3") == 2
    assert ip.run_line_magic("R", "nchar('#x  -h')") == 6


def test_line_that_prints_returns_nothing(ip, capsys):
    assert ip.run_line_magic("R", "print(5)") is None
    assert capsys.readouterr().out == "[1] 5\n"


def test_noreturn(ip):
    assert ip.run_line_magic("R", "-n 41 + 1") is None
    assert ip.run_line_magic("R", "--noreturn 41 + 1") is None


def test_input_output_with_dataframe(ip):
    ip.user_ns["df"] = pd.DataFrame(
        {"a": [1, 2, 3], "b": [0.5, np.nan, 2.0], "s": ["x", None, "z"], "t": [True, False, True]}
    )
    ip.run_cell_magic("R", "-i df -o out", "out <- df\nout$c <- out$a * 2L")
    out = ip.user_ns["out"]
    assert list(out.columns) == ["a", "b", "s", "t", "c"]
    assert out["c"].tolist() == [2, 4, 6]
    assert out["a"].dtype == np.int64 and out["t"].dtype == bool
    assert out["s"].isna().tolist() == [False, True, False]
    assert np.isnan(out["b"][1])


def test_input_comma_list_renaming_and_repeats(ip):
    ip.user_ns.update(p=1, q=2, w=3)
    assert ip.run_line_magic("R", "-i p,rq=q -i w p + rq + w") == 6


def test_input_dotted_path(ip):
    ip.user_ns["ns"] = types.SimpleNamespace(val=types.SimpleNamespace(deep=7))
    assert ip.run_line_magic("R", "-i ns.val.deep ns.val.deep") == 7  # R name as in rpy2
    assert ip.run_line_magic("R", "-i v=ns.val.deep v * 2") == 14


def test_input_from_function_local_scope_first(ip):
    ip.user_ns["x"] = "global"
    ip.run_cell("def f():\n    x = 'local'\n    y = %R -i x x\n    return y\nfrom_f = f()")
    assert ip.user_ns["from_f"] == "local"


def test_output_renaming(ip):
    ip.run_cell_magic("R", "-o py_name=r_name", "r_name <- 'hello'")
    assert ip.user_ns["py_name"] == "hello"


def test_unknown_input_is_usage_error_and_nothing_runs(ip):
    with pytest.raises(UsageError, match="'missing_thing' is not defined"):
        ip.run_cell_magic("R", "-i missing_thing", "ran <- TRUE")
    assert ip.run_line_magic("R", "exists('ran')") is False


@pytest.mark.parametrize("option", ["-i 1bad", "-i if", "-i a-b", "-o x-y", "-i x=1y"])
def test_invalid_names_are_usage_errors(ip, option):
    ip.user_ns["x"] = 1
    with pytest.raises(UsageError, match="not a valid"):
        ip.run_cell_magic("R", option, "NULL")


def test_missing_attribute_in_path_is_usage_error(ip):
    ip.user_ns["ns"] = types.SimpleNamespace()
    with pytest.raises(UsageError, match="has no attribute 'nope'"):
        ip.run_line_magic("R", "-i ns.nope 1")


def test_names_are_never_pasted_into_r_source(ip):
    ip.user_ns["v"] = 'x"); stop("injected'
    assert ip.run_line_magic("R", "-i v v") == 'x"); stop("injected'


def test_output_missing_after_run_is_usage_error(ip):
    with pytest.raises(UsageError, match="no object named 'never_made'"):
        ip.run_cell_magic("R", "-o never_made", "x <- 1")


def test_option_errors_are_usage_errors(ip):
    with pytest.raises(UsageError, match="-i needs a value"):
        ip.run_cell_magic("R", "-i", "1")
    with pytest.raises(UsageError, match="-c needs a value"):
        ip.run_line_magic("Rpush", "-c")


def test_display_function_is_called_once_with_the_last_value_as_rpy2_does(ip, capsys):
    seen = []
    ip.user_ns["show_it"] = lambda value, args: seen.append((value, args.display))
    ip.run_cell_magic("R", "-d show_it", "x <- 3\nx\nc(a = 1)")
    assert len(seen) == 1 and seen[0][1] == "show_it"
    assert seen[0][0].to_dict() == {"a": 1.0}
    assert capsys.readouterr().out == "[1] 3\n"  # earlier visible values print as R prints them
    seen.clear()
    ip.run_cell_magic("R", "-d show_it", "y <- 1")
    assert seen == []  # nothing visible: not called
    assert ip.run_line_magic("R", "-d show_it 2L") is None and seen[0][0] == 2


def test_display_must_exist_and_be_callable(ip):
    ip.user_ns["not_callable"] = 3
    with pytest.raises(UsageError, match="not callable"):
        ip.run_cell_magic("R", "-d not_callable", "1")
    with pytest.raises(UsageError, match="'nothing_here' is not defined"):
        ip.run_cell_magic("R", "-d nothing_here", "1")


def test_rpush_rpull_rget(ip):
    ip.user_ns.update(a=np.array([1.0, 2.0]), b="text")
    ip.run_line_magic("Rpush", "a b")
    assert ip.run_line_magic("R", "paste(length(a), b)") == "2 text"
    ip.run_line_magic("R", "c1 <- a * 2; c2 <- toupper(b)")
    ip.run_line_magic("Rpull", "c1 c2")
    np.testing.assert_array_equal(ip.user_ns["c1"], [2.0, 4.0])
    assert ip.user_ns["c2"] == "TEXT"
    assert ip.run_line_magic("Rget", "c2") == "TEXT"


def test_rget_reads_the_search_path(ip):
    cars = ip.run_line_magic("Rget", "mtcars")
    assert cars.shape == (32, 11) and cars.index[0] == "Mazda RX4"


def test_rpull_and_rget_unknown_names(ip):
    with pytest.raises(UsageError, match="no object named 'nope'"):
        ip.run_line_magic("Rpull", "nope")
    with pytest.raises(UsageError, match="exactly one"):
        ip.run_line_magic("Rget", "")
    with pytest.raises(UsageError, match="not defined"):
        ip.run_line_magic("Rpush", "nope_py")


def test_converter_option(ip):
    from rmagic_ext import Converter, convert

    upper = Converter("upper", convert.default)

    @upper.py2r.register(str)
    def _(value):
        return convert.default.py2r(value.upper())

    ip.user_ns.update(upper=upper, word="quiet", not_a_converter=3)
    assert ip.run_line_magic("R", "-c upper -i word word") == "QUIET"
    assert ip.run_line_magic("R", "-c upper py$word") == "QUIET"  # what R reads through py$ too
    assert ip.run_line_magic("R", "-i word word") == "quiet"
    assert ip.run_line_magic("R", "py$word") == "quiet"
    ip.run_line_magic("Rpush", "-c upper word")
    assert ip.run_line_magic("R", "word") == "QUIET"
    with pytest.raises(UsageError, match="not a rmagic_ext.Converter"):
        ip.run_line_magic("R", "-c not_a_converter 1")


def test_cell_errors_surface_as_r_errors(ip):
    with pytest.raises(RError, match="boom"):
        ip.run_cell_magic("R", "", "stop('boom')")
    with pytest.raises(RParseError):
        ip.run_cell_magic("R", "", "1 +* 2")


def test_failed_cell_shows_r_error_not_python_frames(run_cell, capsys):
    result = run_cell("%%R\nf <- function() stop('deep')\nf()")
    assert isinstance(result.error_in_exec, RError)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Error in f() : deep" in text
    assert "rmagics.py" not in text and "Traceback (most recent call last)" not in text


def test_usage_error_is_one_line(run_cell, capsys):
    run_cell("%R -i undefined_name_123 1")
    captured = capsys.readouterr()
    text = (captured.out + captured.err).strip()
    assert text == "UsageError: -i: name 'undefined_name_123' is not defined in Python"


def test_code_on_the_magic_line_runs_before_the_cell(ip, capsys):
    ip.run_cell_magic("R", "first <- 1", "first + 1")
    assert capsys.readouterr().out == "[1] 2\n"


OUR_DEVICE = "is.function(d <- getOption('device')) && exists('.graphics', envir = environment(d), inherits = FALSE)"


def test_unload_takes_back_what_load_added_and_reload_works(ip):
    from rmagic_ext import completion

    ip.run_cell("%%R\nplot(1:3)")
    assert rmagic_ext.r(OUR_DEVICE) is True
    ip.run_line_magic("unload_ext", "rmagic_ext")
    try:
        assert "R" not in ip.magics_manager.magics["line"] and "R" not in ip.magics_manager.magics["cell"]
        assert completion.r_matcher not in ip.Completer.custom_matchers
        assert rmagic_ext.r(OUR_DEVICE) is False  # R's own device option again
    finally:
        ip.run_line_magic("load_ext", "rmagic_ext")
    assert ip.Completer.custom_matchers.count(completion.r_matcher) == 1
    ip.run_cell("%%R\nplot(1:3)")
    assert rmagic_ext.r(OUR_DEVICE) is True
    ip.run_line_magic("reload_ext", "rmagic_ext")
    assert ip.Completer.custom_matchers.count(completion.r_matcher) == 1
    assert ip.run_line_magic("R", "1L + 1L").tolist() == [2]  # a new RMagics: rpy2's arrays again


@pytest.mark.parametrize(
    "trait, bad",
    [
        ("max_rows", 0),
        ("max_cols", -3),
        ("width", 0.0),
        ("height", -1.0),
        ("res", 0.0),
        ("pointsize", -2.0),
        ("width", float("inf")),
        ("height", float("nan")),
        ("res", float("-inf")),
    ],
)
def test_traits_refuse_values_that_would_fail_later(ip, trait, bad):
    from traitlets import TraitError

    magics = ip.magics_manager.registry["RMagics"]
    before = getattr(magics, trait)
    with pytest.raises(TraitError, match=f"RMagics.{trait} must be a finite number above 0"):
        setattr(magics, trait, bad)
    as_python = repr(bad) if math.isfinite(bad) else f"float({str(bad)!r})"
    ip.run_line_magic("config", f"RMagics.{trait} = {as_python}")  # IPython reports it in one line
    assert getattr(magics, trait) == before


def test_text_settings_refuse_what_r_could_not_use(ip):
    from traitlets import TraitError

    magics = ip.magics_manager.registry["RMagics"]
    before = magics.cran_mirror, magics.bg
    with pytest.raises(TraitError, match="RMagics.cran_mirror cannot be empty"):
        magics.cran_mirror = "  "
    with pytest.raises(TraitError, match="RMagics.cran_mirror cannot hold a NUL byte"):
        magics.cran_mirror = "https://cloud.r-project.org\x00"
    with pytest.raises(TraitError, match="RMagics.bg cannot hold a NUL byte"):
        magics.bg = "white\x00"
    assert (magics.cran_mirror, magics.bg) == before
