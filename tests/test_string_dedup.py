"""Strings by their distinct values (issue 18): a column with repeats goes
into R as its distinct strings and a code per element, and comes out by
hashing R's string pointers and reading each distinct string once. Each
case runs both ways, from every storage, through the path it is meant for,
and gives exactly what R holds."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import polars as pl
import pytest

from rmagic_ext import ConversionError, py2r, r2py
from rmagic_ext.convert import _bulk, arrow
from rmagic_ext.session import get_session

N = 5_000  # above _bulk.MIN_BULK_STRINGS, and a sample of _bulk._SAMPLE values or more


def repeated(n: int = N) -> list:
    return [f"v{i % 37}" for i in range(n)]


CASES = {
    "all distinct": [f"d{i}" for i in range(N)],
    "all equal": ["same"] * N,
    "NA mixed in": [None if i % 7 == 0 else f"v{i % 37}" for i in range(N)],
    "empty strings": ["" if i % 3 else f"v{i % 5}" for i in range(N)],
    "non-ASCII": [["é", "日本", "😀", "a\tb", "x\ny"][i % 5] + str(i % 11) for i in range(N)],
    "longer than 2^16 bytes": ["L" * 70_000 + str(i % 3) if i % 100 == 0 else f"v{i % 37}" for i in range(N)],
    "all NA": [None] * N,
}

STORAGES = {
    "object": lambda values: pd.Series(values, dtype=object),
    "pandas str": lambda values: pd.Series(values, dtype="str"),
    "pyarrow": lambda values: pa.array(values, type=pa.string()),
    "large_string": lambda values: pa.array(values, type=pa.large_string()),
    "polars": lambda values: pl.Series(values, dtype=pl.String),
}


def in_r(expr: str):
    return r2py(get_session().run(expr, keep_last=True).value)


def made_by_rpy2(values: list):
    """The character vector rpy2's own constructor makes, one string at a
    time: independent of the bulk paths under test."""
    ri = get_session().ri
    return ri.StrSexpVector([ri.NA_Character if v is None else v for v in values])


@pytest.fixture
def spy(monkeypatch):
    """Which way strings went: with codes (distinct values) or whole."""
    seen = {"codes": 0, "whole": 0, "factorized": 0, "read_all": 0}
    split = _bulk._split_in_r

    def split_in_r(joined, counts, na, ri, codes):
        seen["codes" if codes is not None else "whole"] += 1
        return split(joined, counts, na, ri, codes)

    factorize, read = _bulk._factorize, _bulk._read_distinct

    def factorized(pointers):
        seen["factorized"] += 1
        return factorize(pointers)

    def read_distinct(sexp, first, na, codes):
        seen["read_all"] += first is None
        return read(sexp, first, na, codes)

    monkeypatch.setattr(_bulk, "_split_in_r", split_in_r)
    monkeypatch.setattr(_bulk, "_factorize", factorized)
    monkeypatch.setattr(_bulk, "_read_distinct", read_distinct)
    return seen


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("case", CASES)
def test_a_push_gives_r_exactly_the_strings(case, storage, spy):
    values = CASES[case]
    get_session().assign("pushed", py2r(STORAGES[storage](values)))
    get_session().assign("expected", made_by_rpy2(values))
    assert in_r("identical(pushed, expected)") is True
    assert in_r("sum(is.na(pushed))") == sum(v is None for v in values)
    if case == "all distinct":
        assert spy["codes"] == 0
    elif case != "all NA":
        assert spy["codes"] >= 1, "a column with repeats goes as distinct values and codes"


@pytest.mark.parametrize("case", CASES)
def test_a_pull_gives_python_exactly_the_strings(case, spy):
    values = CASES[case]
    get_session().assign("pulled", made_by_rpy2(values))
    sexp = get_session().lookup("pulled")
    objects = r2py(sexp)
    assert [None if v is None else v for v in objects.tolist()] == values
    arrow_array = arrow.string_array_from_r(sexp)
    assert arrow_array.type == pa.string() and arrow_array.to_pylist() == values
    frame = r2py(get_session().run("data.frame(s = pulled)", keep_last=True).value)
    assert [None if pd.isna(v) else v for v in frame["s"]] == values
    if case == "all distinct":
        assert spy["factorized"] == 0 and spy["read_all"] >= 1, "no repeats in the sample: read every string"
    else:
        assert spy["factorized"] >= 1


def test_latin1_and_utf8_marked_strings_with_repeats_come_back_as_the_same_text(spy):
    session = get_session()
    session.run('l <- iconv(c("café", "naïve"), "UTF-8", "latin1"); mixed <- rep(c(l, "café", "ü", NA), 2000)')
    sexp = session.lookup("mixed")
    assert in_r("unique(Encoding(mixed))").tolist() == ["latin1", "UTF-8", "unknown"]
    expected = ["café", "naïve", "café", "ü", None] * 2000
    assert r2py(sexp).tolist() == expected
    assert arrow.string_array_from_r(sexp).to_pylist() == expected
    assert spy["factorized"] >= 2


def test_bytes_marked_strings_with_repeats_are_a_clear_error():
    get_session().run('b <- "é"; Encoding(b) <- "bytes"; b <- rep(c(b, "x"), 3000)')
    with pytest.raises(ConversionError, match="marked as bytes"):
        r2py(get_session().lookup("b"))


def test_invalid_utf8_with_repeats_is_a_clear_error():
    with pytest.raises(ConversionError, match="not valid UTF-8"):
        r2py(get_session().run(r'rep(c("caf\xe9", "ok"), 3000)', keep_last=True).value)


def test_altrep_strings_are_read_through_r_s_own_hashing():
    """as.character(1:n) is an ALTREP vector, whose string pointers R may
    have to make first: R finds the distinct values itself."""
    session = get_session()
    session.run("alt <- as.character(rep(1:50, 200)); alt_distinct <- as.character(1:6000)")
    assert r2py(session.lookup("alt")).tolist() == [str(i) for i in range(1, 51)] * 200
    assert arrow.string_array_from_r(session.lookup("alt_distinct")).to_pylist() == [str(i) for i in range(1, 6001)]


def test_codes_from_a_sliced_arrow_array_with_nulls():
    values = repeated(3 * N)
    values[N + 3] = None
    array = pa.array(values).slice(N, N)
    get_session().assign("sliced", py2r(array))
    assert in_r("sliced[c(1, 4, 5)]").tolist() == [values[N], None, values[N + 4]]
    assert in_r("length(sliced)") == N


@pytest.mark.parametrize("storage", ["pandas str", "pyarrow", "polars"])
def test_a_frame_s_string_columns_are_hashed_on_worker_threads_while_the_others_are_made(storage, monkeypatch):
    """Frames of Arrow-backed string columns large enough to pay for a thread:
    each is dictionary-encoded ahead, on a worker, while R makes the other
    columns; the columns still come out in order, exactly."""
    n = arrow._AHEAD_MIN_ROWS + 10
    words = [None if i % 101 == 0 else f"w{i % 997}" for i in range(n)]
    other = [f"z{i % 13}é" for i in range(n)]
    threads = []
    encode = arrow._dictionary_encoded

    def dictionary_encoded(array, na):
        import threading

        threads.append(threading.current_thread().name)
        return encode(array, na)

    monkeypatch.setattr(arrow, "_dictionary_encoded", dictionary_encoded)
    columns = {"a": words, "n": list(range(n)), "b": other}
    if storage == "pandas str":
        frame = pd.DataFrame({k: pd.Series(v, dtype="str") if k != "n" else v for k, v in columns.items()})
    else:
        frame = pa.table(columns)
        frame = frame if storage == "pyarrow" else pl.from_arrow(frame)
    session = get_session()
    session.assign("pushed", py2r(frame))
    session.assign("a", made_by_rpy2(words))
    session.assign("b", made_by_rpy2(other))
    assert in_r("identical(names(pushed), c('a', 'n', 'b'))") is True
    assert (
        in_r("identical(pushed$a, a) && identical(pushed$b, b) && identical(pushed$n, 0:(nrow(pushed) - 1L))") is True
    )
    assert len(threads) == 2 and all(name.startswith("rmagic_ext-strings") for name in threads)


def test_a_failing_column_beside_a_string_column_hashed_ahead_is_a_clear_error():
    n = arrow._AHEAD_MIN_ROWS
    frame = pd.DataFrame({"s": pd.Series(repeated(n), dtype="str"), "bad": pd.period_range("2020-01-01", periods=n)})
    with pytest.raises(ConversionError, match="column 'bad' has dtype period"):
        py2r(frame)
    assert in_r("1 + 1") == 2
