"""Reliability in one process: interrupts, fatal paths, odd text, threads."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from rmagic_ext import ConversionError, RError, RInterrupt, py2r, r2py
from rmagic_ext.session import scalar


def interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize(
    "code",
    [
        "while (TRUE) {}",
        "Sys.sleep(30)",
        "x <- 0; for (i in 1:1e9) x <- x + 1",
        "repeat sum(runif(1e5))",
    ],
)
def test_sigint_stops_r_and_keeps_state(session, code):
    session.run("kept <- 'still here'; library(stats)")
    interrupt_after(0.5)
    with pytest.raises(RInterrupt):
        session.run(code)
    assert r2py(session.run("kept", keep_last=True).value) == "still here"
    assert r2py(session.run("1 + 1", keep_last=True).value) == 2.0


def test_interrupt_is_a_keyboard_interrupt(session):
    interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        session.run("Sys.sleep(10)")


def test_sigint_while_python_runs_between_r_calls_ends_the_cell(session):
    """A SIGINT that lands while Python shows a value still stops the cell."""

    def slow_show(value):
        time.sleep(0.6)

    interrupt_after(0.2)
    with pytest.raises(RInterrupt):
        session.run("1\n2\n3", show=slow_show)
    session.run("ok <- TRUE")  # and no interrupt is left pending for the next cell
    assert r2py(session.run("ok", keep_last=True).value) is True


def test_sigint_stops_a_long_conversion_and_binds_nothing(ip):
    ip.user_ns["many"] = list(range(3_000_000)) + ["mixed"]  # converted element by element
    ip.user_ns["first"] = 1.5
    interrupt_after(0.3)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ip.run_line_magic("Rpush", "first many")
    assert time.monotonic() - started < 5
    assert ip.run_line_magic("R", "c(exists('first'), exists('many'))").tolist() == [False, False]
    assert ip.run_line_magic("R", "1L") == 1


def test_default_sigint_handler_is_restored(session):
    before = signal.getsignal(signal.SIGINT)
    session.run("x <- 1")
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("code", ["q()", "quit(save = 'no')", "base::q()", "base::quit(status = 1)"])
def test_quit_is_refused(session, code):
    with pytest.raises(RError, match="would end the Python kernel") as info:
        session.run(code)
    assert info.value.classes[0] == "rmagic_ext_quit"
    assert r2py(session.run("'alive'", keep_last=True).value) == "alive"


def test_infinite_recursion_is_an_r_error_with_a_short_stack(session):
    # Which limit R meets first, its expression depth or the C stack, depends
    # on how much stack the caller already uses; both are R errors.
    with pytest.raises(RError, match="nested too deeply|infinite recursion|C stack") as info:
        session.run("f <- function(n) f(n + 1)\nf(1)")
    assert info.value.render().count("\n") < 30
    assert r2py(session.run("'alive'", keep_last=True).value) == "alive"


def test_a_long_r_stack_is_shown_by_its_ends():
    err = RError("deep", "f(n + 1)", tuple(f"f({i})" for i in range(500)))
    rendered = err.render()
    assert "f(0)" in rendered and "f(499)" in rendered and "480 more frames" in rendered
    assert rendered.count("\n") == 22


# Recursion through C code (lapply) uses C stack at every level on every R;
# R >= 4.5 stops plain R recursion earlier, on its own node stack.
C_RECURSION = "g <- function(n) lapply(n + 1, g)"


def test_c_stack_overflow_is_an_r_error(session):
    try:
        with pytest.raises(RError, match="C stack"):
            session.run(f"options(expressions = 5e5)\n{C_RECURSION}\ng(1)")
    finally:
        session.run("options(expressions = 5000)")
    assert r2py(session.run("'alive'", keep_last=True).value) == "alive"


def test_rlang_abort_keeps_message_and_class(session):
    with pytest.raises(RError) as info:
        session.run('rlang::abort("Column `x` is missing.", class = "my_pkg_error")')
    assert "Column `x` is missing." in info.value.message
    assert info.value.classes[:2] == ("my_pkg_error", "rlang_error")


def test_error_in_function_from_an_earlier_cell_points_at_that_cell(session):
    session.run("helper <- function(x) {\n  x + 1\n  stop('bad input: ', x)\n}", name="In[3]")
    with pytest.raises(RError) as info:
        session.run("helper(2)", name="In[4]")
    assert info.value.r_traceback == ("helper(2)", 'stop("bad input: ", x) at In[3]#3')


def test_invalid_utf8_output_is_shown_escaped(session, capsys):
    session.run(r'cat("caf\xe9 ok\n")')
    assert capsys.readouterr().out == "caf\\xe9 ok\n"


def test_multibyte_text_split_across_writes_is_intact(session, capsys):
    session.run('cat(strrep("é", 10000), "\\n")')
    assert capsys.readouterr().out == "é" * 10000 + " \n"


def test_invalid_utf8_string_pull_is_a_clear_error(session):
    with pytest.raises(ConversionError, match="not valid UTF-8.*iconv"):
        r2py(session.run(r'"caf\xe9"', keep_last=True).value)


def test_latin1_strings_convert_exactly(session):
    assert r2py(session.run('iconv("café", "UTF-8", "latin1")', keep_last=True).value) == "café"


@pytest.mark.parametrize(
    "value", ["a\x00b", ["ok", "x\x00"], pd.DataFrame({"s": ["\x00"]}), np.array(["\x00z"], dtype=object)]
)
def test_embedded_nul_is_refused(value):
    with pytest.raises(ConversionError, match="NUL"):
        py2r(value)


def test_threads_are_serialised_with_the_main_thread(session):
    session.run("log <- character()")
    errors = []

    def worker(tag):
        try:
            for i in range(15):
                session.run(f"log <- c(log, '{tag}{i}')")
                py2r(pd.DataFrame({"a": range(100)}))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for i in range(15):
        session.run(f"log <- c(log, 'm{i}')")
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert r2py(session.run("length(log)", keep_last=True).value) == 60


def run_in_thread(session, code):
    result = {}

    def worker():
        try:
            result["value"] = r2py(session.run(code, keep_last=True).value)
        except Exception as exc:
            result["error"] = exc

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    return result


def test_recursion_in_a_thread_is_measured_against_that_threads_stack(session):
    """R's C stack check is pointed at the calling thread's own stack: moderate
    recursion works there, runaway recursion is an R error, not a crash."""
    session.run("depth <- function(n) if (n == 0) 0 else 1 + lapply(n - 1, depth)[[1]]")
    assert run_in_thread(session, "depth(300)") == {"value": 300.0}
    result = run_in_thread(session, "depth(1e5)")
    assert isinstance(result.get("error"), RError) and "C stack" in result["error"].message
    assert r2py(session.run("depth(10)", keep_last=True).value) == 10.0  # main thread unharmed


def test_magics_from_a_thread(ip):
    ip.user_ns["from_thread"] = [1, 2, 3]
    out = {}
    t = threading.Thread(target=lambda: out.update(v=ip.run_line_magic("R", "-i from_thread sum(from_thread)")))
    t.start()
    t.join(60)
    assert out == {"v": 6}


def test_subprocesses_are_not_broken_by_r_library_path(session):
    """Starting R must not leave R's library folders in LD_LIBRARY_PATH for
    every later subprocess (a notebook's `!python ...`)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import ssl, sqlite3; print('ok')"], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert "/usr/lib/R/lib" not in os.environ.get("LD_LIBRARY_PATH", "")


def test_sigint_stops_a_display_function(ip):
    ip.user_ns["slow_display"] = lambda value, args: time.sleep(30)
    interrupt_after(0.5)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("R", "-d slow_display", "1")
    assert time.monotonic() - started < 5
    assert ip.run_line_magic("R", "1L") == 1


def test_a_time_limit_reached_between_calls_is_an_r_error_and_r_goes_on(session):
    """R checks its time limits when it next processes events, which may be
    while our handlers are being set up for the next call: still an RError
    (R's message, no call of ours), once, and R goes on."""
    try:
        session.run("setTimeLimit(elapsed = 0.5); Sys.sleep(1)")
    except RError as exc:  # where R's check fell inside the call
        assert "reached elapsed time limit" in exc.message
    errors = []
    for _ in range(5):
        try:
            assert scalar(session.run("1L", keep_last=True).value) == 1
        except RError as exc:
            errors.append(exc)
    assert len(errors) <= 1
    assert all(e.message == "reached elapsed time limit" and e.call == "" for e in errors)
    session.run("setTimeLimit()")
