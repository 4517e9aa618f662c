"""The conversions the foundation promises, both ways, through the registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmagic_ext import ConversionError, ConversionWarning, py2r, r2py
from rmagic_ext.session import get_session


def r_eval(code):
    return get_session().run(code, keep_last=True).value


def r_class_and_type(sexp):
    get_session().globalenv["tmp_value"] = sexp
    return tuple(r2py(r_eval("c(class(tmp_value)[1], typeof(tmp_value))")))


@pytest.mark.parametrize("value, rtype", [
    (True, "logical"), (7, "integer"), (2.5, "double"), ("é", "character"),
    (1 + 2j, "complex"), (b"\x00ab", "raw"),
])
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


@pytest.mark.parametrize("values, rtype", [
    ([1, 2, 3], "integer"), ([1.0, 2.5], "double"), ([True, False], "logical"),
    (["a", "b"], "character"), ((1, 2), "integer"), ([1, 2.5], "double"),
])
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


@pytest.mark.parametrize("array, rtype", [
    (np.array([1.5, np.nan, 3.0]), "double"), (np.array([1, 2], dtype=np.int32), "integer"),
    (np.array([1, 2], dtype=np.int64), "integer"), (np.array([True, False]), "logical"),
    (np.array(["u", "v"]), "character"), (np.array([], dtype=float), "double"),
])
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
    frame = pd.DataFrame({
        "i": [1, 2, 3], "f": [0.5, np.nan, 1.5], "b": [True, False, True],
        "s": ["a", None, "c"], "I": pd.array([1, None, 3], dtype="Int64"),
        "B": pd.array([True, None, False], dtype="boolean"),
    })
    sexp = py2r(frame)
    get_session().globalenv["df"] = sexp
    assert r2py(r_eval("vapply(df, typeof, '')")).tolist() == [
        "integer", "double", "logical", "character", "integer", "logical"]
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
