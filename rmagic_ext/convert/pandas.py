"""Rules for pandas: DataFrame <-> data.frame, Series <-> vector, category <->
factor, datetime columns <-> POSIXct/Date, timedelta <-> difftime, index <->
row.names.

Columns move whole: each is turned into numpy values plus an NA mask and
handed to the numpy or datetime rules, so nullable dtypes keep their missing
positions and nothing is converted element by element.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import numpy as np
import pandas as pd

from ..errors import ConversionError, ConversionWarning
from . import arrow, datetimes, settings
from . import numpy as npconv
from ._bulk import none_where, string_na
from ._rt import python_strings, set_attr, strings
from .registry import default, r_classes, r_typeof
from .vectors import (
    automatic_row_names,
    bool_vector,
    data_frame,
    factor_parts,
    factor_vector,
    fits_r_integer,
    float_vector,
    frame_columns,
    frame_rows,
    int_vector,
    integer64_values,
    numpy_values,
    str_vector,
)

# -- Python -> R ---------------------------------------------------------------


def arrow_backed(dtype) -> bool:
    """Whether a pandas column keeps its values in Arrow memory."""
    return isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")


def arrow_array(series: pd.Series):
    """The Arrow array of a pandas column kept in Arrow memory, else None."""
    return series.array.__arrow_array__() if arrow_backed(series.dtype) else None


def _na_mask(series: pd.Series) -> np.ndarray | None:
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biu":
        return None  # numpy ints and bools cannot hold NA: no mask to build
    na = series.isna().to_numpy(dtype=bool)
    return na if na.any() else None


def _values(series: pd.Series, dtype, na_value) -> np.ndarray:
    """The column's numbers: numpy columns as they are (no copy), nullable
    ones with ``na_value`` in their NA slots (the mask says where)."""
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return series.to_numpy(dtype=dtype, na_value=na_value)


def column_to_r(series: pd.Series, what: str, encoding=None):
    """The R vector for one pandas column, NA positions kept (``encoding``:
    see arrow.encodings_ahead)."""
    dtype = series.dtype
    if arrow_backed(dtype):
        return arrow.array_to_r(arrow_array(series), what, encoding)
    if isinstance(dtype, pd.CategoricalDtype):
        return factor_to_r(series, what)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return datetimes.datetime_series_to_r(series, what)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return datetimes.difftime(series.to_numpy(), what)
    if isinstance(dtype, pd.StringDtype):  # pandas 3's default str, and "string"
        return str_vector(series.to_numpy(dtype=object))  # NA found on the way
    if dtype == object:
        return object_column_to_r(series.to_numpy(dtype=object), what)
    na = _na_mask(series)
    if pd.api.types.is_bool_dtype(dtype):
        return bool_vector(_values(series, bool, False), na)
    if pd.api.types.is_integer_dtype(dtype):  # UInt64 read as int64 would wrap 2**64 - 1 to -1
        as_numbers = np.uint64 if pd.api.types.is_unsigned_integer_dtype(dtype) else np.int64
        return int_vector(_values(series, as_numbers, 0), na, what)
    if pd.api.types.is_float_dtype(dtype):
        return float_vector(_values(series, np.float64, np.nan), na)
    if pd.api.types.is_complex_dtype(dtype):
        return npconv.vector(series.to_numpy(), what)
    raise ConversionError(f"{what} has dtype {dtype}, which has no R counterpart")


def object_column_to_r(values: np.ndarray, what: str):
    """Strings (the common case), dates, or datetimes held as Python objects;
    anything else becomes an R list column. pandas' infer_dtype looks at the
    values in C, not in a Python loop."""
    all_str, na = string_na(values)
    if all_str:
        return str_vector(values, na)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "date":
        return datetimes.date_objects_to_r(none_where(na, values) if na is not None else values, what)
    if kind == "datetime":
        return column_to_r(_datetime_objects(values, what), what)
    return npconv.vector(values, what)


def _datetime_objects(values: np.ndarray, what: str) -> pd.Series:
    """A column of datetime objects; with several time zones, the same
    instants in UTC (R's POSIXct has one zone per vector), said once."""
    try:
        return pd.Series(pd.to_datetime(list(values)))
    except (ValueError, TypeError):
        warnings.warn(
            f"{what}: datetimes in several time zones become the same instants in UTC", ConversionWarning, stacklevel=5
        )
        return pd.Series(pd.to_datetime(list(values), utc=True))


def factor_to_r(series: pd.Series, what: str):
    """Codes plus levels; ordered categoricals become ordered factors."""
    categorical = series.array
    levels = categorical.categories
    if not (pd.api.types.is_string_dtype(levels.dtype) or levels.dtype == object) or not all(
        isinstance(v, str) for v in levels
    ):
        warnings.warn(
            f"{what}: categories of dtype {levels.dtype} become R's character levels", ConversionWarning, stacklevel=4
        )
    return factor_vector(categorical.codes, levels.astype(str).to_numpy(dtype=object), categorical.ordered)


def _has_default_index(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _row_names(index: pd.Index):
    """R's compact 1..n for a default index; the labels as strings otherwise
    (R's row names are unique strings; an integer index is kept as integers)."""
    if _has_default_index(index):
        return automatic_row_names(len(index))
    if not index.is_unique:
        raise ConversionError(
            "a DataFrame whose index has duplicates cannot become a data.frame "
            "(R's row names are unique); reset_index() first"
        )
    if isinstance(index, pd.MultiIndex):
        raise ConversionError("a MultiIndex has no data.frame counterpart; reset_index() first")
    if pd.api.types.is_integer_dtype(index.dtype):
        if fits_r_integer(index.to_numpy()):
            return int_vector(index.to_numpy(dtype=np.int64))
        warnings.warn(
            "index values beyond R's integer range become character row names (they come back as a str index)",
            ConversionWarning,
            stacklevel=4,
        )
    return strings(index.astype(str).to_numpy(dtype=object))


@default.py2r.register(pd.DataFrame)
def dataframe_to_r(frame: pd.DataFrame):
    if isinstance(frame.columns, pd.MultiIndex):
        raise ConversionError(
            "a DataFrame with MultiIndex columns has no data.frame counterpart; "
            "flatten them first (frame.columns = ['_'.join(c) for c in frame.columns])"
        )
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ConversionError("a DataFrame with duplicate column names cannot become a data.frame")
    series = [frame.iloc[:, i] for i in range(frame.shape[1])]
    encodings = arrow.encodings_ahead([arrow_array(column) for column in series])
    columns = arrow.made_encoded_last(encodings, lambda i: column_to_r(series[i], f"column {names[i]!r}", encodings[i]))
    return r_data_frame(names, columns, frame.index)


def r_data_frame(names: list[str], columns: list, index: pd.Index):
    """A data.frame of R ``columns`` under ``names``, row names from ``index``."""
    return data_frame(names, columns, _row_names(index))


@default.py2r.register(pd.Series)
def series_to_r(series: pd.Series):
    if isinstance(series.index, pd.MultiIndex):
        raise ConversionError(
            "a Series with a MultiIndex has no R counterpart (R's names are one string each); reset_index() first"
        )
    vector = column_to_r(series, f"Series {series.name!r}" if series.name is not None else "Series")
    if not _has_default_index(series.index):
        set_attr(vector, "names", strings(series.index.astype(str).to_numpy(dtype=object)))
    return vector


@default.py2r.register(pd.Categorical)
def categorical_to_r(categorical: pd.Categorical):
    return factor_to_r(pd.Series(categorical), "Categorical")


@default.py2r.register(pd.api.extensions.ExtensionArray)
def extension_array_to_r(values: pd.api.extensions.ExtensionArray):
    """pandas' own arrays (datetimes with a time zone as the magics return
    them, nullable integers, strings...) convert as the column they would be."""
    return column_to_r(pd.Series(values), type(values).__name__)


@default.py2r.register(pd.Index)
def index_to_r(index: pd.Index):
    return column_to_r(index.to_series(index=pd.RangeIndex(len(index))), "Index")


@default.py2r.register(pd.Timestamp)
@default.py2r.register(dt.datetime)
def datetime_scalar_to_r(value: dt.datetime):
    return column_to_r(pd.Series([pd.Timestamp(value)]), "datetime")


@default.py2r.register(dt.date)
def date_scalar_to_r(value: dt.date):
    return datetimes.date_objects_to_r([value], "date")


@default.py2r.register(pd.Timedelta)
@default.py2r.register(dt.timedelta)
def timedelta_scalar_to_r(value: dt.timedelta):
    return datetimes.difftime(np.array([pd.Timedelta(value).to_timedelta64()]), "timedelta")


@default.py2r.register(type(pd.NaT))
def nat_to_r(value):
    return datetimes.posixct(np.array(["NaT"], dtype="datetime64[us]"), "", "NaT")


# -- R -> Python ---------------------------------------------------------------


def atomic_column_to_py(sexp, name) -> pd.Series:
    """Integer/logical columns with NA become pandas' nullable Int64/boolean;
    character columns pandas' default string dtype."""
    kind = r_typeof(sexp)
    if kind == "character" and _arrow_strings() is not None:
        return pd.Series(pd.array(arrow.string_array_from_r(sexp), dtype=_arrow_strings()), name=name)
    values, na = numpy_values(sexp)
    if kind == "integer" and na is not None:
        return pd.Series(pd.arrays.IntegerArray(values, na), name=name)
    if kind == "logical" and na is not None:
        return pd.Series(pd.arrays.BooleanArray(values, na), name=name)
    return pd.Series(values, name=name)


@functools.cache
def _arrow_strings():
    """pandas' default string dtype when its storage is Arrow (pandas 3 with
    pyarrow), else None. Character columns are then built in Arrow memory
    from R's bytes, not from Python strings."""
    dtype = pd.Series(["a"]).dtype
    return dtype if getattr(dtype, "storage", None) == "pyarrow" else None


def factor_to_series(sexp, name=None) -> pd.Series:
    codes, categories, ordered = factor_parts(sexp)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories, ordered=ordered), name=name)


def integer64_to_series(sexp, name=None) -> pd.Series:
    values, na = integer64_values(sexp)
    return pd.Series(pd.arrays.IntegerArray(values, na) if na.any() else values, name=name)


# Classed vectors that pandas represents with its own dtypes, by R class.
CLASSED_COLUMNS = {
    "integer64": integer64_to_series,
    "factor": factor_to_series,
    "POSIXct": datetimes.posixct_to_series,
    "Date": datetimes.date_to_series,
    "difftime": datetimes.difftime_to_series,
}


def column_to_py(sexp, name) -> pd.Series:
    for rclass in r_classes(sexp):
        if rclass in CLASSED_COLUMNS:
            return CLASSED_COLUMNS[rclass](sexp, name)
    if r_typeof(sexp) not in ("integer", "double", "logical", "character", "complex"):
        raise ConversionError(f"column {name!r} of class {r_classes(sexp)[0]!r} cannot become a pandas column")
    return atomic_column_to_py(sexp, name)


def _index(rframe) -> pd.Index:
    """Automatic row names (R's compact 1..n) give a RangeIndex; others an index."""
    n, labels = frame_rows(rframe)
    return pd.RangeIndex(n) if labels is None else pd.Index(labels)


@default.r2py.register("data.frame")
def dataframe_to_py(rframe):
    """A DataFrame, or a polars or pyarrow frame when ``RMagics.frames`` says so."""
    kind = settings.frames_kind()
    if kind != "pandas":
        return arrow.frame_from_r(rframe, kind)
    return dataframe_to_pandas(rframe)


def dataframe_to_pandas(rframe) -> pd.DataFrame:
    names, rcolumns = frame_columns(rframe)
    columns = {position: column_to_py(column, name) for position, (name, column) in enumerate(zip(names, rcolumns))}
    index = _index(rframe)
    if not columns:
        return pd.DataFrame(index=index)
    frame = pd.DataFrame(columns)
    frame.columns = pd.Index(names)
    frame.index = index
    return frame


def named_vector_to_series(sexp, names) -> pd.Series:
    """A named vector as a Series indexed by its names (labelled.py hands
    these over)."""
    series = atomic_column_to_py(sexp, None)
    series.index = pd.Index(python_strings(names)[0])
    return series


@default.r2py.register("factor")
def factor_to_py(sexp):
    return datetimes.shaped(factor_to_series(sexp), sexp, scalar=False)


@default.r2py.register("POSIXct")
def posixct_to_py(sexp):
    return datetimes.shaped(datetimes.posixct_to_series(sexp), sexp)


@default.r2py.register("Date")
def date_to_py(sexp):
    value = datetimes.shaped(datetimes.date_to_series(sexp), sexp)
    if isinstance(value, np.ndarray):
        return value.astype("datetime64[D]")  # numpy's own unit for dates
    if isinstance(value, pd.Timestamp) and dt.MINYEAR <= value.year <= dt.MAXYEAR:
        return value.date()
    return value  # a Timestamp: datetime.date holds years 1 to 9999 only


@default.r2py.register("difftime")
def difftime_to_py(sexp):
    return datetimes.shaped(datetimes.difftime_to_series(sexp), sexp)
