"""Measure rmagic_ext and rpy2's rmagic on the same work, in the same run.

Both extensions register ``%R``, so each tool runs in its own fresh Python
process (same R, same data); the parent interleaves the rounds so a busy
machine slows both alike, and reports medians and ratios.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap

TOOLS = {"rmagic_ext": "rmagic_ext", "rpy2": "rpy2.ipython"}

_WORKER = textwrap.dedent("""
    import json, sys, time
    import warnings; warnings.filterwarnings("ignore")
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
    ip.run_line_magic("load_ext", sys.argv[1])
    setup, stmt, number = sys.argv[2], sys.argv[3], int(sys.argv[4])
    exec(setup, ip.user_ns)
    exec(stmt, ip.user_ns)  # warm up: R start, first conversions
    times = []
    for _ in range(number):
        t0 = time.perf_counter()
        exec(stmt, ip.user_ns)
        times.append(time.perf_counter() - t0)
    print(json.dumps(times))
""")


def measure(tool: str, stmt: str, setup: str = "", number: int = 100) -> list[float]:
    """Seconds per execution of ``stmt`` (Python code; ``ip`` is the shell)."""
    out = subprocess.run([sys.executable, "-c", _WORKER, TOOLS[tool], setup, stmt, str(number)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(name: str, stmt: str, setup: str = "", number: int = 100, rounds: int = 3) -> dict:
    """Median seconds for each tool over ``rounds`` interleaved rounds, and the ratio."""
    samples: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    for _ in range(rounds):
        for tool in TOOLS:
            samples[tool] += measure(tool, stmt, setup, number)
    medians = {tool: statistics.median(times) for tool, times in samples.items()}
    return {"case": name, **medians, "ratio": medians["rpy2"] / medians["rmagic_ext"]}


def report(rows: list[dict]) -> None:
    print(f"{'case':<34}{'rmagic_ext':>14}{'rpy2 rmagic':>14}{'speed-up':>10}")
    for row in rows:
        print(f"{row['case']:<34}{_fmt(row['rmagic_ext']):>14}{_fmt(row['rpy2']):>14}"
              f"{row['ratio']:>9.1f}x")


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
