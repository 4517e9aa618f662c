"""Each reproducer of the hostile-input report: what used to crash the
process, change a value silently or end in an internal traceback now gives
the exact value back or one documented, one-line error."""

from __future__ import annotations

import subprocess
import tempfile
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from helpers import R
from rmagic_ext import ConversionError, ConversionWarning, RError, RParseError, py2r, r, r2py


def roundtrip(value):
    return r2py(py2r(value))


# -- names R cannot have: once a crash in Rf_install ------------------------------------

LONG = "a" * 10_001


@pytest.mark.parametrize("line", [f"-i {LONG}=x 1", f"-o {LONG} 1"])
def test_an_overlong_name_in_a_magic_is_a_usage_error(ip, line):
    ip.user_ns["x"] = 1
    with pytest.raises(UsageError, match="at most 10000 characters"):
        R(ip, line)


@pytest.mark.parametrize("magic, line", [("Rpush", f"{LONG}=x"), ("Rpull", LONG), ("Rget", LONG)])
def test_an_overlong_name_in_push_pull_get_is_a_usage_error(ip, magic, line):
    ip.user_ns["x"] = 1
    with pytest.raises(UsageError, match="at most 10000 characters"):
        ip.run_line_magic(magic, line)


@pytest.mark.parametrize("name", ["", LONG, "x\x00y", "a\udc80"])
def test_names_r_cannot_have_are_refused_by_r_object(name):
    with pytest.raises(ConversionError, match="not a name R accepts"):
        r[name] = 5
    with pytest.raises(KeyError):
        r[name]
    with pytest.raises(KeyError):
        del r[name]
    assert "x" not in dir(r)  # "x\x00y" did not bind x


# -- interrupts and restarts -------------------------------------------------------------


def test_the_abort_restart_ends_the_cell_with_an_r_error(ip):
    with pytest.raises(RError, match="abort"):
        ip.run_cell_magic("R", "", 'ran <- TRUE\ninvokeRestart("abort")\nnot_reached <- TRUE')
    assert R(ip, "c(exists('ran'), exists('not_reached'))").tolist() == [True, False]


# -- values that used to change silently ---------------------------------------------------


def test_a_pulled_na_mask_survives_a_push(ip):
    b = R(ip, "c(TRUE, NA)")
    assert isinstance(b, np.ma.MaskedArray)
    ip.user_ns["b"] = b
    ip.run_line_magic("Rpush", "b")
    assert R(ip, "is.na(b)").tolist() == [False, True]


@pytest.mark.parametrize(
    "array, r_na",
    [
        (np.ma.masked_array([1.5, 2.5], mask=[1, 0]), [True, False]),
        (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), [False, True, False]),
        (np.ma.masked_array([1, 2], mask=[1, 1]), [True, True]),
        (np.ma.masked_array([True, False], mask=[0, 1]), [False, True]),
        (np.ma.masked_array(np.array(["a", "b"], dtype=object), mask=[1, 0]), [True, False]),
        (np.ma.masked_array(np.array(["a", "b"]), mask=[0, 1]), [False, True]),
    ],
)
def test_masked_positions_are_na_in_r(ip, array, r_na):
    ip.user_ns["m"] = array
    ip.run_line_magic("Rpush", "m")
    assert R(ip, "is.na(m)").tolist() == r_na
    back = R(ip, "m")
    present = ~np.array(r_na)
    assert np.asarray(np.ma.getdata(back))[present].tolist() == np.ma.getdata(array)[present].tolist()


def test_a_masked_matrix_keeps_its_shape_and_mask(ip):
    ip.user_ns["m"] = np.ma.masked_array(np.arange(6).reshape(2, 3), mask=[[0, 1, 0], [0, 0, 1]])
    ip.run_line_magic("Rpush", "m")
    assert R(ip, "dim(m)").tolist() == [2, 3]
    assert R(ip, "which(is.na(m))").tolist() == [3, 6]


def test_a_dict_with_an_empty_key_is_refused():
    with pytest.raises(ConversionError, match="empty key"):
        py2r({"": 1})


def test_an_index_beyond_r_integers_says_it_becomes_text():
    frame = pd.DataFrame({"a": [1, 2]}, index=[2**40, 2**41])
    with pytest.warns(ConversionWarning, match="character row names"):
        back = roundtrip(frame)
    assert back.index.tolist() == [str(2**40), str(2**41)]


def test_a_zero_row_frame_keeps_a_range_index():
    back = roundtrip(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert isinstance(back.index, pd.RangeIndex) and len(back) == 0 and list(back.columns) == ["a"]


def test_multiindex_columns_are_refused_not_flattened():
    frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "m"), ("a", "n")]))
    with pytest.raises(ConversionError, match="MultiIndex columns"):
        py2r(frame)


# -- internal tracebacks that are now clear errors or right values ----------------------------


def test_bytes_encoded_strings_are_a_clear_error(ip):
    with pytest.raises(ConversionError, match="marked as bytes"):
        R(ip, "x <- 'é'; Encoding(x) <- 'bytes'; x")


def test_a_factor_without_levels_is_a_clear_error(ip):
    with pytest.raises(ConversionError, match="not a valid factor"):
        R(ip, 'structure(3L, class = "factor")')


def test_a_date_before_year_one_comes_back_as_a_timestamp(ip, python_shapes):
    value = R(ip, 'as.Date(-1e6, origin = "1970-01-01")')
    assert isinstance(value, pd.Timestamp) and value.year == -768
    assert R(ip, 'as.Date("2024-03-01")').isoformat() == "2024-03-01"


def test_datetimes_in_several_time_zones_become_utc_instants(ip):
    stamps = pd.Series(
        [pd.Timestamp("2024-01-01 12:00", tz="UTC"), pd.Timestamp("2024-01-01 12:00", tz="Europe/Paris")], dtype=object
    )
    with pytest.warns(ConversionWarning, match="several time zones"):
        ip.user_ns["s"] = stamps
        ip.run_line_magic("Rpush", "s")
    assert R(ip, "as.numeric(s)").tolist() == [t.timestamp() for t in stamps]


def test_a_series_with_a_multiindex_is_refused():
    with pytest.raises(ConversionError, match="MultiIndex"):
        py2r(pd.Series([1, 2], index=pd.MultiIndex.from_tuples([(1, "a"), (2, "b")])))


@pytest.mark.parametrize("kind", [np.datetime64, np.timedelta64])
def test_a_unitless_nat_is_na(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # newer numpy deprecates unitless timedeltas
        nat = kind("NaT")
    assert roundtrip(nat) is None


def test_bytes_that_are_not_utf8_are_a_clear_error():
    with pytest.raises(ConversionError, match="not UTF-8"):
        py2r(np.array([b"\xff"]))
    assert roundtrip(np.array([b"ok", b"fine"])).tolist() == ["ok", "fine"]


def test_lone_surrogates_are_clear_errors(ip):
    with pytest.raises(ConversionError, match="lone surrogate"):
        py2r("a\udc80")
    with pytest.raises(ConversionError, match="lone surrogate"):
        py2r(["ok"] * 600 + ["\ud800"])  # the bulk path
    with pytest.raises(RParseError, match="line 2, column 7"):
        ip.run_cell_magic("R", "", "x <- 1\ny <- '\udc80'")
    with pytest.raises(UsageError):
        ip.run_line_magic("Rpush", "\udc80")


# -- crashes seen from a child process ----------------------------------------------------------


def test_r_started_from_a_thread_then_deep_recursion_on_the_main_thread_is_an_error():
    """R's C stack check used to be on only when R started on the main thread."""
    code = textwrap.dedent("""
        import threading
        from rmagic_ext import RError, r
        from rmagic_ext.session import get_session
        t = threading.Thread(target=lambda: r("1"))
        t.start(); t.join()
        try:
            get_session().run("options(expressions = 5e5); g <- function(n) lapply(n + 1, g); g(1)")
        except RError as e:
            print("RError", "C stack" in e.message)
        print(r("1L + 1L"))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["RError", "True", "2"]


def test_no_warning_escapes_as_an_error_from_these_conversions():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert roundtrip([1, 2, 3]) is not None


# -- nothing left behind -------------------------------------------------------------------------


def test_a_normal_exit_removes_our_folder_and_r_s_temp_folder(tmp_path):
    code = (
        "from pathlib import Path; from rmagic_ext import r; from rmagic_ext.session import get_session\n"
        "r('writeLines(\"x\", tempfile())')\n"
        "print(r('tempdir()')); print(get_session().tmpdir)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    folders = done.stdout.split()
    assert len(folders) == 2 and not any(Path(f).exists() for f in folders)


def test_folders_of_a_killed_process_are_removed_at_the_next_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    r_tmp = Path(tempfile.gettempdir()) / f"RtmpRmagicTest{dead.pid}"
    ours = Path(tempfile.gettempdir()) / f"rmagic_ext-{dead.pid}-left"
    for folder in (r_tmp, ours):
        folder.mkdir(exist_ok=True)
    (ours / "r-tempdir").write_text(str(r_tmp))
    done = subprocess.run(
        [sys.executable, "-c", "from rmagic_ext import r; r('1')"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not ours.exists() and not r_tmp.exists()


def test_an_orphan_whose_note_cannot_be_read_does_not_stop_the_start():
    """Two processes starting at once (a spawn pool's workers) clean the same
    orphans: one found the note, the other removed it before it was read.
    A note that is gone, a folder or not text is the same case: no note."""
    from rmagic_ext.session import _remove_orphans

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    half_removed = Path(tempfile.gettempdir()) / f"rmagic_ext-{dead.pid}-half"
    half_removed.mkdir(exist_ok=True)
    (half_removed / "r-tempdir").write_bytes(b"\xff\xfe/tmp/Rtmp")
    _remove_orphans()
    assert not half_removed.exists()


def test_names_marked_as_bytes_are_a_clear_error_not_a_crash(ip):
    """R >= 4.5 raises from C when such strings are read: never let rpy2 read them."""
    with pytest.raises(ConversionError, match="marked as bytes"):
        R(ip, "x <- list(1); n <- 'é'; Encoding(n) <- 'bytes'; names(x) <- n; x")
    with pytest.raises(ConversionError, match="marked as bytes"):
        R(ip, "d <- data.frame(a = 1); n <- 'é'; Encoding(n) <- 'bytes'; names(d) <- n; d")
    with pytest.raises(ConversionError, match="marked as bytes"):
        R(ip, "x <- rep('é', 600); Encoding(x) <- 'bytes'; x")


def test_times_of_any_unit_convert_exactly_or_say_why(ip):
    """Times in units other than s/ms/us/ns went through a cast to ns that
    overflowed: numpy < 2.5 wrapped the values around without a word."""
    import numpy as np
    from rmagic_ext import r

    r.x = np.array([5, 36, "NaT"], dtype="timedelta64[h]")
    assert r("as.numeric(x)").tolist()[:2] == [5 * 3600.0, 36 * 3600.0] and r("is.na(x[3])")
    r.x = np.array(["2020-01-01T01"], dtype="datetime64[h]")
    assert str(r("x")) == "2020-01-01 01:00:00"
    for bad, why in (
        (np.array(293, dtype="timedelta64[Y]"), "a year is no fixed number of seconds"),
        (np.array([10**18], dtype="datetime64[m]"), "cannot hold exactly"),
    ):
        with pytest.raises(ConversionError, match=why):
            r.x = bad
    r.x = np.array([10**15], dtype="timedelta64[D]")  # R holds it; numpy's microseconds cannot
    assert r("as.numeric(x)") == 10**15 * 86400.0
    with pytest.raises(ConversionError, match="beyond what numpy's microsecond times hold"):
        r.x


def test_a_background_colour_with_nul_is_refused_where_it_is_set(ip):
    """R reads a colour up to its first NUL: "a\\0b" would silently draw on
    another background."""
    with pytest.raises(UsageError, match=r"-b/--bg: a colour cannot hold a NUL byte"):
        ip.run_line_magic("R", "-b 'whi\x00te' plot(1)")
    magics = ip.magics_manager.registry["RMagics"]
    for trait in ("bg", "r_library", "cran_mirror"):
        before = getattr(magics, trait)
        try:
            ip.run_line_magic("config", f"RMagics.{trait} = 'a\\x00b'")  # IPython reports the TraitError in one line
            assert getattr(magics, trait) == before
        finally:
            ip.config.RMagics.pop(trait, None)  # %config keeps what it was given, even when refused


def test_a_python_error_whose_message_holds_nul_reaches_r_with_its_message(ip):
    ip.user_ns["fails_with_nul"] = lambda: (_ for _ in ()).throw(ValueError("before\x00after"))
    with pytest.raises(RError, match=r"ValueError: before\\x00after"):
        ip.run_line_magic("R", "py$fails_with_nul()")
    assert R(ip, "tryCatch(py$fails_with_nul(), error = conditionMessage)").tolist() == ["ValueError: before\\x00after"]
    assert R(ip, "1L + 1L").tolist() == [2]
