"""Measure rmagic_ext and rpy2's rmagic on the same work, in the same run.

Both extensions register ``%R``, so each tool runs in its own fresh Python
process (same R, same data); the parent interleaves the rounds so a busy
machine slows both alike, and reports medians and ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap

TOOLS = {"rmagic_ext": "rmagic_ext", "rpy2": "rpy2.ipython"}

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

_WORKER = textwrap.dedent("""
    import json, os, sys, threading, time
    import warnings; warnings.filterwarnings("ignore")
    sys.path.insert(0, BENCH_DIR)
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
    ip.run_line_magic("load_ext", sys.argv[1])
    setup, stmt, number, mode = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    ip.user_ns["ip"] = ip
    exec(setup, ip.user_ns)

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    if mode == "memory":  # peak resident memory while stmt runs, sampled every ms
        import gc; gc.collect()
        base, peak, done = rss(), [0], threading.Event()
        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss()); time.sleep(0.001)
        sampler = threading.Thread(target=sample, daemon=True); sampler.start()
        try:
            exec(stmt, ip.user_ns)
        finally:
            done.set(); sampler.join()
        print(json.dumps([max(peak[0], rss()) - base]))
        sys.exit(0)
    exec(stmt, ip.user_ns)  # warm up: R start, first conversions
    times = []
    for _ in range(number):
        t0 = time.perf_counter()
        exec(stmt, ip.user_ns)
        times.append(time.perf_counter() - t0)
    print(json.dumps(times))
""").replace("BENCH_DIR", repr(BENCH_DIR))


def measure(tool: str, stmt: str, setup: str = "", number: int = 100, mode: str = "time") -> list[float]:
    """Seconds per execution of ``stmt`` (Python code; ``ip`` is the shell),
    or with mode="memory" the peak extra resident bytes while it runs once."""
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, TOOLS[tool], setup, stmt, str(number), mode],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(
    name: str,
    stmt: str,
    setup: str = "",
    number: int = 100,
    rounds: int = 3,
    tools=tuple(TOOLS),
    rpy2_number: int | None = None,
) -> dict:
    """Median seconds for each tool over ``rounds`` interleaved rounds, and the
    ratio. ``rpy2_number`` runs rpy2 fewer times where one run takes seconds."""
    samples: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    for _ in range(rounds):
        for tool in tools:
            samples[tool] += measure(tool, stmt, setup, rpy2_number or number if tool == "rpy2" else number)
    medians = {tool: statistics.median(times) if times else None for tool, times in samples.items()}
    ratio = medians["rpy2"] / medians["rmagic_ext"] if medians["rpy2"] else None
    return {"case": name, **medians, "ratio": ratio}


def report(rows: list[dict], title: str = "") -> None:
    if title:
        print(f"\n{title}")
    print(f"{'case':<44}{'rmagic_ext':>12}{'rpy2 rmagic':>13}{'speed-up':>10}")
    for row in rows:
        ratio = f"{row['ratio']:>9.1f}x" if row["ratio"] else f"{'-':>10}"
        print(f"{row['case']:<44}{_fmt(row['rmagic_ext']):>12}{_fmt(row['rpy2']):>13}{ratio}", flush=True)


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
