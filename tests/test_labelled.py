"""Labelled arrays both ways: xarray's dims, coordinates and attributes as
R's dim and named dimnames, and R's dimnames kept (xarray, pandas) or
dropped with a warning that says how to keep them (numpy, rpy2's way)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmagic_ext import ConversionWarning, r
from rmagic_ext.convert import settings as conversion

xr = pytest.importorskip("xarray")


@pytest.fixture
def arrays_as():
    """``RMagics.arrays`` for the block (the notebook's choice, for r.x too)."""
    return lambda kind: conversion.using(arrays=kind)


GRID = xr.DataArray(
    np.arange(6.0).reshape(2, 3),
    dims=("row", "col"),
    coords={"row": ["r1", "r2"], "col": ["a", "b", "c"]},
    attrs={"units": "K"},
)


def test_a_dataarray_is_an_array_with_named_dimnames_and_the_same_elements(session):
    r.grid = GRID
    assert r("dim(grid)").tolist() == [2, 3]
    assert r("names(dimnames(grid))").tolist() == ["row", "col"]
    assert r("dimnames(grid)$col").tolist() == ["a", "b", "c"]
    for i, j in ((0, 0), (1, 2), (0, 1)):
        assert r(f"grid[{i + 1}, {j + 1}]") == GRID[i, j].item()
    assert r("grid['r2', 'b']") == 4.0
    assert r("attr(grid, 'xarray.attrs')$units") == "K"


def test_the_notebook_chooses_xarray_and_gets_the_dataarray_back(session, arrays_as):
    r.grid = GRID
    with arrays_as("xarray"):
        back = r.grid
    xr.testing.assert_identical(back, GRID)


def test_an_r_array_with_dimnames_comes_back_with_dims_as_r_named_them(session, arrays_as):
    r(
        "a <- array(1:24, dim = c(2, 3, 4), dimnames = list(sex = c('f', 'm'), age = c('y', 'm', 'o'), "
        "year = 2001:2004))"
    )
    with arrays_as("xarray"):
        back = r.a
    assert back.dims == ("sex", "age", "year")
    assert back.coords["year"].values.tolist() == ["2001", "2002", "2003", "2004"]  # R's dimnames are text
    assert back.sel(sex="m", age="o", year="2003").item() == r("a['m', 'o', '2003']")


def test_numbers_and_times_as_coordinates_keep_their_type(session, arrays_as):
    times = np.array(["2021-03-01T00:00", "2021-03-01T06:00", "2021-03-01T12:00"], dtype="datetime64[ns]")
    temps = xr.DataArray(
        np.array([[1.5, np.nan, 2.0], [0.5, 1.0, np.nan]]),
        dims=("station", "time"),
        coords={"station": [101, 205], "time": times},
    )
    r.temps = temps
    assert r("dimnames(temps)$time").tolist() == ["2021-03-01 00:00:00", "2021-03-01 06:00:00", "2021-03-01 12:00:00"]
    assert bool(r("is.na(temps[1, 2])"))
    with arrays_as("xarray"):
        back = r.temps
    assert back.coords["station"].values.tolist() == [101, 205]
    assert back.coords["time"].values.astype("datetime64[ns]").tolist() == times.tolist()
    np.testing.assert_array_equal(back.values, temps.values)


def test_coordinates_changed_in_r_come_back_as_r_has_them(session, arrays_as):
    r.temps = xr.DataArray([1.0, 2.0], dims=("station",), coords={"station": [101, 205]})
    r("dimnames(temps)$station <- c('north', 'south')")
    with arrays_as("xarray"):
        assert r.temps.coords["station"].values.tolist() == ["north", "south"]


def test_numpy_arrays_drop_the_names_with_one_warning_saying_how_to_keep_them(ip, session):
    r("m <- matrix(1:4, 2, dimnames = list(c('a', 'b'), c('x', 'y')))")
    with pytest.warns(ConversionWarning, match=r"dimnames .* were dropped.*RMagics.arrays = 'xarray'") as caught:
        value = ip.run_line_magic("R", "m")
    assert len(caught) == 1
    assert isinstance(value, np.ndarray) and value.tolist() == [[1, 3], [2, 4]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r("matrix(1:4, 2)").shape == (2, 2)  # no dimnames, nothing dropped, no warning


def test_pandas_gives_a_series_for_one_dimension_and_a_frame_for_two(ip, arrays_as):
    magics = ip.magics_manager.registry["RMagics"]
    magics.arrays = "pandas"
    try:
        frame = ip.run_line_magic("R", "matrix(1:4, 2, dimnames = list(id = c('a', 'b'), v = c('x', 'y')))")
        counts = ip.run_line_magic("R", "table(c('p', 'p', 'q'))")
    finally:
        magics.arrays = "numpy"
    assert isinstance(frame, pd.DataFrame) and frame.loc["b", "y"] == 4
    assert frame.index.name == "id" and frame.columns.name == "v"
    assert isinstance(counts, pd.Series) and counts.to_dict() == {"p": 2, "q": 1}


def test_a_dataset_along_one_dimension_is_a_data_frame(session):
    r.ds = xr.Dataset({"height": ("site", [1.5, np.nan]), "count": ("site", [3, 4])}, coords={"site": ["u", "v"]})
    assert r("class(ds)") == "data.frame"
    assert r("rownames(ds)").tolist() == ["u", "v"] and r("ds['v', 'count']") == 4
    assert bool(r("is.na(ds['v', 'height'])"))


def test_a_dataset_of_other_shapes_is_a_named_list_of_arrays(session):
    r.ds = xr.Dataset({"grid": GRID, "line": ("t", [1.0, 2.0])})
    assert r("names(ds)").tolist() == ["grid", "line"]
    assert r("dim(ds$grid)").tolist() == [2, 3] and r("names(dimnames(ds$line))") == "t"


def test_coordinates_of_no_dimension_are_left_out_with_a_warning(session):
    labelled = GRID.assign_coords(label=("row", ["first", "second"]))
    with pytest.warns(ConversionWarning, match=r"coordinates that are no dimension's \(label\)"):
        r.grid = labelled
    assert r("names(dimnames(grid))").tolist() == ["row", "col"]


# -- round trips of the conversion table's quality --------------------------------------------

TEXT = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=5)


@st.composite
def dataarrays(draw):
    ndim = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    dims = [f"d{i}" for i in range(ndim)]
    coords = {}
    for dim, n in zip(dims, shape):
        kind = draw(st.sampled_from(["text", "int", "time", "none"]))
        if kind == "text":
            coords[dim] = draw(st.lists(TEXT, min_size=n, max_size=n, unique=True))
        elif kind == "int":
            coords[dim] = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n, unique=True))
        elif kind == "time":
            start = draw(st.integers(0, 10**9))
            coords[dim] = (np.datetime64(start, "s") + np.arange(n) * np.timedelta64(3600, "s")).astype(
                "datetime64[ns]"
            )
    values = draw(
        st.lists(
            st.one_of(st.floats(-1e9, 1e9), st.just(np.nan)), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
        )
    )
    return xr.DataArray(np.array(values).reshape(shape), dims=dims, coords=coords)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(array=dataarrays())
def test_dataarrays_round_trip(session, arrays_as, array):
    r.hyp_array = array
    with arrays_as("xarray"):
        back = r.hyp_array
    assert back.dims == array.dims
    np.testing.assert_array_equal(back.values, array.values)  # NaN where NaN, element [i, j, k] the same
    for dim in array.dims:
        if dim not in array.coords:
            assert dim not in back.coords
            continue
        original, got = array.coords[dim].values, back.coords[dim].values
        if original.dtype.kind == "M":
            assert got.astype("datetime64[ns]").tolist() == original.tolist()
        else:
            family = {"U": "text", "O": "text"}
            assert got.tolist() == original.tolist()
            assert family.get(got.dtype.kind, got.dtype.kind) == family.get(original.dtype.kind, original.dtype.kind)
