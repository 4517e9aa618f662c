"""Reliability through a real kernel: Interrupt, q(), runaway recursion,
threads and huge output must all leave the kernel and its state alive."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def state_before(kernel):
    assert kernel.execute("%R before <- 'kept'").error is None


def assert_alive_with_state(kernel):
    run = kernel.execute("%R before")
    assert run.error is None
    assert run.messages[-1]["content"]["data"]["text/plain"] == "array(['kept'], dtype=object)"


def interrupt_cell(kernel, code, wait=1.0):
    return kernel.interrupt(code, after=wait, reply_within=5)  # the promise: a reply within 5 s


@pytest.mark.parametrize(
    "code",
    ["%%R\nwhile (TRUE) {}", "%%R\nSys.sleep(60)", "%%R\nx <- 0\nfor (i in 1:1e9) x <- x + i"],
    ids=["while", "sleep", "for"],
)
def test_interrupt_stops_r_and_keeps_the_kernel(kernel, code):
    reply = interrupt_cell(kernel, code)
    assert reply["status"] == "error"
    assert reply["ename"] == "RInterrupt"
    assert any("KeyboardInterrupt" in line for line in reply["traceback"])
    assert_alive_with_state(kernel)


def test_interrupt_during_python_side_of_a_cell(kernel):
    reply = interrupt_cell(kernel, "import time\nfor _ in range(600): time.sleep(0.1)", wait=0.5)
    assert reply["ename"] == "KeyboardInterrupt"
    assert_alive_with_state(kernel)


@pytest.mark.parametrize(
    "code",
    ["%%R\nx <- 1\n\x00\n", "%%R\npaste('a\x00b')", "%R -w inf plot(1)"],
    ids=["nul-line", "nul-in-string", "infinite-size"],
)
def test_a_nul_byte_or_an_impossible_size_is_an_error_and_the_kernel_lives(kernel, code):
    run = kernel.execute(code)
    assert run.error["ename"] in ("RParseError", "UsageError"), run.error
    assert len(run.error["traceback"]) <= 2  # one line (and R's detail), no Python frames
    assert_alive_with_state(kernel)


def test_quit_is_refused_and_the_kernel_lives(kernel):
    run = kernel.execute("%%R\nq()")
    assert run.error["ename"] == "RError" and "would end the Python kernel" in run.error["evalue"]
    assert_alive_with_state(kernel)


def test_runaway_recursion_is_an_error_not_a_crash(kernel):
    run = kernel.execute("%%R\nf <- function(n) f(n + 1)\nf(1)")
    assert run.error["ename"] == "RError"
    # through C code (lapply), which uses C stack at every level on every R
    run = kernel.execute("%%R\noptions(expressions = 5e5)\ng <- function(n) lapply(n + 1, g)\ng(1)")
    assert run.error["ename"] == "RError" and "C stack" in run.error["evalue"]
    kernel.execute("%R options(expressions = 5000)")
    assert_alive_with_state(kernel)


def test_threads_calling_r_in_the_kernel(kernel):
    run = kernel.execute(
        "import threading\n"
        "from rmagic_ext.session import get_session\n"
        "results = []\n"
        "def work(i):\n"
        "    results.append(get_session().run(f'sum(1:{i})', keep_last=True).value[0])\n"
        "threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 9)]\n"
        "[t.start() for t in threads]\n"
        "%R -n for (k in 1:20) Sys.sleep(0.01)\n"
        "[t.join() for t in threads]\n"
        "print(sorted(results))"
    )
    assert run.error is None
    assert run.text() == "[1, 3, 6, 10, 15, 21, 28, 36]\n"
    assert_alive_with_state(kernel)


def test_ten_megabytes_of_output_stream_through(kernel):
    run = kernel.execute('%%R\nfor (i in 1:10000) cat(strrep("x", 1023), "\\n", sep = "")', timeout=120)
    assert run.error is None
    assert len(run.text()) == 10000 * 1024
    assert_alive_with_state(kernel)


# Long work of every kind, each interrupted at several moments: the cell
# ends with KeyboardInterrupt (RInterrupt is one) within the 5 s promised,
# never an R error, never a finished cell, and the kernel keeps its state.
HEAVY_SETUP = (
    "import numpy as np, pandas as pd\nfrom rmagic_ext import r\n"
    "big = pd.DataFrame({'s': np.arange(1_000_000).astype(str), 'f': np.arange(1_000_000.0)})\n"
    "%R big_r <- data.frame(s = as.character(1:1e6), f = as.numeric(1:1e6))\n"
    "rr = lambda code: r(code)"
)
HEAVY = {
    "push": "for _ in range(60):\n    %Rpush big",
    "pull": "for _ in range(60):\n    pulled = %Rget big_r",
    "display": "%%R\n" + "mtcars\n" * 3000,
    "nested": "%%R\nfor (i in 1:1e6) py$rr('1 + 1')",
}


@pytest.fixture(scope="module")
def heavy(kernel):
    assert kernel.execute(HEAVY_SETUP, timeout=120).error is None


@pytest.mark.parametrize("after", [0.4, 0.9, 1.6])
@pytest.mark.parametrize("work", sorted(HEAVY))
def test_interrupting_heavy_work_at_any_moment(kernel, heavy, work, after):
    reply = interrupt_cell(kernel, HEAVY[work], wait=after)
    assert reply["status"] == "error", reply
    assert reply["ename"] in ("RInterrupt", "KeyboardInterrupt"), (reply["ename"], reply["evalue"])
    assert_alive_with_state(kernel)
