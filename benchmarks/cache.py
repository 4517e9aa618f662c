"""Cached cells: what a hit, a lookup and a miss cost, each beside the
cell's own run time measured in the same run.

    make bench          # or: .venv/bin/python benchmarks/cache.py

- a hit of a cell that makes a 1M-row data frame and a plot, against the
  cell's own run;
- looking a cell up (its key) when it reads a 1M-row frame through -i, and
  through an R global;
- the extra cost of a miss (key, then storing) on a 2-second cell.
Ends with the targets of issue 37, each marked met or missed.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

ROUNDS = 5

MAKES_FRAME = """big <- data.frame(id = seq_len(1e6), x = rnorm(1e6), g = sample(letters, 1e6, TRUE))
plot(big$x[1:2000])"""


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output

    from harness import _fmt
    from rmagic_ext import cache

    os.chdir(tempfile.mkdtemp(prefix="rmagic_ext-cache-bench-"))
    ip = start_ipython()
    ip.run_line_magic("load_ext", "rmagic_ext")
    magics = ip.magics_manager.registry["RMagics"]

    def cell(line: str, code: str) -> None:
        with capture_output():
            ip.run_cell_magic("R", line, code)

    cell("", "set.seed(1)")
    own = statistics.median(timed(lambda: cell("", "set.seed(1)\n" + MAKES_FRAME)) for _ in range(ROUNDS))
    cell("--cache frame", "set.seed(1)\n" + MAKES_FRAME)
    hits = [timed(lambda: cell("--cache frame", "set.seed(1)\n" + MAKES_FRAME)) for _ in range(ROUNDS)]
    hit = statistics.median(hits)

    ip.user_ns["frame"] = pd.DataFrame({"a": np.arange(1_000_000), "b": np.random.default_rng(1).random(1_000_000)})
    cell("-i frame", "n <- nrow(frame)")
    request = cache.Request(name="lookup", code="n <- nrow(frame)", options="", inputs=["frame"])
    by_input = statistics.median(timed(lambda: cache.key_parts(request, ip.user_ns)) for _ in range(ROUNDS))
    cell("", "global_frame <- frame")
    request = cache.Request(name="lookup", code="n <- nrow(global_frame)", options="", inputs=[])
    by_global = statistics.median(timed(lambda: cache.key_parts(request, ip.user_ns)) for _ in range(ROUNDS))

    slow = "Sys.sleep(2)\nresult <- sum(seq_len(1e5))"
    plain = statistics.median(timed(lambda: cell("", slow)) for _ in range(3))
    misses = []
    for i in range(3):
        misses.append(timed(lambda i=i: cell(f"--cache miss{i} --cache-rerun", slow)))
    miss = statistics.median(misses)
    overhead = (miss - plain) / plain

    print("Cached cells (a fresh cache folder), median of rounds")
    print(f"  cell making a 1M-row frame and a plot, run     {_fmt(own):>12}")
    print(f"  the same cell served from cache                 {_fmt(hit):>12}   ({own / hit:.0f}x faster)")
    print(f"  looking up a cell reading a 1M-row frame by -i  {_fmt(by_input):>12}")
    print(f"  ... reading it as an R global                   {_fmt(by_global):>12}")
    print(f"  a 2-second cell, run                            {_fmt(plain):>12}")
    print(f"  ... run and stored (a miss)                     {_fmt(miss):>12}   (+{overhead:.1%})")
    targets = [
        ("a hit of a 1M-row frame and a plot <= 0.2 s", hit <= 0.2, _fmt(hit)),
        ("lookup with a 1M-row -i frame <= 50 ms", by_input <= 0.05, _fmt(by_input)),
        ("lookup with a 1M-row R global <= 50 ms", by_global <= 0.05, _fmt(by_global)),
        ("extra cost of a miss <= 10% of a 2-second cell", overhead <= 0.10, f"{overhead:.1%}"),
    ]
    print("\nTargets (issue 37)")
    for name, met, shown in targets:
        print(f"  {'met   ' if met else 'MISSED'} {name}: {shown}")
    magics.cache_dir = ".rmagic_cache"


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
