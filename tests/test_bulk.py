"""The bulk paths (long vectors) give exactly what the element-by-element
paths give: strings with NA, separators, unicode, NUL; numbers; views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmagic_ext import ConversionError, _rapi, py2r, r2py
from rmagic_ext.convert import _bulk
from rmagic_ext.session import get_session

N = 3 * _bulk._PIECE + 17  # several pieces, the last one short


def words(n: int) -> list[str]:
    alphabet = ["a", "é", "日本", "", " ", "x y", "😀", "NA", "tab\t", "line\nbreak"]
    return [alphabet[i % len(alphabet)] + str(i) for i in range(n)]  # all distinct: the whole path


@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_long_string_column_round_trip_with_na(dtype):
    values = words(N)
    for i in (0, 5, N - 1):
        values[i] = None
    series = pd.Series(values, dtype=dtype)
    sexp = py2r(pd.DataFrame({"s": series}))
    get_session().assign("bulk", sexp)
    assert r2py(get_session().run("sum(is.na(bulk$s))", keep_last=True).value) == 3
    assert r2py(get_session().run("bulk$s[2]", keep_last=True).value) == values[1]
    back = r2py(sexp)["s"]
    assert back.isna().tolist() == series.isna().tolist()
    assert back.dropna().tolist() == [v for v in values if v is not None]


def test_trailing_and_leading_empty_strings_survive():
    values = [""] * 3 + words(1000) + [""] * 4
    back = r2py(py2r(values))
    assert back.tolist() == values


def test_strings_holding_the_separator_take_the_slow_path():
    values = words(2000)
    values[10] = "has\x1fseparator"
    assert r2py(py2r(values)).tolist() == values


def test_nul_in_a_long_vector_is_refused():
    values = words(2000)
    values[1500] = "bad\x00"
    with pytest.raises(ConversionError, match="NUL"):
        py2r(values)


def test_long_r_character_vector_with_na_and_separator():
    session = get_session()
    back = r2py(session.run("x <- rep(c('a', NA, 'b\\x1fc', 'é'), 1000); x", keep_last=True).value)
    assert back[:4].tolist() == ["a", None, "b\x1fc", "é"] and len(back) == 4000


def test_long_invalid_utf8_pull_is_a_clear_error():
    with pytest.raises(ConversionError, match="UTF-8"):
        r2py(get_session().run(r'rep("caf\xe9", 2000)', keep_last=True).value)


def test_pulled_doubles_are_read_only_views_that_outlive_r_references():
    session = get_session()
    session.run("big <- as.numeric(1:100000)")
    view = r2py(session.lookup("big"))
    assert not view.flags.writeable and not view.flags.owndata
    session.run("big[1] <- -1; rm(big); invisible(gc())")
    assert view[0] == 1.0 and view[-1] == 100000.0  # R copied before modifying; memory kept alive


def test_numbers_are_written_straight_into_r():
    values = np.arange(-5, 2_000_000, dtype=np.int64)
    get_session().assign("ints", py2r(values))
    assert r2py(
        get_session().run("c(typeof(ints), sum(as.numeric(ints)) == sum(as.numeric(-5:1999999)))", keep_last=True).value
    ).tolist() == ["integer", "TRUE"]


def test_conversions_never_use_rpy2_s_memoryview(monkeypatch, session):
    """rpy2's memoryview() drops a reference to None on every call, which
    crashes the process after enough of them (on Python < 3.12, where None
    is not immortal; counting None's references cannot show it on newer
    Pythons). Our views read R's memory themselves: with rpy2's helper made
    to fail, every numeric conversion still works."""

    def refuse(*args, **kwargs):
        raise AssertionError("rpy2's vector_memoryview was called")

    monkeypatch.setattr(session.ri, "vector_memoryview", refuse)
    frame = pd.DataFrame(
        {
            "f": np.arange(10.0),
            "i": np.arange(10),
            "b": np.arange(10) > 4,
            "c": pd.Categorical(list("ab") * 5),
            "t": pd.date_range("2024-01-01", periods=10, unit="us"),
        }
    )
    back = r2py(py2r(frame))
    pd.testing.assert_frame_equal(back[["f", "i"]], frame[["f", "i"]], check_dtype=False)
    assert r2py(py2r(np.arange(5.0))).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_strings_past_r_s_limit_of_one_string_go_in_several_buffers(monkeypatch):
    values = words(N)
    for end_of_piece in (_bulk._PIECE - 1, 2 * _bulk._PIECE - 1):
        values[end_of_piece] = values[end_of_piece - 1] = ""  # trailing empties of a buffer
    values[_bulk._PIECE] = None
    one_piece = len(_bulk._SEPARATOR.join(v or "" for v in values[: _bulk._PIECE]).encode())
    monkeypatch.setattr(_bulk, "MAX_R_STRING", int(one_piece * 1.5))  # one piece per buffer
    buffers = []
    monkeypatch.setattr(_rapi, "utf8_string", lambda b, made=_rapi.utf8_string: buffers.append(len(b)) or made(b))
    back = r2py(py2r(pd.Series(values, dtype=object)))
    assert len(buffers) == 3  # the short last piece joins the third
    assert [None if pd.isna(v) else v for v in back.tolist()] == values
