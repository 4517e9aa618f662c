"""Rules for Arrow data, both pyarrow's and anyone's who speaks Arrow.

pyarrow ``Table``, ``RecordBatch``, ``Array`` and ``ChunkedArray``, polars
``DataFrame`` and ``Series``, any object with the Arrow C stream interface
(``__arrow_c_stream__``: DuckDB results, and others) and pandas columns kept
in Arrow memory (``string[pyarrow]``, ``pd.ArrowDtype``, pandas 3's ``str``
when pyarrow is installed) go to R straight from their Arrow buffers: tables
become data.frames, arrays vectors, with nulls as NA. No R package is
needed, and nothing goes through Python objects per value: strings travel
as Arrow's own UTF-8 buffer, with separators put in (see _bulk).

Neither pyarrow nor polars is imported until a value of theirs is seen
(rules registered by dotted type name).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np

from ..errors import ConversionError
from . import _bulk, datetimes
from ._rt import python_strings, ri
from .registry import Converter, default, r_classes, r_typeof
from .vectors import (
    bool_vector,
    data_frame,
    factor_parts,
    factor_vector,
    float_vector,
    frame_columns,
    frame_rows,
    int_vector,
    integer64_values,
    na_real_mask,
    numpy_values,
    store_as_double,
    str_vector,
)

_INT64_MAX = np.iinfo(np.int64).max


def _pa():
    import pyarrow

    return pyarrow


def array_to_r(array, what: str = "array", encoding=None):
    """The R vector of one Arrow array or chunked array, nulls as NA.
    ``encoding``: for a string array, an :class:`EncodingAhead` of it (see
    :func:`encodings_ahead`)."""
    pa = _pa()
    array = _one_array(array)
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _factor(array, what)
    if pa.types.is_string_view(kind) and encoding is None and not _worth_encoding(array):
        array, kind = array.cast(pa.large_string()), pa.large_string()  # whole: as offsets and bytes
    na = _nulls(array)
    if _is_text(kind):
        return _strings(array, na, encoding)
    if pa.types.is_boolean(kind):
        return bool_vector(_filled(array, False), na)
    if pa.types.is_integer(kind):
        return _integers(_filled(array, 0), na, what)
    if pa.types.is_floating(kind):
        return float_vector(_filled(array, np.nan).astype(np.float64), na)
    if pa.types.is_date(kind):
        return datetimes.date_vector(_filled(array.cast(pa.date32()).cast(pa.int32()), 0), na)
    if pa.types.is_timestamp(kind):
        return _timestamps(array, na, what)
    if pa.types.is_duration(kind):
        values = _filled(array.cast(pa.duration("us")).cast(pa.int64()), 0).view("timedelta64[us]").copy()
        if na is not None:
            values[na] = np.timedelta64("NaT", "us")
        return datetimes.difftime(values, what)
    if pa.types.is_null(kind):
        return ri().BoolSexpVector([ri().NA_Logical] * len(array))
    raise ConversionError(f"{what} has Arrow type {kind}, which has no R counterpart")


def _is_text(kind) -> bool:
    """Arrow's string types: string, large_string, string_view (polars' own,
    hashed as it is; only its distinct values are laid out again)."""
    pa = _pa()
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _one_array(array):
    """A chunked array as one array (its only chunk as it is)."""
    pa = _pa()
    if not isinstance(array, pa.ChunkedArray):
        return array
    if array.num_chunks == 1:
        return array.chunk(0)
    return array.combine_chunks() if array.num_chunks else pa.array([], type=array.type)


def _nulls(array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    return array.is_null().to_numpy(zero_copy_only=False)


def _filled(array, fill) -> np.ndarray:
    """The values as numpy (a view when there are no nulls), nulls as ``fill``."""
    if array.null_count:
        array = array.fill_null(fill)
    return array.to_numpy(zero_copy_only=False)


def _integers(values: np.ndarray, na: np.ndarray | None, what: str):
    if values.dtype == np.uint64 and len(values) and values.max() > _INT64_MAX:
        store_as_double(0, int(values.max()), what, stacklevel=4)
        return float_vector(values.astype(np.float64), na)
    return int_vector(values.astype(np.int64, copy=False), na, what)


def _strings(array, na: np.ndarray | None, encoding=None):
    """Arrow's UTF-8 buffer and offsets, as they are (see _bulk.utf8_column_to_r);
    a column with many repeats as its distinct values (Arrow's dictionary
    encoding) and a code per element."""
    r_codes = None
    if encoding is not None or _worth_encoding(array):
        array, r_codes = _distinct_and_codes(array, na, encoding)
        na = None
        if _pa().types.is_string_view(array.type):
            array = array.cast(_pa().large_string())
    data, offsets = _string_buffers(array)
    vector = _bulk.utf8_column_to_r(data, offsets, na, ri(), r_codes)
    if vector is None:  # the data holds the separator: value by value
        values = np.array(array.to_pylist(), dtype=object)
        if r_codes is not None:
            codes = _bulk.r_array(r_codes)
            missing = codes == _bulk._rapi.NA_INTEGER
            values, na = _bulk.none_where(missing, values[np.where(missing, 1, codes) - 1]), missing
        vector = str_vector(values, na)
    return vector


def _distinct_and_codes(array, na: np.ndarray | None, ahead: EncodingAhead | None):
    """The distinct strings of ``array`` and R's codes for its elements; the
    0-based codes are freed before R makes the strings."""
    dictionary, codes = ahead.take() if ahead is not None else _dictionary_encoded(array, na)
    return dictionary, _bulk.codes_vector(codes, ri())


def _worth_encoding(array) -> bool:
    """Whether a string array has enough repeats to go as distinct values and codes."""
    n = len(array)
    if n < _bulk.MIN_BULK_STRINGS or array.null_count == n:
        return False
    pa = _pa()
    if pa.types.is_string_view(array.type):  # Arrow cannot take from these: random runs of them
        starts = _bulk.sample_positions(n - _RUN)[::_RUN]
        sample = pa.concat_arrays([array.slice(int(i), _RUN) for i in starts]).cast(pa.large_string())
        return _bulk.has_repeats(sample)
    return _bulk.has_repeats(array.take(pa.array(_bulk.sample_positions(n))))


_RUN = 64  # the sample of a string_view array: runs of this many values


_AHEAD_MIN_ROWS = 1 << 16  # below this, a thread costs more than the overlap saves


def _dictionary_encoded(array, na: np.ndarray | None):
    """The distinct strings of ``array`` and the 0-based code of each element
    (-1 for NA). Only Arrow and numpy work here, so it runs on any thread.
    Arrow works in the system allocator: its own pool keeps freed memory for
    a while."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array, memory_pool=_pa().system_memory_pool())
    indices = encoded.indices
    codes = np.frombuffer(indices.buffers()[1], dtype=np.int32)[indices.offset : indices.offset + len(indices)]
    return encoded.dictionary, codes if na is None else np.where(na, -1, codes)


class EncodingAhead:
    """The dictionary encoding of a string array, running on a worker thread."""

    def __init__(self, array, na: np.ndarray | None):
        self._future = _bulk.workers().submit(self._encode, array, na)

    @staticmethod
    def _encode(array, na):
        try:
            return _dictionary_encoded(array, na)
        finally:
            _bulk.release_freed_memory()

    def take(self):
        """Its distinct strings and codes, once ready. The future lets go of
        them, so they are freed as soon as the caller is done."""
        future, self._future = self._future, None
        return future.result()


def encodings_ahead(arrays: list) -> list:
    """For a frame's columns (Arrow arrays, None for the others): the
    dictionary encoding of each string column worth encoding, started on
    worker threads (Arrow's hashing releases the GIL), or None, so that it
    runs while R makes the other columns. ``array_to_r(..., encoding=)``
    waits for it."""
    found: list[EncodingAhead | None] = [None] * len(arrays)
    if len(arrays) < 2:
        return found  # nothing to overlap with
    for i, array in enumerate(arrays):
        if array is None or len(array) < _AHEAD_MIN_ROWS:
            continue
        array = _one_array(array)
        if _is_text(array.type) and _worth_encoding(array):
            found[i] = EncodingAhead(array, _nulls(array))
    return found


def made_encoded_last(encodings: list, convert) -> list:
    """``[convert(i) for i in range(len(encodings))]``, the columns with an
    encoding under way made last, so their hashing overlaps the others."""
    columns = [None] * len(encodings)
    for i in sorted(range(len(encodings)), key=lambda i: encodings[i] is not None):
        columns[i] = convert(i)
    return columns


def _string_buffers(array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes (uint8) and n + 1 offsets of a string or large_string array."""
    offset_type = np.int64 if _pa().types.is_large_string(array.type) else np.int32
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    return data, offsets


def _timestamps(array, na: np.ndarray | None, what: str):
    """POSIXct: the same instants and time zone; without a zone, the same
    wall-clock times in R's local time, as for pandas' naive datetimes."""
    pa = _pa()
    tz = array.type.tz
    values = _filled(array.cast(pa.timestamp("us", tz)).cast(pa.int64()), 0).view("datetime64[us]").copy()
    if na is not None:
        values[na] = np.datetime64("NaT", "us")
    if tz:
        return datetimes.posixct(values, datetimes.tz_to_r(_zone(tz)), what)
    return datetimes.datetime64_array_to_r(values, what)


def _zone(name: str) -> dt.tzinfo:
    """Arrow's time zone (an IANA name or a fixed offset such as "+05:30")."""
    if name[:1] in "+-":
        offset = dt.timedelta(hours=int(name[1:3]), minutes=int(name[4:6]))
        return dt.timezone(offset if name[0] == "+" else -offset)
    return zoneinfo.ZoneInfo(name)


def _factor(array, what: str):
    """A dictionary array (polars' and pandas' categoricals) as a factor,
    its dictionary's order as the levels' order."""
    levels = array.dictionary.to_pylist()
    if not all(isinstance(level, str) for level in levels):
        levels = [str(level) for level in levels]
    codes = _filled(array.indices.cast(_pa().int64()), -1)
    return factor_vector(codes, levels, array.type.ordered)


def table_to_r(table):
    """A data.frame: the table's columns, in order, under their names."""
    names = list(table.column_names)
    encodings = encodings_ahead(table.columns)
    columns = made_encoded_last(encodings, lambda i: array_to_r(table.column(i), f"column {names[i]!r}", encodings[i]))
    return data_frame(names, columns, nrow=table.num_rows)


def stream_to_r(obj):
    """Anything with the Arrow C stream interface, read whole, as a data.frame."""
    pa = _pa()
    return table_to_r(pa.RecordBatchReader.from_stream(obj).read_all())


@default.py2r.register("pyarrow.lib.Table")
def _table(table):
    return table_to_r(table)


@default.py2r.register("pyarrow.lib.RecordBatch")
def _record_batch(batch):
    return table_to_r(_pa().Table.from_batches([batch]))


@default.py2r.register("pyarrow.lib.Array")
@default.py2r.register("pyarrow.lib.ChunkedArray")
def _array(array):
    return array_to_r(array, "Arrow array")


@default.py2r.register("polars.dataframe.frame.DataFrame")
def _polars_frame(frame):
    return table_to_r(frame.to_arrow(compat_level=_newest_arrow()))


@default.py2r.register("polars.series.series.Series")
def _polars_series(series):
    return array_to_r(series.to_arrow(compat_level=_newest_arrow()), f"polars Series {series.name!r}")


def _newest_arrow():
    """polars' Arrow export without copies (strings as string_view, as polars
    holds them); the default lays strings out again as large_string."""
    import polars

    return polars.CompatLevel.newest()


# -- R -> Arrow: data.frames as pyarrow tables or polars frames -----------------------

#: What a data.frame's row names become in a pyarrow table or polars frame
#: (neither has an index): a first column of this name, unless they are R's
#: automatic 1..n.
ROW_NAMES_COLUMN = "rownames"


def frame_from_r(rframe, kind: str):
    """A data.frame as a pyarrow Table or a polars DataFrame, built from R's
    vectors (numbers from views of R's memory), not through pandas."""
    pa = _pa()
    names, rcolumns = frame_columns(rframe)
    _, row_names = frame_rows(rframe)
    if kind == "polars":
        return _polars_frame_from_r(names, rcolumns, row_names)
    columns = [column_from_r(column, name) for name, column in zip(names, rcolumns)]
    if row_names is not None:
        names, columns = [ROW_NAMES_COLUMN] + names, [pa.array(row_names.astype(object))] + columns
    return pa.table(columns, names=names) if columns else pa.table({})


def _polars_frame_from_r(names: list[str], rcolumns: list, row_names):
    """A polars frame, column by column. A character column is gathered by
    polars from its distinct strings (polars lays out its own string views
    faster than it converts a whole Arrow string column); factors become
    polars Enums, the one polars type that keeps levels and their order."""
    import polars

    columns = [] if row_names is None else [polars.Series(ROW_NAMES_COLUMN, row_names.astype(str))]
    for name, sexp in zip(names, rcolumns):
        if r_typeof(sexp) == "character" and not r_classes(sexp)[1:]:
            distinct, codes = string_parts_from_r(sexp)
            series = _series_from_arrow(distinct)
            columns.append((series if codes is None else series.gather(codes)).alias(name))
            continue
        array = column_from_r(sexp, name)
        series = _series_from_arrow(array).alias(name)
        if _pa().types.is_dictionary(array.type):
            series = series.cast(polars.Enum(array.dictionary.to_pylist()))
        columns.append(series)
    return polars.DataFrame(columns)


def _series_from_arrow(array):
    """One Arrow array as a polars Series, zero-copy where polars can (its
    annotations promise a Series or a DataFrame)."""
    import polars

    series = polars.from_arrow(array)
    assert isinstance(series, polars.Series)
    return series


def column_from_r(sexp, name):
    """One R column as an Arrow array, NA as null."""
    pa = _pa()
    classes = r_classes(sexp)
    if "factor" in classes:
        codes, levels, ordered = factor_parts(sexp)
        indices = pa.array(codes.astype(np.int32), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(levels.tolist(), pa.string()), ordered=ordered)
    if "POSIXct" in classes:
        return pa.array(datetimes.posixct_to_series(sexp))
    if "Date" in classes:
        return pa.array(datetimes.date_to_series(sexp)).cast(pa.date32())
    if "difftime" in classes:
        return pa.array(datetimes.difftime_to_series(sexp))
    if "integer64" in classes:
        values, na = integer64_values(sexp)
        return pa.array(values, mask=na)
    kind = r_typeof(sexp)
    if kind == "character":
        return string_array_from_r(sexp)
    values, na = numpy_values(sexp)
    if kind == "double":
        na = na_real_mask(values)
        return pa.array(values, mask=na if na.any() else None)
    if kind == "integer":
        return pa.array(values.astype(np.int32), mask=na)
    if kind == "logical":
        return pa.array(values, mask=na)
    raise ConversionError(f"column {name!r} of class {classes[0] if classes else kind!r} cannot become an Arrow column")


def string_array_from_r(sexp):
    """An R character vector as an Arrow string array (NA as null), made
    from the UTF-8 bytes R writes of its distinct strings and their codes:
    no Python string per value (see _bulk.distinct_strings)."""
    distinct, codes = string_parts_from_r(sexp)
    return distinct if codes is None else distinct.take(_pa().array(codes))


def string_parts_from_r(sexp):
    """An R character vector's distinct strings (an Arrow string array, NA
    as null) and each element's code into them, or the strings themselves
    and None when there are few repeats."""
    pa = _pa()
    found = _bulk.distinct_strings(sexp) if len(sexp) >= _bulk.MIN_BULK_STRINGS else None
    if found is None:
        values, na = python_strings(sexp)
        return pa.array(values, type=pa.string(), mask=na), None
    return _from_nul_terminated(found.pieces, found.na), found.codes


def _from_nul_terminated(pieces: list[np.ndarray], na: np.ndarray):
    """One string array of the strings in ``pieces`` (UTF-8, NUL after
    each), null where ``na``: the NULs are taken out and where they were
    gives the offsets. large_string when the bytes pass 2 GiB."""
    pa = _pa()
    large = sum(len(piece) for piece in pieces) >= 2**31
    arrays, at = [], 0
    for piece in pieces:
        nul = piece == 0
        ends = np.flatnonzero(nul)
        count = len(ends)
        offsets = np.empty(count + 1, dtype=np.int64 if large else np.int32)
        offsets[0] = 0
        np.subtract(ends, np.arange(count), out=offsets[1:], casting="unsafe")
        nulls = na[at : at + count]
        validity = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
        arrays.append(
            pa.Array.from_buffers(
                pa.large_string() if large else pa.string(),
                count,
                [validity, pa.py_buffer(offsets), pa.py_buffer(piece[~nul])],
                null_count=int(nulls.sum()),
            )
        )
        at += count
    return arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays).combine_chunks()


def _frames_converter(kind: str):
    converter = Converter(f"{kind} frames", default)
    converter.r2py.register("data.frame")(lambda rframe: frame_from_r(rframe, kind))
    return converter


#: Converters for ``-c``: data.frames as polars or pyarrow for one call.
polars_frames = _frames_converter("polars")
pyarrow_frames = _frames_converter("pyarrow")
