"""Property: Python -> R -> Python is the identity for DataFrames of every
supported dtype, with NA anywhere, arbitrary column names and indexes.

"Identity" is: the same values, the same NA positions, the same dtype family
(integer, float, bool, string, category with the same categories and order,
datetime with the same time zone, timedelta), the same names and index.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmagic_ext import py2r, r2py

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=8)
INT32 = st.integers(-(2**31) + 1, 2**31 - 1)
# POSIXct's double seconds hold microseconds exactly between 1834 and 2106
# (beyond, a ConversionWarning says precision is lost; tested in test_conversions).
TIMES = st.datetimes(min_value=dt.datetime(1835, 1, 1), max_value=dt.datetime(2105, 12, 31))
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])



@st.composite
def column(draw, n: int):
    kind = draw(st.sampled_from([
        "int64", "Int8", "Int32", "Int64", "UInt16", "float64", "Float64", "bool", "boolean",
        "str", "string", "object", "category", "ordered", "naive", "aware", "timedelta",
    ]))
    na = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if kind in ("int64", "bool"):
        na = [False] * n  # numpy dtypes without NA
    if kind == "int64":
        return pd.Series(draw(st.lists(INT32, min_size=n, max_size=n)), dtype="int64")
    if kind in ("Int8", "Int32", "Int64", "UInt16"):
        info = np.iinfo(kind.lower())
        values = draw(st.lists(st.integers(max(info.min, -(2**31) + 1), min(info.max, 2**31 - 1)),
                               min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype=kind)
    if kind in ("float64", "Float64"):
        values = draw(st.lists(st.floats(allow_nan=False, width=64), min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype=kind)
    if kind in ("bool", "boolean"):
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype=kind)
    if kind in ("str", "string", "object"):
        values = draw(st.lists(TEXT, min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype=kind)
    if kind in ("category", "ordered"):
        categories = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
        codes = draw(st.lists(st.integers(0, len(categories) - 1), min_size=n, max_size=n))
        codes = [-1 if m else c for c, m in zip(codes, na)]
        return pd.Series(pd.Categorical.from_codes(codes, categories=categories,
                                                   ordered=kind == "ordered"))
    if kind == "naive":
        values = draw(st.lists(TIMES, min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype="datetime64[us]")
    if kind == "aware":
        values = draw(st.lists(TIMES, min_size=n, max_size=n))
        naive = pd.Series([None if m else v for v, m in zip(values, na)], dtype="datetime64[us]")
        return naive.dt.tz_localize("UTC").dt.tz_convert(draw(ZONES))
    seconds = draw(st.lists(st.integers(-(10**12), 10**12), min_size=n, max_size=n))
    return pd.Series([None if m else pd.Timedelta(microseconds=s) for s, m in zip(seconds, na)],
                     dtype="timedelta64[us]")


@st.composite
def frames(draw):
    n = draw(st.integers(0, 6))
    names = draw(st.lists(TEXT.filter(bool), min_size=1, max_size=5, unique=True))
    data = {name: draw(column(n)).reset_index(drop=True) for name in names}
    frame = pd.DataFrame(data)
    index_kind = draw(st.sampled_from(["default", "str", "int"]))
    if index_kind == "str":
        frame.index = pd.Index(draw(st.lists(TEXT.filter(bool), min_size=n, max_size=n, unique=True)))
    elif index_kind == "int":
        frame.index = pd.Index(draw(st.lists(INT32, min_size=n, max_size=n, unique=True)), dtype="int64")
    return frame


def family(dtype) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return f"datetime[{getattr(dtype, 'tz', None)}]"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        return "str"
    return str(dtype)


def assert_same_column(original: pd.Series, back: pd.Series) -> None:
    assert family(back.dtype) == family(original.dtype), (original.dtype, back.dtype)
    assert back.isna().tolist() == original.isna().tolist()
    if isinstance(original.dtype, pd.CategoricalDtype):
        assert back.cat.categories.tolist() == original.cat.categories.tolist()
        assert back.cat.ordered == original.cat.ordered
    assert back[back.notna()].tolist() == original[original.notna()].tolist()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_dataframe_round_trip_is_identity(frame):
    back = r2py(py2r(frame))
    assert list(back.columns) == list(frame.columns)
    assert back.index.tolist() == frame.index.tolist()
    for name in frame.columns:
        assert_same_column(frame[name], back[name])


@settings(max_examples=40, deadline=None)
@given(frames())
def test_round_trip_through_the_magics(ip, frame):
    ip.user_ns["hyp_in"] = frame
    ip.run_cell_magic("R", "-i hyp_in -o hyp_out", "hyp_out <- hyp_in")
    back = ip.user_ns["hyp_out"]
    assert list(back.columns) == list(frame.columns)
    for name in frame.columns:
        assert_same_column(frame[name], back[name])


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | INT32 | st.floats(allow_nan=False) | TEXT,
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(TEXT.filter(bool), children, min_size=1, max_size=4),
                    max_leaves=12))
def test_nested_python_values_survive(value):
    back = r2py(py2r(value))
    assert normalise(back) == normalise(value)


def normalise(value):
    """Lists of one scalar type come back as arrays, and a one-element one as
    a scalar, since R has no scalars (documented); compare them as such."""
    if isinstance(value, np.ma.MaskedArray):
        value = [None if m else v for v, m in zip(value.data.tolist(), np.ma.getmaskarray(value))]
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = [normalise(v) for v in value]
        scalar = len(items) == 1 and (items[0] is None or isinstance(items[0], (bool, float, str)))
        return items[0] if scalar and items[0] is not None else items
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return None if value != value else float(value)  # NA in a double vector reads as NaN
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_arrow_backed_frames_round_trip(frame):
    """The same frames with every column in Arrow memory (pandas' pyarrow
    backend) come back equal to the NumPy-backed originals."""
    pa = pytest.importorskip("pyarrow")

    def in_arrow_memory(series: pd.Series) -> pd.Series:
        if isinstance(series.dtype, pd.CategoricalDtype):
            return series  # pandas keeps categories in its own memory
        values = pa.array(series, from_pandas=True)
        if pa.types.is_null(values.type):
            return series  # no values to type (all None, or empty and untyped)
        return pd.Series(pd.arrays.ArrowExtensionArray(values), index=series.index, name=series.name)

    back = r2py(py2r(pd.DataFrame({name: in_arrow_memory(frame[name]) for name in frame.columns},
                                  index=frame.index)))
    assert list(back.columns) == list(frame.columns)
    assert back.index.tolist() == frame.index.tolist()
    for name in frame.columns:
        assert_same_column(frame[name], back[name])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_pyarrow_tables_round_trip(frame):
    """A pyarrow Table of the frame goes to R and back as the frame's columns."""
    pa = pytest.importorskip("pyarrow")
    frame = frame.reset_index(drop=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    back = r2py(py2r(table))
    assert list(back.columns) == list(frame.columns)
    for name in frame.columns:
        if pa.types.is_null(table.column(name).type):  # an all-None object column: Arrow's null type
            assert back[name].isna().all()
        else:
            assert_same_column(frame[name], back[name])
