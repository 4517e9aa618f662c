"""R in a notebook as IRkernel users know it (issue 16), in real kernels:
help as HTML, inspection, IRkernel's display protocol and widgets, plots from
Python code and from both languages in order, text in the order R wrote it."""

from __future__ import annotations

import pytest

from kernel_helpers import Kernel


def merged_streams(run) -> list[tuple[str, str]]:
    """The cell's stream output as (stream, text) runs, consecutive chunks of
    one stream joined (how the front end shows them)."""
    runs: list[tuple[str, str]] = []
    for name, text in run.streams:
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + text)
        else:
            runs.append((name, text))
    return runs


def test_stdout_and_stderr_keep_the_order_r_wrote_them(kernel):
    run = kernel.execute('%%R\nfor (i in 1:3) { cat("out", i, "\\n"); message("msg ", i) }')
    assert run.error is None
    assert merged_streams(run) == [("stdout", "out 1 \n"), ("stderr", "msg 1\n"),
                                   ("stdout", "out 2 \n"), ("stderr", "msg 2\n"),
                                   ("stdout", "out 3 \n"), ("stderr", "msg 3\n")]


def test_r_started_from_a_thread_gives_no_false_ctrl_c_warning():
    fresh = Kernel()
    try:
        run = fresh.execute("import threading\n"
                            "from rmagic_ext import r\n"
                            "t = threading.Thread(target=lambda: r('1')); t.start(); t.join()\n"
                            "print(r('2L'))")
        assert run.error is None, run.error
        assert run.text() == "2\n"
        assert "Ctrl-C" not in run.text("stderr") and "main thread" not in run.text("stderr")
        assert fresh.execute("%load_ext rmagic_ext").error is None
        assert fresh.interrupt("%R while (TRUE) {}", after=1.0, reply_within=10)["ename"] == "RInterrupt"
    finally:
        fresh.shutdown()
