"""Arrow data into R (issue 17, items 1, 2 and 6): pyarrow tables, batches
and arrays, polars frames and series, the Arrow C stream interface, and
pandas columns kept in Arrow memory, each column type with nulls."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import rmagic_ext
from helpers import R, run_python

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")

r = rmagic_ext.r


def every_type_with_nulls():
    return pa.table(
        {
            "i8": pa.array([1, None, -3], pa.int8()),
            "i64": pa.array([2**40, None, 7], pa.int64()),
            "u32": pa.array([1, 2, None], pa.uint32()),
            "f32": pa.array([1.5, None, 2.0], pa.float32()),
            "f64": pa.array([np.nan, None, 2.5]),
            "b": pa.array([True, None, False]),
            "s": pa.array(["a", None, "é ✓"]),
            "ls": pa.array(["x", "yy", None], pa.large_string()),
            "sv": pa.array(["p", None, ""], pa.string_view()),
            "d": pa.array([dt.date(2024, 1, 1), None, dt.date(1969, 12, 31)]),
            "ts": pa.array([dt.datetime(2024, 1, 1, 10, 30), None, dt.datetime(2024, 1, 2)], pa.timestamp("ms")),
            "tz": pa.array(
                [dt.datetime(2024, 1, 1, 9), None, dt.datetime(2024, 7, 1, 9)], pa.timestamp("us", "Europe/Paris")
            ),
            "du": pa.array([dt.timedelta(seconds=5), None, dt.timedelta(minutes=1)], pa.duration("ms")),
            "cat": pa.array(["lo", None, "hi"]).dictionary_encode(),
        }
    )


def test_a_pyarrow_table_is_a_data_frame_with_nulls_as_na(ip):
    with pytest.warns(rmagic_ext.ConversionWarning, match="column 'i64'"):  # 2**40: a double, exactly
        r.t = every_type_with_nulls()
    assert list(r("sapply(t, function(x) class(x)[1])")) == [
        "integer",
        "numeric",
        "integer",
        "numeric",
        "numeric",
        "logical",
        "character",
        "character",
        "character",
        "Date",
        "POSIXct",
        "POSIXct",
        "difftime",
        "factor",
    ]
    nulls = list(r("unname(sapply(t, function(x) paste(which(is.na(x)), collapse = ' ')))"))
    assert nulls == ["2", "2", "3", "2", "1 2", "2", "2", "3", "2", "2", "2", "2", "2", "2"]
    assert r("identical(t$f64[1], NaN) && is.na(t$f64[2]) && !is.nan(t$f64[2])")  # NaN and null stay apart
    assert list(r("t$s[c(1, 3)]")) == ["a", "é ✓"] and list(r("t$sv[c(1, 3)]")) == ["p", ""]
    assert r("t$i64[1]") == 2**40
    assert list(r("format(t$d)"))[::2] == ["2024-01-01", "1969-12-31"]
    assert r("attr(t$tz, 'tzone')") == "Europe/Paris"
    assert list(r("format(t$tz, '%H:%M', tz = 'UTC')"))[::2] == ["09:00", "09:00"]
    assert list(r("format(t$ts, '%Y-%m-%d %H:%M')"))[::2] == ["2024-01-01 10:30", "2024-01-02 00:00"]
    assert list(r("as.numeric(t$du, units = 'secs')"))[::2] == [5.0, 60.0]
    assert list(r("levels(t$cat)")) == ["lo", "hi"] and list(r("as.integer(t$cat)"))[::2] == [1, 2]


def test_record_batches_arrays_and_chunked_arrays(ip):
    r.batch = pa.RecordBatch.from_pydict({"a": [1, None]})
    assert r("is.data.frame(batch) && is.na(batch$a[2])")
    r.arr = pa.array(["a", "b", "c", "d"]).slice(1, 2)  # a slice: offsets into its parent's buffers
    assert list(r("arr")) == ["b", "c"]
    r.chunked = pa.chunked_array([["a"], [], ["b", None]])
    assert list(r("chunked")) == ["a", "b", None]
    r.empty = pa.chunked_array([], pa.string())
    assert r("identical(empty, character(0))")


def test_polars_frames_and_series(ip):
    r.p = pl.DataFrame(
        {
            "s": ["a", None, "c"],
            "c": pl.Series(["x", "y", None], dtype=pl.Categorical),
            "n": [1, None, 3],
            "when": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
        }
    )
    assert list(r("sapply(p, function(x) class(x)[1])")) == ["character", "factor", "integer", "Date"]
    assert r("identical(which(is.na(p$c)), 3L) && identical(levels(p$c), c('x', 'y'))")
    r.ps = pl.Series("v", [1.5, None])
    assert r("is.double(ps) && is.na(ps[2])")


def test_anything_with_the_arrow_stream_interface(ip):
    class Stream:  # as DuckDB results are: only the capsule interface
        def __init__(self, table):
            self.table = table

        def __arrow_c_stream__(self, requested_schema=None):
            return self.table.__arrow_c_stream__(requested_schema)

    r.st = Stream(pa.table({"a": [1, 2], "s": ["x", None]}))
    assert r("is.data.frame(st) && identical(st$s, c('x', NA))")


def test_pandas_arrow_dtypes(ip):
    frame = pd.DataFrame(
        {
            "s": pd.array(["a", None], dtype="string[pyarrow]"),
            "i": pd.array([1, None], dtype=pd.ArrowDtype(pa.int16())),
            "ts": pd.array(
                [pd.Timestamp("2024-01-01", tz="UTC"), None], dtype=pd.ArrowDtype(pa.timestamp("us", "UTC"))
            ),
            "cat": pd.array(["u", None], dtype=pd.ArrowDtype(pa.dictionary(pa.int8(), pa.string()))),
        }
    )
    ip.push({"adf": frame})
    R(ip, "-i adf NULL")
    assert list(r("sapply(adf, function(x) class(x)[1])")) == ["character", "integer", "POSIXct", "factor"]
    assert r("all(sapply(adf, function(x) is.na(x[2])))")


def test_strings_holding_the_separator_still_convert(ip):
    r.sep = pa.array(["a\x1fb", None, "c"])
    assert list(r("sep")) == ["a\x1fb", None, "c"]


def test_strings_with_nul_are_a_clear_error(ip):
    with pytest.raises(rmagic_ext.ConversionError, match="NUL"):
        r.bad = pa.array(["a\x00b"])


def test_a_large_arrow_string_column_matches_the_numpy_one(ip):
    values = [f"value {i} ✓" if i % 7 else None for i in range(200_000)]
    r.from_arrow = pa.array(values)
    r.from_numpy = np.array(values, dtype=object)
    assert r("identical(from_arrow, from_numpy)")


def test_in_a_kernel_with_the_magics(kernel):
    run = kernel.execute(
        "import pyarrow as pa, polars as pl\n"
        "t = pa.table({'x': [1, None], 's': ['a', None]})\n"
        "p = pl.DataFrame({'y': [1.5, None]})"
    )
    assert run.error is None, run.error
    run = kernel.execute("%%R -i t,p\ncat(class(t), sum(is.na(t$x)), is.na(t$s[2]), class(p), is.na(p$y[2]), '\\n')")
    assert run.error is None, run.error
    assert run.text() == "data.frame 1 TRUE data.frame TRUE \n"


def test_pyarrow_and_polars_are_imported_only_when_their_values_are_seen():
    code = (
        "import sys, pandas\n"
        "before = 'pyarrow' in sys.modules  # pandas 3 may import it for its str dtype\n"
        "import rmagic_ext\n"
        "rmagic_ext.r.x = [1, 2]\n"
        "print(sorted(m for m in ('pyarrow', 'polars') if m in sys.modules and not (m == 'pyarrow' and before)))"
    )
    done = run_python(code)
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- item 3: what comes back ---------------------------------------------------------

FRAME_R = (
    "df <- data.frame(i = c(1L, NA), d = c(1.5, NA), s = c('a', NA), b = c(TRUE, NA),"
    " f = factor(c('z', NA), levels = c('z', 'a')), day = as.Date(c('2024-01-01', NA)),"
    " ts = as.POSIXct(c('2024-01-01 10:00', NA), tz = 'Asia/Tokyo'),"
    " dd = as.difftime(c(5, NA), units = 'mins'))\n"
    "named <- data.frame(x = 1:2, row.names = c('p', 'q'))"
)


@pytest.fixture
def frames(ip):
    magics = ip.magics_manager.registry["RMagics"]

    def choose(kind):
        magics.frames = kind

    yield choose
    magics.frames = "pandas"


def test_frames_as_pyarrow_tables_keep_na_levels_dates_and_zones(ip, frames):
    ip.run_cell_magic("R", "", FRAME_R)
    frames("pyarrow")
    table = ip.run_line_magic("Rget", "df")
    assert isinstance(table, pa.Table)
    assert [str(t) for t in table.schema.types] == [
        "int32",
        "double",
        "string",
        "bool",
        "dictionary<values=string, indices=int32, ordered=0>",
        "date32[day]",
        "timestamp[us, tz=Asia/Tokyo]",
        "duration[us]",
    ]
    assert all(column.null_count == 1 and column[1].as_py() is None for column in table.columns)
    assert table.column("f").chunk(0).dictionary.to_pylist() == ["z", "a"]
    assert table.column("ts")[0].as_py().hour == 10
    assert table.column("dd")[0].as_py() == dt.timedelta(minutes=5)
    named = rmagic_ext.r.named  # r.x follows the setting too
    assert named.column_names == ["rownames", "x"] and named.column("rownames").to_pylist() == ["p", "q"]


def test_frames_as_polars_keep_levels_in_order(ip, frames):
    ip.run_cell_magic("R", "", FRAME_R)
    frames("polars")
    ip.run_cell_magic("R", "-o df", "NULL")
    frame = ip.user_ns["df"]
    assert isinstance(frame, pl.DataFrame)
    assert frame["f"].dtype == pl.Enum(["z", "a"]) and frame["f"].to_list() == ["z", None]
    assert frame["ts"].dtype == pl.Datetime("us", "Asia/Tokyo") and frame["day"].to_list()[0] == dt.date(2024, 1, 1)
    assert frame.null_count().row(0) == (1,) * 8
    ip.run_line_magic("Rpull", "named")
    assert ip.user_ns["named"].columns == ["rownames", "x"]


def test_a_converter_chooses_frames_for_one_call(ip):
    from rmagic_ext.convert import polars_frames, pyarrow_frames

    ip.run_cell_magic("R", "", FRAME_R)
    ip.push({"polars_frames": polars_frames, "pyarrow_frames": pyarrow_frames})
    assert isinstance(R(ip, "-c polars_frames df"), pl.DataFrame)
    assert isinstance(R(ip, "-c pyarrow_frames df"), pa.Table)
    assert isinstance(R(ip, "df"), pd.DataFrame)  # the setting itself is unchanged


def test_frames_round_trip_back_to_r(ip, frames):
    ip.run_cell_magic("R", "", FRAME_R)
    for kind in ("pyarrow", "polars"):
        frames(kind)
        ip.push({"back": ip.run_line_magic("Rget", "df")})
        # difftimes travel in seconds, whatever their units, as for pandas frames
        same = R(
            ip, "-i back secs <- df; units(secs$dd) <- 'secs'; isTRUE(all.equal(back, secs, check.attributes = FALSE))"
        )
        assert same.tolist() == [True], kind


def test_frames_refuses_other_kinds(ip):
    from traitlets import TraitError

    with pytest.raises(TraitError):
        ip.magics_manager.registry["RMagics"].frames = "spark"


# -- item 5: exact 64-bit integers ----------------------------------------------------


@pytest.fixture
def bit64(ip):
    if not r("requireNamespace('bit64', quietly = TRUE)"):
        pytest.skip("r-cran-bit64 is not installed")
    magics = ip.magics_manager.registry["RMagics"]
    magics.int64 = "bit64"
    yield
    magics.int64 = "double"


def test_int64_beyond_2_53_travels_as_integer64_both_ways(ip, bit64):
    frame = pd.DataFrame({"id": pd.array([2**62 + 1, None, -(2**60) - 3], dtype="Int64")})
    ip.push(
        {
            "ids": frame,
            "raw": np.array([2**53 + 1, 7], dtype=np.int64),
            "arrow_ids": pa.table({"id": pa.array([2**63 - 1, None], pa.int64())}),
        }
    )
    R(ip, "-i ids,raw,arrow_ids NULL")
    assert r("class(ids$id)") == "integer64"
    assert list(r("as.character(ids$id)")) == ["4611686018427387905", None, "-1152921504606846979"]
    assert r("as.character(raw[1] + bit64::as.integer64(1))") == str(2**53 + 2)  # R's own exact arithmetic
    assert r("as.character(arrow_ids$id[1])") == str(2**63 - 1)
    back = ip.run_line_magic("Rget", "ids")
    assert str(back["id"].dtype) == "Int64" and back["id"].tolist() == [2**62 + 1, pd.NA, -(2**60) - 3]
    assert ip.run_line_magic("Rget", "raw").tolist() == [2**53 + 1, 7]  # magics' arrays: int64, exact


def test_without_bit64_mode_the_rule_stays(ip):
    ip.push({"huge": np.array([2**62], dtype=np.int64)})
    with pytest.raises(rmagic_ext.ConversionError, match="not exact as a double"):
        R(ip, "-i huge NULL")


def test_frames_and_int64_settings_in_a_kernel(kernel):
    if not r("requireNamespace('bit64', quietly = TRUE)"):
        pytest.skip("r-cran-bit64 is not installed")
    run = kernel.execute(
        "%config RMagics.frames = 'polars'\n%config RMagics.int64 = 'bit64'\n"
        "import numpy as np\nbig = np.array([2**62 + 1, 5], dtype=np.int64)"
    )
    assert run.error is None, run.error
    try:
        run = kernel.execute(
            "%%R -i big -o out\nout <- data.frame(id = big, f = factor(c('b', NA), levels = c('b', 'a')))"
        )
        assert run.error is None, run.error
        check = kernel.execute("print(type(out).__name__, out['id'].to_list(), out['f'].dtype, out['f'].to_list())")
        assert check.text() == "DataFrame [4611686018427387905, 5] Enum(categories=['b', 'a']) ['b', None]\n"
    finally:
        kernel.execute("%config RMagics.frames = 'pandas'\n%config RMagics.int64 = 'double'")


def test_every_column_type_with_nulls_in_a_kernel(kernel):
    import inspect

    setup = (
        "import pyarrow as pa, numpy as np, datetime as dt, warnings\n"
        + inspect.getsource(every_type_with_nulls)
        + "\nt = every_type_with_nulls()\nwarnings.simplefilter('ignore')"
    )
    assert kernel.execute(setup).error is None
    run = kernel.execute(
        "%%R -i t\ncat(unname(sapply(t, function(x) paste(class(x)[1], "
        "paste(which(is.na(x)), collapse = '+')))), sep = '\\n')"
    )
    assert run.error is None, run.error
    assert run.text().split("\n")[:-1] == [
        "integer 2",
        "numeric 2",
        "integer 3",
        "numeric 2",
        "numeric 1+2",
        "logical 2",
        "character 2",
        "character 3",
        "character 2",
        "Date 2",
        "POSIXct 2",
        "POSIXct 2",
        "difftime 2",
        "factor 2",
    ]
