"""Notebooks that mix rpy2's Python API with the magics: rpy2's own objects
(``rpy2.robjects`` and ``rpy2.rinterface``) reach R as the R objects they
wrap, on every way in, identical to what R already holds; rpy2's order and
exception types on errors; sizes that overflow; tibble captions."""

from __future__ import annotations

import multiprocessing

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from rmagic_ext import r, remote

ro = pytest.importorskip("rpy2.robjects")

KINDS = {
    "int vector": "c(1L, 2L, 3L)",
    "data frame": "data.frame(a = 1:2, b = c('x', 'y'))",
    "list": "list(a = 1, b = 'two')",
    "environment": "new.env()",
    "function": "function(x) x + 1",
    "formula": "y ~ x + z",
    "S4 object": "stats4::mle(function(m = 1) (m - 2)^2, start = list(m = 1), method = 'BFGS')",
    "model fit": "lm(mpg ~ wt, data = mtcars)",
}


@pytest.fixture(params=list(KINDS), ids=list(KINDS))
def held(request, ip):
    """An R object made by rpy2's Python API, also held by R as `held`."""
    obj = ro.r(KINDS[request.param])
    ro.globalenv["held"] = obj
    return obj


def identical_in_r(name: str) -> bool:
    return bool(r(f"identical({name}, held)"))


def test_through_i(ip, held):
    ip.user_ns["obj"] = held
    ip.run_cell_magic("R", "-i obj", "stopifnot(identical(obj, held))")


def test_through_rpush(ip, held):
    ip.user_ns["obj"] = held
    ip.run_line_magic("Rpush", "obj")
    assert identical_in_r("obj")


def test_through_the_bridge_and_as_arguments(ip, held):
    r.via_bridge = held
    assert identical_in_r("via_bridge")
    assert r.identical(held, r("held")) is True


def test_as_values_python_gives_back_to_r(ip, held):
    ip.user_ns["give"] = lambda: held
    ip.run_cell_magic("R", "", "stopifnot(identical(py$give(), held))")


def test_low_level_rinterface_objects(ip):
    import rpy2.rinterface as ri

    vector = ri.IntSexpVector([4, 5, 6])
    ri.globalenv["held"] = vector
    ip.user_ns["low"] = vector
    ip.run_cell_magic("R", "-i low", "stopifnot(identical(low, held), is.integer(low))")


def test_rpy2_converters_given_to_c_keep_working(ip):
    ip.user_ns["frame"] = __import__("pandas").DataFrame({"a": [1, 2]})
    ip.user_ns["conv"] = ro.default_converter + __import__("rpy2.robjects.pandas2ri").robjects.pandas2ri.converter
    ip.run_cell_magic("R", "-i frame -c conv", "stopifnot(is.data.frame(frame), nrow(frame) == 2)")


def report(value):
    """Run in a worker: what the R global `held` is there."""
    return value()


def test_as_remote_globals(ip):
    frame = ro.r("data.frame(a = 1:3)")
    r("peek <- function() paste(class(held), nrow(held))")
    travelling = remote(r.peek, globals={"held": frame})
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(report, (travelling,)) == "data.frame 3"


# -- rpy2's documentation notebook, as a user runs it -----------------------------------------


def test_rpy2s_notebook_pattern(ip, tmp_path):
    from rpy2.robjects.packages import importr

    path = tmp_path / "flights.csv"
    path.write_text("carrier,delay\nAA,5\nUA,12\nAA,-3\n")
    ip.user_ns["dataf"] = importr("utils").read_csv(str(path))
    with capture_output() as captured:
        ip.run_cell_magic(
            "R",
            "-i dataf -w 300 -h 200",
            "library(ggplot2)\ntibble::glimpse(dataf)\nprint(ggplot(dataf, aes(carrier, delay)) + geom_point())",
        )
    assert "Rows: 3" in captured.stdout and "$ carrier" in captured.stdout
    assert any("image/png" in o.data for o in captured.outputs)


# -- errors in rpy2's order and types ---------------------------------------------------------


def test_an_obsolete_d_fails_after_the_i_pushes_as_in_rpy2(ip):
    ip.user_ns["datapy"] = [1, 2, 3]
    ip.user_ns["datar"] = "not a function"
    with pytest.raises(UsageError, match=r"-d: 'datar' is not callable.*the -i values were assigned in R"):
        ip.run_cell_magic("R", "-i datapy -d datar", "datapy")
    assert list(r("datapy")) == [1, 2, 3]  # the next cells find it, as under rpy2


def test_a_bad_c_is_what_rpy2s_users_catch(ip):
    ip.user_ns["foo"] = 123
    ip.user_ns["x"] = 1
    with pytest.raises(TypeError, match="-c: 'foo' is a int, not a rmagic_ext.Converter"):
        ip.run_cell_magic("R", "-i x -c foo", "x")
    with pytest.raises(UsageError):
        ip.run_cell_magic("R", "-i x -c foo", "x")
    ip.user_ns["ns"] = type("NS", (), {})()
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        ip.run_cell_magic("R", "-i x -c ns.missing", "x")
    with pytest.raises(NameError):
        ip.run_cell_magic("R", "-i x -c nowhere", "x")


@pytest.mark.parametrize(
    "line, option",
    [
        ("--res 1e308", "-r/--res"),
        ("-w 1e308", "-w/--width"),
        ("-h 1e300 -u in", "-h/--height"),
        ("-r 1e-300", "-r/--res"),
        ("-p 1e308", "-p/--pointsize"),
    ],
)
def test_sizes_that_overflow_name_the_option(ip, line, option):
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("R", f"{line} plot(1)")
    assert str(caught.value).startswith(option) and "\n" not in str(caught.value)


def test_a_tibble_states_its_whole_size_in_every_form(ip):
    with capture_output() as captured:
        ip.run_cell_magic("R", "", "tibble::tibble(x = 1:2040, y = x * 2)")
    data = captured.outputs[0].data
    assert data["text/plain"].startswith("# A tibble: 2,040 × 2")
    assert "<caption>A tibble: 2040 × 2</caption>" in data["text/html"]
    for mime in ("text/latex", "text/markdown"):
        assert "2040 × 2" in data[mime]
