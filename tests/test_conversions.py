"""Every row of the conversion table (DESIGN.md), both directions, through
the magics users type: ``%%R -i x -o y`` and ``%Rpush`` / ``%Rpull``."""

from __future__ import annotations

import datetime as dt
import warnings
import zoneinfo

import numpy as np
import pandas as pd
import pytest
import pytz

from helpers import R, r_eval
from rmagic_ext import ConversionError, ConversionWarning, py2r, r2py
from rmagic_ext.session import get_session

# Values are checked as Python scalars and Series; test_shapes.py checks rpy2's arrays.
pytestmark = pytest.mark.usefixtures("python_shapes")


def through_cell(ip, value):
    ip.user_ns["x_in"] = value
    ip.run_cell_magic("R", "-i x_in -o y_out", "y_out <- x_in")
    return ip.user_ns["y_out"]


def through_push_pull(ip, value):
    ip.user_ns["x_pp"] = value
    ip.run_line_magic("Rpush", "x_pp")
    del ip.user_ns["x_pp"]
    ip.run_line_magic("Rpull", "x_pp")
    return ip.user_ns["x_pp"]


@pytest.fixture(params=[through_cell, through_push_pull], ids=["cell", "push-pull"])
def roundtrip(request, ip):
    return lambda value: request.param(ip, value)


# -- scalars and containers ------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, True, False, 0, -7, 2**31 - 1, 1.25, float("inf"), "text é ✓", "", 3 - 4j, b"\x00\xffraw"]
)
def test_scalars_keep_value_and_type(roundtrip, value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_nan_scalar(roundtrip):
    assert np.isnan(roundtrip(float("nan")))


def test_big_int_is_exact_double_with_a_warning(roundtrip):
    with pytest.warns(ConversionWarning, match="stored as double"):
        back = roundtrip(2**53)
    assert back == 2**53


def test_int_beyond_2_53_fails_clearly(ip):
    ip.user_ns["huge"] = 2**53 + 1
    with pytest.raises(ConversionError, match="too large"):
        ip.run_line_magic("Rpush", "huge")


@pytest.mark.parametrize(
    "value, rtype",
    [([1, 2, 3], "integer"), ((1.5, 2.5), "double"), ([True, False], "logical"), (["a", "b"], "character")],
)
def test_homogeneous_lists_are_atomic_vectors(ip, roundtrip, value, rtype):
    ip.user_ns["lst"] = value
    assert R(ip, "-i lst typeof(lst)") == rtype
    back = roundtrip(value)
    assert isinstance(back, np.ndarray) and back.tolist() == list(value)


def test_mixed_list_is_r_list(ip, roundtrip):
    value = [1, "two", 3.0, None, [1, 2]]
    ip.user_ns["mixed"] = value
    assert R(ip, "-i mixed class(mixed)") == "list"
    back = roundtrip(value)
    assert back[:4] == [1, "two", 3.0, None] and back[4].tolist() == [1, 2]


def test_nested_dict_is_named_list(ip, roundtrip):
    value = {"a": 1, "b": {"c": "x", "d": [True, False]}, "e": None}
    ip.user_ns["nested"] = value
    assert R(ip, "-i nested nested$b$c") == "x"
    assert R(ip, "-i nested names(nested)").tolist() == ["a", "b", "e"]
    back = roundtrip(value)
    assert back["a"] == 1 and back["b"]["c"] == "x" and back["b"]["d"].tolist() == [True, False]
    assert back["e"] is None


# -- numpy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.array([1.5, np.nan, -np.inf]),
        np.arange(5, dtype=np.int32),
        np.arange(5, dtype=np.int64),
        np.array([True, False, True]),
        np.array([1 + 1j, 2 - 2j]),
        np.array([], dtype=np.float64),
    ],
)
def test_numpy_1d(roundtrip, array):
    back = roundtrip(array)
    assert isinstance(back, np.ndarray) and back.dtype.kind == array.dtype.kind
    np.testing.assert_array_equal(back, array)


def test_numpy_strings_come_back_as_object_arrays_of_str(roundtrip):
    """numpy's fixed-width strings have no NA; R's character vectors do (None)."""
    back = roundtrip(np.array(["x", "yy"]))
    assert back.dtype == object and back.tolist() == ["x", "yy"]


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (1, 5)])
def test_numpy_nd_same_elements_same_shape(ip, roundtrip, shape):
    array = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ip.user_ns["arr"] = array
    assert R(ip, "-i arr dim(arr)").tolist() == list(shape)
    assert R(ip, "-i arr arr[length(arr)]") == array.flat[-1]
    back = roundtrip(array)
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_numpy_3d_element_positions(ip):
    array = np.arange(24).reshape(2, 3, 4)
    ip.user_ns["cube"] = array
    assert R(ip, "-i cube cube[2, 3, 4]") == array[1, 2, 3]
    assert R(ip, "-i cube cube[1, 2, 3]") == array[0, 1, 2]


def test_numpy_datetime_arrays(ip, roundtrip):
    days = np.array(["2024-02-29", "NaT", "1969-12-31"], dtype="datetime64[D]")
    ip.user_ns["days"] = days
    assert R(ip, "-i days class(days)") == "Date"
    assert R(ip, "-i days format(days[1])") == "2024-02-29"
    back = roundtrip(days)
    assert back.isna().tolist() == [False, True, False]
    assert back.dt.strftime("%Y-%m-%d")[[0, 2]].tolist() == ["2024-02-29", "1969-12-31"]


# -- pandas columns --------------------------------------------------------------


def test_series_with_index_is_named_vector(ip, roundtrip):
    series = pd.Series([1.5, 2.5], index=["a", "b"])
    ip.user_ns["ser"] = series
    assert R(ip, "-i ser names(ser)").tolist() == ["a", "b"]
    back = roundtrip(series)
    pd.testing.assert_series_equal(back, series, check_names=False, check_index_type=False)


@pytest.mark.parametrize("dtype", ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"])
def test_nullable_integers_keep_na(ip, roundtrip, dtype):
    frame = pd.DataFrame({"v": pd.array([None, 1, 7, None], dtype=dtype)})
    ip.user_ns["nullable"] = frame
    assert R(ip, "-i nullable typeof(nullable$v)") == "integer"
    assert R(ip, "-i nullable is.na(nullable$v)").tolist() == [True, False, False, True]
    back = roundtrip(frame)["v"]
    assert pd.api.types.is_integer_dtype(back.dtype)
    assert back.isna().tolist() == [True, False, False, True]
    assert back.dropna().tolist() == [1, 7]


def test_int64_column_without_na_stays_int64(roundtrip):
    back = roundtrip(pd.DataFrame({"v": np.array([1, -2, 3], dtype=np.int64)}))
    assert back["v"].dtype == np.int64 and back["v"].tolist() == [1, -2, 3]


def test_int64_column_out_of_range_is_exact_double_with_one_warning(ip):
    ip.user_ns["wide"] = pd.DataFrame({"v": [1, 2**40, -(2**50)]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ip.run_cell_magic("R", "-i wide -o wide2", "wide2 <- wide")
    relevant = [w for w in caught if issubclass(w.category, ConversionWarning)]
    assert len(relevant) == 1 and "'v'" in str(relevant[0].message)
    assert R(ip, "typeof(wide$v)") == "double"
    assert ip.user_ns["wide2"]["v"].tolist() == [1, 2**40, -(2**50)]


def test_na_integer_never_leaks_as_sentinel(ip):
    frame = R(ip, "data.frame(v = c(NA, 1L))")
    assert str(frame["v"].dtype) == "Int64"
    assert -(2**31) not in frame["v"].fillna(0).tolist()


@pytest.mark.parametrize("dtype", ["float64", "Float32", "Float64"])
def test_floats_with_na(ip, roundtrip, dtype):
    frame = pd.DataFrame({"v": pd.array([1.5, None, 2.0], dtype=dtype)})
    ip.user_ns["floats"] = frame
    assert R(ip, "-i floats is.na(floats$v)").tolist() == [False, True, False]
    back = roundtrip(frame)["v"]
    assert back.dtype.kind == "f" and back.isna().tolist() == [False, True, False]
    assert back[[0, 2]].tolist() == [1.5, 2.0]


@pytest.mark.parametrize("dtype", ["bool", "boolean"])
def test_booleans(ip, roundtrip, dtype):
    values = [True, False, True] if dtype == "bool" else [True, None, False]
    frame = pd.DataFrame({"v": pd.array(values, dtype=dtype)})
    back = roundtrip(frame)["v"]
    assert pd.api.types.is_bool_dtype(back.dtype)
    assert back.isna().tolist() == frame["v"].isna().tolist()
    assert back.dropna().tolist() == frame["v"].dropna().tolist()


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_strings_with_na(ip, roundtrip, dtype):
    frame = pd.DataFrame({"v": pd.Series(["a", None, "ü"], dtype=dtype)})
    ip.user_ns["strs"] = frame
    assert R(ip, "-i strs typeof(strs$v)") == "character"
    assert R(ip, "-i strs is.na(strs$v)").tolist() == [False, True, False]
    back = roundtrip(frame)["v"]
    assert pd.api.types.is_string_dtype(back.dtype)
    assert back.isna().tolist() == [False, True, False] and back[[0, 2]].tolist() == ["a", "ü"]


@pytest.mark.parametrize("ordered", [False, True])
def test_category_is_factor_with_level_order(ip, roundtrip, ordered):
    cat = pd.Categorical(["lo", None, "hi", "lo"], categories=["lo", "mid", "hi"], ordered=ordered)
    frame = pd.DataFrame({"c": cat})
    ip.user_ns["cats"] = frame
    assert R(ip, "-i cats levels(cats$c)").tolist() == ["lo", "mid", "hi"]
    assert R(ip, "-i cats is.ordered(cats$c)") is ordered
    assert R(ip, "-i cats as.integer(cats$c)").filled(-1).tolist() == [1, -1, 3, 1]
    back = roundtrip(frame)["c"]
    assert back.cat.categories.tolist() == ["lo", "mid", "hi"]
    assert back.cat.ordered is ordered
    assert back.isna().tolist() == [False, True, False, False]
    assert back.astype(object).where(back.notna(), None).tolist() == ["lo", None, "hi", "lo"]


def test_category_series_round_trip(roundtrip):
    series = pd.Series(pd.Categorical(["x", "y", "x"]))
    back = roundtrip(series)
    pd.testing.assert_series_equal(back, series)


def test_naive_datetimes_print_same_wall_clock_in_r(ip, roundtrip):
    times = pd.Series(pd.to_datetime(["2024-03-31 01:30:00", None, "1999-12-31 23:59:59.250000"], format="ISO8601"))
    frame = pd.DataFrame({"t": times})
    ip.user_ns["naive"] = frame
    assert R(ip, "-i naive format(naive$t[1], '%Y-%m-%d %H:%M:%S')") == "2024-03-31 01:30:00"
    assert R(ip, "-i naive inherits(naive$t, 'POSIXct')") is True
    back = roundtrip(frame)["t"]
    assert back.dt.tz is None and back.dtype.kind == "M"
    pd.testing.assert_series_equal(back, times.astype("datetime64[us]"), check_names=False)


@pytest.mark.parametrize(
    "tz",
    [
        zoneinfo.ZoneInfo("Europe/Paris"),
        pytz.timezone("America/New_York"),
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(-dt.timedelta(hours=3)),
        dt.timezone.utc,
        "UTC",
    ],
)
def test_tz_aware_datetimes_keep_tzone_and_instants(ip, roundtrip, tz):
    times = pd.Series(pd.to_datetime(["2024-01-15 08:00", "2024-07-01 23:30", None])).dt.tz_localize(tz)
    frame = pd.DataFrame({"t": times})
    ip.user_ns["aware"] = frame
    wall = times[0].strftime("%Y-%m-%d %H:%M")
    assert R(ip, "-i aware format(aware$t[1], '%Y-%m-%d %H:%M')") == wall
    assert R(ip, "-i aware as.numeric(aware$t[1])") == times[0].timestamp()
    back = roundtrip(frame)["t"]
    assert str(back.dt.tz) == str(times.dt.tz) or back.dt.tz.utcoffset(None) == times.dt.tz.utcoffset(None)
    assert back.isna().tolist() == [False, False, True]
    assert (back[:2] == times[:2]).all()
    assert back[:2].dt.strftime("%H:%M").tolist() == times[:2].dt.strftime("%H:%M").tolist()


def test_r_tzone_is_the_python_tz(ip):
    ip.user_ns["paris"] = pd.DataFrame({"t": pd.to_datetime(["2024-01-01"]).tz_localize("Europe/Paris")})
    assert R(ip, "-i paris attr(paris$t, 'tzone')") == "Europe/Paris"


def test_dates(ip, roundtrip):
    dates = [dt.date(2024, 2, 29), None, dt.date(1901, 1, 1)]
    frame = pd.DataFrame({"d": dates})
    ip.user_ns["dated"] = frame
    assert R(ip, "-i dated class(dated$d)") == "Date"
    assert R(ip, "-i dated format(dated$d)").tolist() == ["2024-02-29", None, "1901-01-01"]
    back = roundtrip(frame)["d"]  # documented: a date column comes back at midnight
    assert back.dtype.kind == "M" and back.isna().tolist() == [False, True, False]
    assert [d.date() for d in back.dropna()] == [dates[0], dates[2]]


def test_date_scalar(ip, roundtrip):
    assert roundtrip(dt.date(2020, 1, 2)) == dt.date(2020, 1, 2)
    ip.user_ns["when"] = dt.date(2020, 1, 2)
    assert R(ip, "-i when class(when)") == "Date"


def test_datetime_scalar(roundtrip):
    value = dt.datetime(2021, 5, 6, 7, 8, 9, 123456)
    assert roundtrip(value) == value


def test_timedeltas_are_difftime(ip, roundtrip):
    deltas = pd.Series(pd.to_timedelta([1.5, None, -86400], unit="s"))
    frame = pd.DataFrame({"d": deltas})
    ip.user_ns["waits"] = frame
    assert R(ip, "-i waits class(waits$d)") == "difftime"
    assert R(ip, "-i waits units(waits$d)") == "secs"
    back = roundtrip(frame)["d"]
    pd.testing.assert_series_equal(back, deltas.astype("timedelta64[us]"), check_names=False)
    assert R(ip, "as.numeric(as.difftime(90, units = 'mins'), units = 'secs')") == 5400.0
    assert ip.run_line_magic("R", "as.difftime(90, units = 'mins')") == pd.Timedelta(minutes=90)


# -- frames: names and index -------------------------------------------------------


def test_column_names_untouched(ip, roundtrip):
    frame = pd.DataFrame({"1st": [1], "a b": [2], "x.y": [3], "_u": [4], "if": [5]})
    ip.user_ns["names_df"] = frame
    assert R(ip, "-i names_df names(names_df)").tolist() == ["1st", "a b", "x.y", "_u", "if"]
    assert list(roundtrip(frame).columns) == list(frame.columns)


@pytest.mark.parametrize(
    "index", [pd.Index(["r1", "r2", "r3"]), pd.Index([10, 20, 30]), pd.Index([1, 2, 3]), pd.RangeIndex(3)]
)
def test_index_is_row_names(ip, roundtrip, index):
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=index)
    ip.user_ns["indexed"] = frame
    row_names = R(ip, "-i indexed rownames(indexed)").tolist()
    assert row_names == (
        [str(i + 1) for i in range(3)] if isinstance(index, pd.RangeIndex) else [str(i) for i in index]
    )
    back = roundtrip(frame)
    assert back.index.tolist() == index.tolist()


def test_default_index_is_not_turned_into_row_names(ip):
    ip.user_ns["plain"] = pd.DataFrame({"v": [1, 2]})
    assert R(ip, "-i plain .row_names_info(plain)") < 0  # automatic row names


def test_r_frame_with_character_row_names(ip):
    frame = R(ip, "head(mtcars, 2)")
    assert frame.index.tolist() == ["Mazda RX4", "Mazda RX4 Wag"]


def test_r_factor_and_dates_in_a_frame(ip):
    frame = R(
        ip,
        "data.frame(f = factor(c('b', 'a', NA), levels = c('b', 'a')), "
        "d = as.Date(c('2020-01-01', NA, '2020-12-31')), stringsAsFactors = FALSE)",
    )
    assert frame["f"].cat.categories.tolist() == ["b", "a"]
    assert frame["d"].isna().tolist() == [False, True, False]


def test_duplicate_column_names_fail_clearly(ip):
    ip.user_ns["dupes"] = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ConversionError, match="duplicate column names"):
        ip.run_line_magic("Rpush", "dupes")


def test_empty_frame(roundtrip):
    frame = pd.DataFrame({"a": pd.Series([], dtype=np.float64), "s": pd.Series([], dtype="str")})
    back = roundtrip(frame)
    assert back.shape == (0, 2) and list(back.columns) == ["a", "s"]


def test_microseconds_far_from_1970_warn(ip):
    ip.user_ns["far"] = pd.DataFrame({"t": pd.to_datetime(["2300-01-01 00:00:00.000001"])})
    with pytest.warns(ConversionWarning, match="microseconds are rounded"):
        ip.run_line_magic("Rpush", "far")


def test_nanoseconds_warn(ip):
    ip.user_ns["nanos"] = pd.DataFrame({"t": pd.to_datetime([1], unit="ns")})
    with pytest.warns(ConversionWarning, match="sub-microsecond"):
        ip.run_line_magic("Rpush", "nanos")


# -- through the registry directly (py2r / r2py) ---------------------------------------------


def r_class_and_type(sexp):
    get_session().globalenv["tmp_value"] = sexp
    return tuple(r2py(r_eval("c(class(tmp_value)[1], typeof(tmp_value))")))


@pytest.mark.parametrize(
    "value, rtype",
    [
        (True, "logical"),
        (7, "integer"),
        (2.5, "double"),
        ("é", "character"),
        (1 + 2j, "complex"),
        (b"\x00ab", "raw"),
    ],
)
def test_scalars_round_trip_with_their_r_type(value, rtype):
    sexp = py2r(value)
    assert r_class_and_type(sexp)[1] == rtype
    back = r2py(sexp)
    assert back == value and type(back) is type(value)


def test_none_is_null():
    assert r_class_and_type(py2r(None)) == ("NULL", "NULL")
    assert r2py(py2r(None)) is None


def test_int_beyond_r_integer_becomes_exact_double():
    big = 2**40 + 1
    with pytest.warns(ConversionWarning):
        sexp = py2r(big)
    assert r_class_and_type(sexp)[1] == "double"
    assert r2py(sexp) == big


def test_int_beyond_2_53_is_an_error_not_a_wrap():
    with pytest.raises(ConversionError, match="2\\*\\*53"):
        py2r(2**60)
    with pytest.raises(ConversionError):
        py2r(np.array([1, 2**62], dtype=np.int64))


def test_int_min_is_not_mistaken_for_na():
    with pytest.warns(ConversionWarning):
        sexp = py2r(-(2**31))
    assert r_class_and_type(sexp)[1] == "double"
    assert r2py(sexp) == -(2**31)


@pytest.mark.parametrize(
    "values, rtype",
    [
        ([1, 2, 3], "integer"),
        ([1.0, 2.5], "double"),
        ([True, False], "logical"),
        (["a", "b"], "character"),
        ((1, 2), "integer"),
        ([1, 2.5], "double"),
    ],
)
def test_homogeneous_lists_become_atomic_vectors(values, rtype):
    sexp = py2r(values)
    assert r_class_and_type(sexp)[1] == rtype
    assert list(r2py(sexp)) == list(values)


def test_none_in_lists_is_na():
    sexp = py2r([1, None, 3])
    get_session().globalenv["v"] = sexp
    assert list(r2py(r_eval("is.na(v)"))) == [False, True, False]
    assert r2py(r_eval("typeof(v)")) == "integer"
    back = r2py(sexp)
    assert isinstance(back, np.ma.MaskedArray) and back.mask.tolist() == [False, True, False]
    assert r2py(py2r(["a", None])).tolist() == ["a", None]


def test_mixed_list_becomes_r_list_and_back():
    value = [1, "a", [True, False]]
    sexp = py2r(value)
    assert r_class_and_type(sexp) == ("list", "list")
    back = r2py(sexp)
    assert back[0] == 1 and back[1] == "a" and back[2].tolist() == [True, False]


def test_dict_is_named_list():
    sexp = py2r({"a": 1, "b": "x"})
    get_session().globalenv["d"] = sexp
    assert list(r2py(r_eval("names(d)"))) == ["a", "b"]
    assert r2py(sexp) == {"a": 1, "b": "x"}


@pytest.mark.parametrize(
    "array, rtype",
    [
        (np.array([1.5, np.nan, 3.0]), "double"),
        (np.array([1, 2], dtype=np.int32), "integer"),
        (np.array([1, 2], dtype=np.int64), "integer"),
        (np.array([True, False]), "logical"),
        (np.array(["u", "v"]), "character"),
        (np.array([], dtype=float), "double"),
    ],
)
def test_numpy_1d_round_trip(array, rtype):
    sexp = py2r(array)
    assert r_class_and_type(sexp)[1] == rtype
    back = r2py(sexp)
    if len(array) == 1:
        back = np.array([back])
    np.testing.assert_array_equal(np.asarray(back), array)


def test_nan_stays_nan_and_na_real_is_kept_apart():
    get_session().globalenv["v"] = py2r(np.array([np.nan, 1.0]))
    assert list(r2py(r_eval("c(is.nan(v), is.na(v))"))) == [True, False, True, False]


def test_r_integer_na_never_leaks_as_sentinel():
    back = r2py(r_eval("c(1L, NA, 3L)"))
    assert -(2**31) not in np.asarray(back.filled(0))
    assert back.mask.tolist() == [False, True, False]
    assert r2py(r_eval("NA_integer_")) is None


def test_dataframe_round_trip_keeps_values_dtypes_and_na():
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [0.5, np.nan, 1.5],
            "b": [True, False, True],
            "s": ["a", None, "c"],
            "I": pd.array([1, None, 3], dtype="Int64"),
            "B": pd.array([True, None, False], dtype="boolean"),
        }
    )
    sexp = py2r(frame)
    get_session().globalenv["df"] = sexp
    assert r2py(r_eval("vapply(df, typeof, '')")).tolist() == [
        "integer",
        "double",
        "logical",
        "character",
        "integer",
        "logical",
    ]
    assert r2py(r_eval("sum(is.na(df))")) == 4
    back = r2py(sexp)
    assert list(back.columns) == list(frame.columns)
    assert back["i"].dtype == np.int64 and back["b"].dtype == bool
    assert str(back["I"].dtype) == "Int64" and str(back["B"].dtype) == "boolean"
    assert back["I"].isna().tolist() == [False, True, False]
    assert back["s"].isna().tolist() == [False, True, False]
    pd.testing.assert_frame_equal(back[["i", "f", "b"]], frame[["i", "f", "b"]])


def test_dataframe_column_names_are_untouched():
    frame = pd.DataFrame({"1st": [1], "a b": [2], "x.y": [3]})
    get_session().globalenv["df"] = py2r(frame)
    assert r2py(r_eval("names(df)")).tolist() == ["1st", "a b", "x.y"]
    assert list(r2py(r_eval("df")).columns) == ["1st", "a b", "x.y"]


def test_data_frame_from_r_with_row_names():
    back = r2py(r_eval("data.frame(x = 1:2, row.names = c('r1', 'r2'))"))
    assert back.index.tolist() == ["r1", "r2"]
    assert back["x"].tolist() == [1, 2]


def test_value_without_a_rule_goes_as_a_reference_and_comes_back_identical():
    value = object()
    sexp = py2r(value)
    assert r_class_and_type(sexp) == ("rmagic_ext_pyobj", "environment")
    assert r2py(sexp) is value
