"""The shapes each surface returns (issue 15, item 1).

The magics shape values as rpy2's magics do (``RMagics.vectors = "arrays"``,
the default): every atomic vector a numpy array, length 1 too, names
dropped; factors ``pandas.Categorical``; dates and times datetime64 /
timedelta64 arrays. ``RMagics.vectors = "python"`` gives scalars and Series.
The bridge (``r``, ``py$``) always gives Python shapes, as reticulate does.
Written from rpy2's documented behaviour (``%R mean(x)`` gives ``array([4.25])``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from traitlets import TraitError

import rmagic_ext
from helpers import R


@pytest.fixture
def magics(ip):
    return ip.magics_manager.registry["RMagics"]


def test_the_default_is_rpy2s_arrays(magics):
    assert magics.vectors == "arrays"


def test_a_length_one_result_is_an_array_that_indexes_like_rpy2s(ip):
    ip.push({"x": np.array([1.0, 2.0, 5.0, 9.0])})
    m = R(ip, "-i x mean(x)")
    assert isinstance(m, np.ndarray) and m.shape == (1,) and m[0] == 4.25


@pytest.mark.parametrize(
    "code, expected, dtype_kind",
    [
        ("TRUE", [True], "b"),
        ("2L", [2], "i"),
        ("3.5", [3.5], "f"),
        ("2i", [2j], "c"),
        ("'text'", ["text"], "O"),
        ("c(1L, 2L, 3L)", [1, 2, 3], "i"),
    ],
)
def test_every_atomic_vector_is_a_1d_array(ip, code, expected, dtype_kind):
    value = R(ip, code)
    assert isinstance(value, np.ndarray) and value.ndim == 1
    assert value.dtype.kind == dtype_kind and value.tolist() == expected


def test_names_are_dropped_and_arithmetic_goes_by_position(ip):
    R(ip, "fit1 <- c(a = 1, b = 2); fit2 <- c(b = 10, c = 20)")
    one, two = R(ip, "fit1"), R(ip, "fit2")
    assert type(one) is np.ndarray and one[0] == 1.0
    assert (two - one).tolist() == [9.0, 18.0]  # by position, as in R and rpy2: no NaN from labels


def test_na_stays_visible_in_arrays(ip):
    ints = R(ip, "c(1L, NA)")
    assert isinstance(ints, np.ma.MaskedArray) and ints.mask.tolist() == [False, True]
    one_na = R(ip, "NA")
    assert isinstance(one_na, np.ma.MaskedArray) and one_na.shape == (1,) and one_na.mask[0]
    assert R(ip, "c('s', NA)").tolist() == ["s", None]
    assert np.isnan(R(ip, "NA_real_")[0])


def test_matrices_keep_their_shape(ip):
    value = R(ip, "matrix(1:6, 2)")
    assert value.shape == (2, 3) and value[1, 2] == 6


def test_a_factor_is_a_categorical(ip):
    value = R(ip, "factor(c(b = 'lo', a = 'hi', c = NA), levels = c('lo', 'hi'), ordered = TRUE)")
    assert isinstance(value, pd.Categorical)
    assert list(value.categories) == ["lo", "hi"] and value.ordered
    assert value.codes.tolist() == [0, 1, -1]
    single = R(ip, "factor('x')")
    assert isinstance(single, pd.Categorical) and single[0] == "x"


def test_dates_are_datetime64_day_arrays(ip):
    value = R(ip, "as.Date(c('2024-03-01', NA))")
    assert value.dtype == np.dtype("datetime64[D]")
    assert str(value[0]) == "2024-03-01" and np.isnat(value[1])
    early = R(ip, "as.Date(-1e6, origin = '1970-01-01')")  # before year one: still a date array
    assert early.dtype == np.dtype("datetime64[D]") and str(early[0]).startswith("-768")


def test_times_with_a_zone_keep_it(ip):
    value = R(ip, "as.POSIXct(c(a = '2024-03-01 10:00'), tz = 'Europe/Paris')")
    assert isinstance(value, pd.arrays.DatetimeArray) and str(value.tz) == "Europe/Paris"
    assert value[0] == pd.Timestamp("2024-03-01 10:00", tz="Europe/Paris")


def test_times_without_a_zone_are_naive_datetime64(ip):
    value = R(ip, "as.POSIXct('2024-03-01 10:00:00')")
    assert value.dtype == np.dtype("datetime64[us]")
    assert str(value[0]) == "2024-03-01T10:00:00.000000"  # R's wall-clock time


def test_difftimes_are_timedelta64(ip):
    value = R(ip, "as.difftime(c(5, NA), units = 'mins')")
    assert value.dtype == np.dtype("timedelta64[us]")
    assert value[0] == np.timedelta64(300, "s") and np.isnat(value[1])


def test_data_frames_stay_data_frames_with_nullable_columns(ip):
    frame = R(ip, "data.frame(i = c(1L, NA), f = factor(c('a', 'b')), d = as.Date('2024-01-01') + 0:1)")
    assert isinstance(frame, pd.DataFrame)
    assert str(frame["i"].dtype) == "Int64" and frame["f"].dtype == "category"
    assert frame["d"].dtype.kind == "M"


def test_lists_hold_arrays(ip):
    value = R(ip, "list(a = 1, b = list(c = 'x'))")
    assert isinstance(value["a"], np.ndarray) and value["a"].tolist() == [1.0]
    assert isinstance(value["b"]["c"], np.ndarray) and value["b"]["c"].tolist() == ["x"]


def test_output_pull_and_get_are_arrays_too(ip):
    ip.run_cell_magic("R", "-o out", "out <- 7; kept <- c(k = 2L)")
    assert isinstance(ip.user_ns["out"], np.ndarray) and ip.user_ns["out"].tolist() == [7.0]
    ip.run_line_magic("Rpull", "kept")
    assert type(ip.user_ns["kept"]) is np.ndarray and ip.user_ns["kept"].tolist() == [2]
    got = ip.run_line_magic("Rget", "kept")
    assert type(got) is np.ndarray and got.tolist() == [2]


def test_display_function_gets_an_array(ip):
    seen = []
    ip.push({"show_it": lambda value, args: seen.append(value)})
    ip.run_cell_magic("R", "-d show_it", "c(a = 1)")
    assert len(seen) == 1 and type(seen[0]) is np.ndarray and seen[0].tolist() == [1.0]


def test_arrays_go_back_to_r_as_they_came(ip):
    ip.run_line_magic(
        "R",
        "orig <- list(as.POSIXct('2024-03-01 10:00', tz = 'Asia/Tokyo'), "
        "as.Date(c('2024-01-01', NA)), factor(c('b', 'a')), 5, c(1L, NA))",
    )
    for k in range(1, 6):
        ip.push({"back": ip.run_line_magic("R", f"orig[[{k}]]")})
        assert ip.run_line_magic("R", f"-i back identical(unname(back), orig[[{k}]])").tolist() == [True], k


def test_python_shapes_on_request(ip, magics):
    magics.vectors = "python"
    try:
        assert R(ip, "mean(c(1, 2))") == 1.5
        named = R(ip, "c(a = 1, b = 2)")
        assert isinstance(named, pd.Series) and named["b"] == 2.0
        assert isinstance(R(ip, "factor(c('a', 'b'))"), pd.Series)
        assert R(ip, "as.Date('2024-03-01')").isoformat() == "2024-03-01"
    finally:
        magics.vectors = "arrays"


def test_vectors_refuses_other_shapes(ip, magics):
    with pytest.raises(TraitError):
        magics.vectors = "lists"
    magics.vectors = "ARRAYS"  # caseless, like the other choices
    assert magics.vectors == "arrays"


def test_the_r_object_keeps_python_shapes(ip):
    R(ip, "x <- c(a = 1, b = 2); one <- 3L")
    assert rmagic_ext.r.one == 3 and type(rmagic_ext.r.one) is int
    assert isinstance(rmagic_ext.r.x, pd.Series)
    assert rmagic_ext.r("mean(1:2)") == 1.5


def test_python_called_from_r_gets_python_shapes_inside_a_cell(ip):
    seen = []
    ip.push({"record": lambda value: seen.append(value) or value})
    out = R(ip, "py$record(2L)")
    assert seen == [2] and type(seen[0]) is int  # the argument: a scalar, as reticulate gives it
    assert type(out) is np.ndarray and out.tolist() == [2]  # the cell's value: rpy2's array
    ip.run_cell_magic("R", "", "py$record(c(a = 1))")
    assert isinstance(seen[-1], pd.Series)
