"""Memory soak: push and pull a 100k-row mixed frame many times and report how
much the process's resident memory grew (leaked protected R objects, copies
kept alive, temp files would all show here).

    .venv/bin/python benchmarks/soak.py [cycles] [rows]

Prints one line: cycles, rows, RSS before and after (after a warm-up of 20
cycles and a full gc in both languages), the growth in MB, and temp files
left behind.
"""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pandas as pd
from IPython.testing.globalipapp import start_ipython


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def mixed_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "i": rng.integers(0, 1000, rows),
            "f": rng.random(rows),
            "s": pd.Series([f"s{v}" for v in rng.integers(0, 5000, rows)], dtype="str"),
            "b": rng.random(rows) > 0.5,
            "c": pd.Categorical(rng.choice(["lo", "mid", "hi"], rows)),
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s"),
            "n": pd.array(np.where(rng.random(rows) > 0.1, rng.integers(0, 9, rows), None), dtype="Int64"),
        }
    )


def _files(folders) -> set[str]:
    return {os.path.join(root, name) for folder in folders for root, _, names in os.walk(folder) for name in names}


def settle(ip) -> float:
    ip.run_line_magic("R", "-n invisible(gc())")
    gc.collect()
    return rss_mb()


def soak(cycles: int, rows: int) -> dict:
    ip = start_ipython()
    ip.run_line_magic("load_ext", "rmagic_ext")
    ip.user_ns["soak_df"] = mixed_frame(rows)

    def cycle():
        ip.run_line_magic("Rpush", "soak_df")
        ip.run_line_magic("Rpull", "soak_df")

    for _ in range(20):
        cycle()
    from rmagic_ext.session import get_session

    session = get_session()
    r_tempdir = str(session.run("tempdir()", keep_last=True).value[0])
    ours = [session.tmpdir, r_tempdir]  # this process's files only (others may share /tmp)
    temp_before = _files(ours)
    before = settle(ip)
    for _ in range(cycles):
        cycle()
    after = settle(ip)
    left = _files(ours) - temp_before
    return {
        "cycles": cycles,
        "rows": rows,
        "before_mb": before,
        "after_mb": after,
        "growth_mb": after - before,
        "temp_files_left": sorted(left),
    }


def main(argv: list[str]) -> None:
    cycles = int(argv[0]) if argv else 1000
    rows = int(argv[1]) if len(argv) > 1 else 100_000
    r = soak(cycles, rows)
    print(
        f"soak: {r['cycles']} push+pull cycles of a {r['rows']}-row mixed frame: "
        f"RSS {r['before_mb']:.1f} MB -> {r['after_mb']:.1f} MB, growth {r['growth_mb']:+.1f} MB, "
        f"temp files left {len(r['temp_files_left'])} {r['temp_files_left']}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
