"""Property: Python -> R -> Python is the identity for DataFrames of every
supported dtype, with NA anywhere, arbitrary column names and indexes.

"Identity" is: the same values, the same NA positions, the same dtype family
(integer, float, bool, string, category with the same categories and order,
datetime with the same time zone, timedelta), the same names and index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmagic_ext import py2r, r2py
from strategies import INT32, TEXT, assert_same_column, frames


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
@given(
    st.recursive(
        st.none() | st.booleans() | INT32 | st.floats(allow_nan=False) | TEXT,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(TEXT.filter(bool), children, min_size=1, max_size=4)
        ),
        max_leaves=12,
    )
)
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

    back = r2py(py2r(pd.DataFrame({name: in_arrow_memory(frame[name]) for name in frame.columns}, index=frame.index)))
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
