"""Labelled data: R's names and dimnames, xarray's dims and coordinates.

- xarray ``DataArray`` -> an R array: ``dim`` from the shape, element
  [i, j, k] the same (R stores column-major); named ``dimnames`` from the
  dimension coordinates, as text, since R's dimnames are character. What
  text would lose travels beside it: coordinates that are numbers or times
  in the attribute ``xarray.coords`` (their R vectors), the DataArray's
  attributes in ``xarray.attrs``. A ``Dataset`` -> a data.frame when every
  variable has the one same dimension, else a named list of arrays.
- R's atomic vectors come back through :func:`atomic_to_py`: named vectors
  as Series (Python shapes), and arrays with dimnames as
  ``%config RMagics.arrays`` says: "numpy" (rpy2's way) drops the names
  with one warning saying how to keep them; "xarray" gives a DataArray with
  the dims named as R named them, its coordinates typed again where
  ``xarray.coords`` says how; "pandas" gives a Series (one dimension) or a
  DataFrame (two), a DataArray beyond.

This module is built on the numpy and pandas ones (as xarray is built on
numpy and pandas). xarray is imported only when one of its values is seen
or asked for.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ConversionError, ConversionWarning
from . import numpy as npconv
from . import pandas as pdconv
from . import settings
from ._rt import attr, python_strings, ri, set_attr, strings
from .registry import as_arrays, default, r_typeof, to_py, to_r

COORDS_ATTRIBUTE = "xarray.coords"
ATTRS_ATTRIBUTE = "xarray.attrs"


def _xarray():
    try:
        import xarray
    except ImportError:
        raise ConversionError(
            "RMagics.arrays is 'xarray', but xarray is not installed "
            "(pip install xarray, or %config RMagics.arrays = 'numpy')"
        ) from None
    return xarray


# -- Python -> R ----------------------------------------------------------------------------


@default.py2r.register("xarray.core.dataarray.DataArray")
def dataarray_to_r(array):
    """An R array (a plain vector for no dimensions) with named dimnames."""
    values = np.asarray(array.values)
    what = f"DataArray {array.name!r}" if array.name is not None else "DataArray"
    if values.ndim == 0:
        return npconv.vector(values.reshape(1), what)
    vector = npconv.vector(values.ravel(order="F"), what)
    set_attr(vector, "dim", ri().IntSexpVector(list(values.shape)))
    dims = [str(d) for d in array.dims]
    labels, typed = [], {}
    for dim in array.dims:
        if dim not in array.coords:
            labels.append(ri().NULL)
            continue
        index = array.indexes[dim] if dim in array.indexes else pd.Index(array.coords[dim].values)
        labels.append(strings(_as_text(index)))
        if not (pd.api.types.is_string_dtype(index.dtype) or index.dtype == object):
            typed[str(dim)] = np.asarray(index)
    dimnames = ri().ListSexpVector(labels)
    set_attr(dimnames, "names", strings(dims))
    set_attr(vector, "dimnames", dimnames)
    others = [str(name) for name in array.coords if name not in array.dims]
    if others:
        warnings.warn(
            f"{what}: coordinates that are no dimension's ({', '.join(others)}) have no place "
            "in an R array and are left out",
            ConversionWarning,
            stacklevel=3,
        )
    if typed:
        set_attr(vector, COORDS_ATTRIBUTE, to_r(typed))
    if array.attrs:
        set_attr(vector, ATTRS_ATTRIBUTE, to_r({str(k): v for k, v in array.attrs.items()}))
    return vector


def _as_text(index: pd.Index) -> np.ndarray:
    """Labels as R shows them: numbers and times as text, NA as "NA"."""
    if isinstance(index, pd.DatetimeIndex) and (index.normalize() == index).all() and index.tz is None:
        return index.strftime("%Y-%m-%d").to_numpy(dtype=object)
    return (
        np.array(["NA" if pd.isna(v) else str(v) for v in index.tolist()], dtype=object)
        if index.hasnans
        else index.astype(str).to_numpy(dtype=object)
    )


@default.py2r.register("xarray.core.dataset.Dataset")
def dataset_to_r(dataset):
    """A data.frame when every variable lies along the one same dimension
    (rows labelled by its coordinate), else a named list of R arrays."""
    variables = list(dataset.data_vars)
    dims = {tuple(dataset[name].dims) for name in variables}
    if len(dims) == 1 and len(next(iter(dims))) == 1:
        frame = dataset.to_dataframe()
        if next(iter(dims))[0] not in dataset.coords:
            frame = frame.reset_index(drop=True)
        return pdconv.dataframe_to_r(frame[variables])
    rlist = ri().ListSexpVector([dataarray_to_r(dataset[name]) for name in variables])
    set_attr(rlist, "names", strings([str(name) for name in variables]))
    return rlist


# -- R -> Python ----------------------------------------------------------------------------


def atomic_to_py(sexp):
    """An R atomic vector: named vectors as Series in Python shapes, arrays
    with dimnames as ``RMagics.arrays`` says, everything else as the numpy
    rules give it."""
    dim = attr(sexp, "dim")
    if dim is None:
        names = attr(sexp, "names")
        if names is not None and not as_arrays():
            return pdconv.named_vector_to_series(sexp, names)
        return npconv.atomic_to_py(sexp)
    values = npconv.atomic_to_py(sexp)
    dimnames = attr(sexp, "dimnames")
    if dimnames is None:
        return values
    return labelled_array(values, dimnames, sexp)


for _rtype in ("logical", "integer", "double", "complex", "character"):
    default.r2py.register(_rtype)(atomic_to_py)


def labelled_array(values: np.ndarray, dimnames, sexp):
    """An R array's values with its dimnames kept, or dropped with a warning."""
    dims, labels = _dims_and_labels(dimnames, values.ndim)
    kind = settings.arrays_kind()
    if kind == "pandas" and values.ndim == 1:
        return pd.Series(values, index=_index(labels[0], dims[0]))
    if kind == "pandas" and values.ndim == 2:
        return pd.DataFrame(values, index=_index(labels[0], dims[0]), columns=_index(labels[1], dims[1]))
    if kind == "numpy" or (kind == "pandas" and not _has_xarray()):
        warnings.warn(
            f"an R array's dimnames ({', '.join(dims)}) were dropped: numpy arrays have no labels. "
            "To keep them: %config RMagics.arrays = 'xarray' (or 'pandas' for one or two dimensions)",
            ConversionWarning,
            stacklevel=2,
        )
        return values
    coords = _typed_coords(sexp, dims, labels)
    array = _xarray().DataArray(
        np.ma.filled(values.astype(float), np.nan) if np.ma.isMaskedArray(values) else values,
        dims=dims,
        coords={d: c for d, c in zip(dims, coords) if c is not None},
    )
    attrs = attr(sexp, ATTRS_ATTRIBUTE)
    if attrs is not None:
        found = to_py(attrs)
        if isinstance(found, dict):
            array.attrs.update(found)
    return array


def _dims_and_labels(dimnames, ndim: int) -> tuple[list[str], list]:
    names = attr(dimnames, "names")
    dims = [str(n) for n in python_strings(names)[0]] if names is not None else [""] * ndim
    dims = [d if d else f"dim_{i}" for i, d in enumerate(dims)]
    labels = [None if r_typeof(entry) == "NULL" or not len(entry) else python_strings(entry)[0] for entry in dimnames]
    return dims, labels


def _index(labels, name: str) -> pd.Index | None:
    return None if labels is None else pd.Index(labels, name=name if not name.startswith("dim_") else None)


def _typed_coords(sexp, dims: list[str], labels: list) -> list:
    """Each dimension's coordinate: typed again from ``xarray.coords`` when
    it is there and still fits the labels (R code may have changed the
    array), else the labels as text."""
    typed = attr(sexp, COORDS_ATTRIBUTE)
    found = {}
    if typed is not None:
        with settings.using(shape="arrays"):
            converted = to_py(typed)
        if isinstance(converted, dict):
            found = converted
    coords: list[np.ndarray | None] = []
    for dim, text in zip(dims, labels):
        value = found.get(dim)
        value = np.asarray(value) if value is not None else None
        if text is None:
            coords.append(None)
        elif (
            value is not None
            and len(value) == len(text)
            and np.array_equal(_as_text(pd.Index(value)), np.asarray(text, dtype=object))
        ):
            coords.append(value)
        else:
            coords.append(np.asarray(text, dtype=object))
    return coords


def _has_xarray() -> bool:
    try:
        import xarray  # noqa: F401
    except ImportError:
        return False
    return True
