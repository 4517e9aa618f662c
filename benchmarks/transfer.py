"""Transfer speed: rmagic_ext against rpy2's rmagic, each through its own
magics (``%Rpush x``, ``%R -o x``), on the same data in the same run.

    make bench          # or: .venv/bin/python benchmarks/transfer.py [--quick]

Prints medians and ratios for: a 10M float64 vector pushed again and again
to one name (a numpy copy for scale) and to a new name each time (R's own
copy for scale), the 1M-row frame of data.py whole and column by column, the
string column against R's own strsplit of the same strings, a trivial cell,
the frame pushed from pandas with NumPy or Arrow storage, pyarrow and polars
and pulled as each kind of frame, the peak extra memory of a push, and how
time grows from 10k to 10M rows.
Ends with the targets of the issue, each marked met or missed.
"""

from __future__ import annotations

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from data import COLUMNS, STORAGES, frame, frame_bytes  # noqa: E402
from harness import _fmt, compare, measure, report  # noqa: E402

QUICK = "--quick" in sys.argv
PUSH = 'ip.run_line_magic("Rpush", "df")'
PULL = 'ip.run_line_magic("R", "-o df")'
# Put a Python value into R without the tool under test, so pulls are timed alone.
IN_R = ("from rmagic_ext import py2r\nfrom rmagic_ext.session import get_session\n"
        "get_session().globalenv['df'] = py2r(df)\ndel df\n")


def data(rows: int, column: str | None = None) -> str:
    pick = f"[[{column!r}]]" if column else ""
    return f"from data import frame\ndf = frame({rows}){pick}\n"


def vector_cases() -> list[dict]:
    vector = "import numpy as np\ndf = np.random.default_rng(0).random(10_000_000)\n"
    rows = [compare("10M float64: %Rpush", PUSH, vector, number=10, rounds=3)]
    rows.append({"case": "   numpy copy of the same array", "rmagic_ext": numpy_copy_seconds(vector),
                 "rpy2": None, "ratio": None})
    # Each push kept under its own name: every one takes fresh memory from R,
    # and R's garbage collector runs as its heap grows, as for R's own copies.
    rows.append(compare("10M float64: %Rpush to a new name each time",
                        'n += 1; ip.run_line_magic("Rpush", f"v{n}=df")', vector + "n = 0\n",
                        number=10, rounds=3, tools=("rmagic_ext",)))
    times = []
    for _ in range(3):
        times += measure("rmagic_ext", 'n += 1; ip.run_cell_magic("R", "", f"v{n} <- df + 0")',
                         vector + 'n = 0\nip.run_line_magic("Rpush", "df")\n', number=10)
    rows.append({"case": "   R's own copy to a new name each time", "rmagic_ext": statistics.median(times),
                 "rpy2": None, "ratio": None})
    for n in ([1_000, 10_000_000] if QUICK else [1_000, 1_000_000, 10_000_000]):
        rows.append(compare(f"{n:,} float64: %R -o", PULL, f"import numpy as np\ndf = np.random.default_rng(0).random({n})\n" + IN_R,
                            number=10, rounds=2))
    return rows


def numpy_copy_seconds(setup: str) -> float:
    """A numpy copy timed in the same kind of process as the push (R loaded,
    same allocator state), three rounds like the push itself."""
    times = []
    for _ in range(3):
        times += measure("rmagic_ext", "df.copy()", setup, number=10)
    return statistics.median(times)


def frame_cases() -> list[dict]:
    heavy = dict(number=1, rounds=1)
    rows = [compare("1M-row frame: %Rpush", PUSH, data(1_000_000), **heavy),
            compare("1M-row frame: %R -o", PULL, data(1_000_000) + IN_R, **heavy)]
    if QUICK:
        return rows
    for column in COLUMNS:
        rows.append(compare(f"   column {column}: %Rpush", PUSH, data(1_000_000, column), number=3, rounds=1))
        rows.append(compare(f"   column {column}: %R -o", PULL, data(1_000_000, column) + IN_R, number=3, rounds=1))
    return rows


def storage_cases() -> list[dict]:
    """The 1M-row frame pushed from each storage, and pulled as each kind of
    frame (RMagics.frames), side by side: rmagic_ext only (rpy2 needs R's
    arrow package, which Debian does not have)."""
    rows = []
    for storage in STORAGES:
        setup = f"from data import frame_as\ndf = frame_as(1_000_000, {storage!r})\n"
        rows.append(compare(f"   {storage}: %Rpush", PUSH, setup, number=6, rounds=3, tools=("rmagic_ext",)))
    for kind in ("pandas", "pyarrow", "polars"):
        setup = data(1_000_000) + IN_R + f"ip.run_line_magic('config', \"RMagics.frames = '{kind}'\")\n"
        rows.append(compare(f"   as {kind}: %R -o", PULL, setup, number=3, rounds=2, tools=("rmagic_ext",)))
    return rows


def strsplit_case() -> dict:
    setup = ("from data import frame\nfrom rmagic_ext import py2r\nfrom rmagic_ext.session import get_session\n"
             "s = get_session()\nstrings = frame(1_000_000)['str'].tolist()\n"
             "joined = s.ri.StrSexpVector(['\\x1f'.join(strings)])\nsplit = s.ri.baseenv['strsplit']\n")
    times = measure("rmagic_ext", "split(joined, '\\x1f', fixed=True)", setup, number=5)
    return {"case": "   R's strsplit of the same 1M strings", "rmagic_ext": statistics.median(times),
            "rpy2": None, "ratio": None}


def cell_cases() -> list[dict]:
    return [compare("trivial cell: %%R x <- 1", 'ip.run_cell_magic("R", "", "x <- 1")', number=2000),
            # the same image size for both (their defaults differ: rpy2 480x480 px,
            # rmagic_ext matplotlib's 6.4x4.8 in at 100 dpi)
            compare("one-plot cell: %%R plot(1:10)", 'ip.run_cell_magic("R", "-w 480 -h 480 -u px", "plot(1:10)")',
                    number=100)]


def memory_case() -> dict:
    df = frame(1_000_000)
    size = frame_bytes(df)
    started = data(1_000_000) + 'ip.run_line_magic("R", "-n 0")\n'  # R's own start-up is not the push
    peaks = {tool: measure(tool, PUSH, started, mode="memory")[0] for tool in ("rmagic_ext", "rpy2")}
    return {"frame_mb": size / 2**20, "peaks_mb": {t: p / 2**20 for t, p in peaks.items()},
            "ratios": {t: p / size for t, p in peaks.items()}}


def scaling_cases() -> list[dict]:
    rows = []
    sizes = [10_000, 100_000, 1_000_000] if QUICK else [10_000, 100_000, 1_000_000, 10_000_000]
    for n in sizes:
        tools = ("rmagic_ext", "rpy2") if n <= 100_000 else ("rmagic_ext",)
        rows.append(compare(f"{n:>10,} rows: %Rpush", PUSH, data(n), number=3, rounds=1, tools=tools))
        rows.append(compare(f"{n:>10,} rows: %R -o", PULL, data(n) + IN_R, number=3, rounds=1, tools=tools))
    return rows


def targets(vectors, frames, strsplit, cells, memory, storages) -> list[tuple[str, bool, str]]:
    by_case = {row["case"]: row for row in vectors + frames + cells + storages}
    push, pull = by_case["1M-row frame: %Rpush"], by_case["1M-row frame: %R -o"]
    vec_push = by_case["10M float64: %Rpush"]["rmagic_ext"]
    copy = by_case["   numpy copy of the same array"]["rmagic_ext"]
    pulls = [row["rmagic_ext"] for case, row in by_case.items() if case.endswith("float64: %R -o")]
    str_push = by_case.get("   column str: %Rpush", {}).get("rmagic_ext")
    trivial = by_case["trivial cell: %%R x <- 1"]
    out = [
        ("1M-row frame push >= 50x faster than rpy2", push["ratio"] >= 50, f"{push['ratio']:.0f}x"),
        ("1M-row frame pull >= 30x faster than rpy2", pull["ratio"] >= 30, f"{pull['ratio']:.0f}x"),
        ("10M float64 push <= 2x a numpy copy", vec_push <= 2 * copy, f"{vec_push / copy:.2f}x"),
        ("float64 pull <= 2 ms at any size", max(pulls) <= 2e-3, _fmt(max(pulls))),
        ("trivial %%R cell <= 0.5 ms", trivial["rmagic_ext"] <= 5e-4, _fmt(trivial["rmagic_ext"])),
        ("peak extra memory of a push <= 1.5x the frame",
         memory["ratios"]["rmagic_ext"] <= 1.5, f"{memory['ratios']['rmagic_ext']:.2f}x"),
    ]
    numpy_push = by_case["   pandas (NumPy storage): %Rpush"]["rmagic_ext"]
    arrow_push = max(by_case[f"   {storage}: %Rpush"]["rmagic_ext"] for storage in STORAGES[1:])
    out.append(("Arrow-backed pushes no slower than NumPy-backed (<= 1.1x)", arrow_push <= 1.1 * numpy_push,
                f"{arrow_push / numpy_push:.2f}x"))
    if str_push is not None:
        out.append(("string column push <= 2x R's strsplit", str_push <= 2 * strsplit["rmagic_ext"],
                    f"{str_push / strsplit['rmagic_ext']:.2f}x"))
    return out


def main() -> None:
    vectors = vector_cases()
    report(vectors, "Vectors")
    frames = frame_cases()
    strsplit = strsplit_case()
    report(frames + [strsplit], "The 1M-row frame (int, float, str with 50k distinct values, bool, category, datetime)")
    storages = storage_cases()
    report(storages, "The 1M-row frame from each storage, and back as each kind of frame")
    cells = cell_cases()
    report(cells, "Cells")
    memory = memory_case()
    print(f"\nPeak extra memory while pushing the 1M-row frame ({memory['frame_mb']:.0f} MB of column data):")
    for tool in ("rmagic_ext", "rpy2"):
        print(f"  {tool:<12}{memory['peaks_mb'][tool]:8.0f} MB  ({memory['ratios'][tool]:.2f}x the frame)")
    report(scaling_cases(), "Scaling (rmagic_ext at every size; rpy2 up to 100k rows)")
    print("\nTargets")
    for name, met, value in targets(vectors, frames, strsplit, cells, memory, storages):
        print(f"  [{'met' if met else 'MISSED'}] {name}: {value}")


if __name__ == "__main__":
    main()
