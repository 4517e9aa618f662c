"""Rules for pandas: DataFrame <-> data.frame, Series <-> named vector.

Columns move whole: each one is turned into numpy values plus an NA mask and
handed to the numpy rules, so nullable dtypes keep their missing positions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConversionError
from . import numpy as npconv
from ._rt import attr, ri, set_attr, strings
from .registry import default, r_classes, r_typeof

# -- Python -> R ---------------------------------------------------------------


def _na_mask(series: pd.Series) -> np.ndarray | None:
    na = series.isna().to_numpy(dtype=bool)
    return na if na.any() else None


def column_to_r(series: pd.Series, what: str):
    """The R vector for one pandas column, NA positions kept."""
    dtype = series.dtype
    na = _na_mask(series)
    if pd.api.types.is_bool_dtype(dtype):
        return npconv.bool_vector(series.to_numpy(dtype=bool, na_value=False), na)
    if pd.api.types.is_integer_dtype(dtype):
        return npconv.int_vector(series.to_numpy(dtype=np.int64, na_value=0), na, what)
    if pd.api.types.is_float_dtype(dtype):
        return npconv.float_vector(series.to_numpy(dtype=np.float64, na_value=np.nan), na)
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        values = series.to_numpy(dtype=object)
        if na is None and dtype == object and not all(isinstance(v, str) for v in values):
            return npconv.vector(values, what)
        return npconv.object_vector(values, what)
    if pd.api.types.is_complex_dtype(dtype):
        return npconv.vector(series.to_numpy(), what)
    raise ConversionError(f"{what} has dtype {dtype}, which has no R counterpart yet")


def _has_default_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _row_names(index: pd.Index):
    if _has_default_index(index):
        return ri().IntSexpVector([ri().NA_Integer, -len(index)])  # R's compact 1..n
    return strings([str(v) for v in index])


@default.py2r.register(pd.DataFrame)
def dataframe_to_r(frame: pd.DataFrame):
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ConversionError("a DataFrame with duplicate column names cannot become a data.frame")
    columns = [column_to_r(frame.iloc[:, i], f"column {names[i]!r}") for i in range(frame.shape[1])]
    rframe = ri().ListSexpVector(columns)
    set_attr(rframe, "names", strings(names))
    set_attr(rframe, "class", strings(["data.frame"]))
    set_attr(rframe, "row.names", _row_names(frame.index))
    return rframe


@default.py2r.register(pd.Series)
def series_to_r(series: pd.Series):
    vector = column_to_r(series, f"Series {series.name!r}" if series.name is not None else "Series")
    if not _has_default_index(series.index):
        set_attr(vector, "names", strings([str(v) for v in series.index]))
    return vector


# -- R -> Python ---------------------------------------------------------------


def column_to_py(sexp, name: str) -> pd.Series:
    kind = r_typeof(sexp)
    values, na = npconv.numpy_values(sexp)
    if kind == "integer" and na is not None:
        return pd.Series(pd.arrays.IntegerArray(values, na), name=name)
    if kind == "logical" and na is not None:
        return pd.Series(pd.arrays.BooleanArray(values, na), name=name)
    return pd.Series(values, name=name)


def _index(rframe, nrow: int) -> pd.Index:
    row_names = attr(rframe, "row.names")
    if row_names is None or r_typeof(row_names) == "integer":
        return pd.RangeIndex(nrow)
    return pd.Index(list(row_names))


@default.r2py.register("data.frame")
def dataframe_to_py(rframe) -> pd.DataFrame:
    names = list(attr(rframe, "names") or [])
    columns = {}
    for position, (name, column) in enumerate(zip(names, rframe)):
        if r_classes(column)[0] not in ("integer", "numeric", "logical", "character", "complex"):
            raise ConversionError(f"column {name!r} of class {r_classes(column)[0]!r} is not supported yet")
        columns[position] = column_to_py(column, name)
    index = _index(rframe, ri().baseenv[".row_names_info"](rframe, 2)[0])
    if not columns:
        return pd.DataFrame(index=index)
    frame = pd.DataFrame(columns)
    frame.columns = pd.Index(names)
    frame.index = index
    return frame


def named_vector_to_py(sexp):
    """A named vector is a Series indexed by its names; others go to numpy."""
    names = attr(sexp, "names")
    if names is None or attr(sexp, "dim") is not None:
        return npconv.atomic_to_py(sexp)
    series = column_to_py(sexp, None)
    series.index = pd.Index(list(names))
    return series


for _rtype in ("logical", "integer", "double", "complex", "character"):
    default.r2py.register(_rtype)(named_vector_to_py)
