"""Hypothesis strategies and comparisons the property tests and the fuzzer
share: DataFrames of every dtype of the conversion table (with NA, names
and indexes) and what "the same value" means after a round trip."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
INT32 = st.integers(-(2**31) + 1, 2**31 - 1)
# POSIXct's double seconds hold microseconds exactly between 1834 and 2106
# (beyond, a ConversionWarning says precision is lost; tested in test_conversions).
TIMES = st.datetimes(min_value=dt.datetime(1835, 1, 1), max_value=dt.datetime(2105, 12, 31))
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])


@st.composite
def column(draw, n: int):
    kind = draw(
        st.sampled_from(
            [
                "int64",
                "Int8",
                "Int32",
                "Int64",
                "UInt16",
                "float64",
                "Float64",
                "bool",
                "boolean",
                "str",
                "string",
                "object",
                "category",
                "ordered",
                "naive",
                "aware",
                "timedelta",
            ]
        )
    )
    na = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if kind in ("int64", "bool"):
        na = [False] * n  # numpy dtypes without NA
    if kind == "int64":
        return pd.Series(draw(st.lists(INT32, min_size=n, max_size=n)), dtype="int64")
    if kind in ("Int8", "Int32", "Int64", "UInt16"):
        info = np.iinfo(kind.lower())
        values = draw(
            st.lists(st.integers(max(info.min, -(2**31) + 1), min(info.max, 2**31 - 1)), min_size=n, max_size=n)
        )
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
        return pd.Series(pd.Categorical.from_codes(codes, categories=categories, ordered=kind == "ordered"))
    if kind == "naive":
        values = draw(st.lists(TIMES, min_size=n, max_size=n))
        return pd.Series([None if m else v for v, m in zip(values, na)], dtype="datetime64[us]")
    if kind == "aware":
        values = draw(st.lists(TIMES, min_size=n, max_size=n))
        naive = pd.Series([None if m else v for v, m in zip(values, na)], dtype="datetime64[us]")
        return naive.dt.tz_localize("UTC").dt.tz_convert(draw(ZONES))
    seconds = draw(st.lists(st.integers(-(10**12), 10**12), min_size=n, max_size=n))
    return pd.Series(
        [None if m else pd.Timedelta(microseconds=s) for s, m in zip(seconds, na)], dtype="timedelta64[us]"
    )


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


def same_value(original, back) -> str:
    """Why ``back`` is not ``original`` after a round trip ("" when it is),
    as the conversion table promises: frames column by column; arrays with
    the same shape, NA positions, values and dtype family; scalars as the
    same type (or a length-1 array of it, as the magics give)."""
    try:
        if isinstance(original, pd.DataFrame):
            if not isinstance(back, pd.DataFrame):
                return f"a DataFrame came back as {type(back).__name__}"
            if list(back.columns) != list(original.columns):
                return f"columns {list(original.columns)!r} came back as {list(back.columns)!r}"
            if back.index.tolist() != original.index.tolist():
                return f"index {original.index!r} came back as {back.index!r}"
            for name in original.columns:
                assert_same_column(original[name], back[name])
            return ""
        if isinstance(original, np.ndarray):
            return _same_array(original, back)
        if isinstance(back, np.ndarray) and back.shape == (1,):  # the magics' shape for one value
            back = back.tolist()[0]
        if isinstance(original, float) and original != original:
            return "" if isinstance(back, float) and back != back else f"NaN came back as {back!r}"
        if type(back) is not type(original) or back != original:
            return f"{original!r} came back as {back!r}"
        return ""
    except AssertionError as exc:
        return f"{exc}"[:300] or "a column differs"


def _same_array(original: np.ndarray, back) -> str:
    if not isinstance(back, np.ndarray):
        return f"an array came back as {type(back).__name__}"
    if back.shape != original.shape:
        return f"shape {original.shape} came back as {back.shape}"
    if family(back.dtype) != family(original.dtype):
        return f"dtype {original.dtype} came back as {back.dtype}"
    if not np.array_equal(
        np.ma.filled(back, np.nan) if back.dtype.kind == "f" else np.asarray(back),
        original,
        equal_nan=original.dtype.kind == "f",
    ):
        return f"{original!r} came back as {back!r}"[:300]
    return ""


# -- numbers that must survive any conversion that does not say otherwise ----------------------

#: Attoseconds in one of each numpy time unit (years and months have no fixed length).
_ATTOSECONDS = {
    "W": 604_800 * 10**18,
    "D": 86_400 * 10**18,
    "h": 3_600 * 10**18,
    "m": 60 * 10**18,
    "s": 10**18,
    "ms": 10**15,
    "us": 10**12,
    "ns": 10**9,
    "ps": 10**6,
    "fs": 10**3,
    "as": 1,
}
#: R's POSIXct and difftime are double seconds: a microsecond is what they keep.
_TIME_SLACK = 10**12


def same_numbers(original, back) -> str:
    """Why the numbers, booleans or times of ``back`` are not those of
    ``original`` ("" when they are, or when either is not such a value).
    For values that need not come back in the same shape or dtype: each
    number must still be the one sent, exactly (times within a microsecond),
    missing where it was missing, times still times."""
    a, b = numbers(original), numbers(back)
    if a is None or b is None:
        return ""
    (kind_a, values_a), (kind_b, values_b) = a, b
    if (kind_a == "number") != (kind_b == "number"):
        return f"{kind_a} came back as {kind_b}"
    if len(values_a) != len(values_b):
        return f"{len(values_a)} values came back as {len(values_b)}"
    for i, (x, y) in enumerate(zip(values_a, values_b)):
        if (x is None) != (y is None):
            return f"element {i}: {x!r} came back as {y!r}"
        if x is not None and (abs(x - y) > _TIME_SLACK if kind_a != "number" else x != y):
            return f"element {i}: {x!r} came back as {y!r}"
    return ""


def numbers(value) -> tuple[str, list] | None:
    """("number" | "datetime" | "timedelta", the values flattened in C order,
    exact: Python ints and floats, times as integer attoseconds, None where
    missing); None for any other value."""
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        value = np.array([value])
    if isinstance(value, (pd.Series, pd.Index)):
        return _series_numbers(value)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufmM":
        return None
    mask = np.ma.getmaskarray(value).ravel()
    data = np.ma.getdata(value).ravel()
    if data.dtype.kind in "mM":
        unit, count = np.datetime_data(data.dtype)
        if unit not in _ATTOSECONDS:
            return None
        step = _ATTOSECONDS[unit] * count
        nat = np.isnat(data)
        found = [None if m or n else int(v) * step for v, m, n in zip(data.view("i8").tolist(), mask, nat)]
        return ("datetime" if data.dtype.kind == "M" else "timedelta"), found
    if data.dtype.kind == "f" and data.dtype.itemsize > 8:
        return None  # long double: R has no such type (a separate rule)
    return "number", [None if m or (isinstance(v, float) and v != v) else v for v, m in zip(data.tolist(), mask)]


def _series_numbers(series) -> tuple[str, list] | None:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = (
            series.tz_convert("UTC").tz_localize(None)
            if isinstance(series, pd.Index)
            else series.dt.tz_convert("UTC").dt.tz_localize(None)
        )
        dtype = series.dtype
    if pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return numbers(np.asarray(series))
    if isinstance(dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ):
        return None
    missing = series.isna().tolist()
    return "number", [None if m else v for v, m in zip(series.astype(object).tolist(), missing)]
