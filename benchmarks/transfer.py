"""Transfer speed: rmagic_ext against rpy2's rmagic, each through its own
magics (``%Rpush x``, ``%R -o x``), on the same data in the same run.

    make bench          # or: .venv/bin/python benchmarks/transfer.py [--quick]

Prints medians and ratios for: a 10M float64 vector pushed again and again
to one name (a numpy copy for scale) and to a new name each time (R's own
copy for scale), the 1M-row frame of data.py whole and column by column, a
string column (50k distinct values shuffled and in order, and all distinct)
from each storage both ways, against its floors measured in the same run
(hash + fill: Arrow's dictionary_encode of the column and R's own
levels[codes], what a push with repeats must do; and R's own strsplit of the
same strings from one buffer, which depends on their order), a trivial cell, the frame
pushed from pandas with NumPy or Arrow storage, pyarrow and polars and pulled
as each kind of frame, the peak extra memory of a push, and how time grows
from 10k to 10M rows.
Ends with the targets of the issues, each marked met or missed with its ratio.
"""

from __future__ import annotations

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from data import COLUMNS, STORAGES, STRING_STORAGES, frame, frame_bytes  # noqa: E402
from harness import _fmt, compare, measure, report  # noqa: E402

QUICK = "--quick" in sys.argv
PUSH = 'ip.run_line_magic("Rpush", "df")'
PULL = 'ip.run_line_magic("R", "-o df")'
# Put a Python value into R without the tool under test, so pulls are timed alone.
IN_R = (
    "from rmagic_ext import py2r\nfrom rmagic_ext.session import get_session\n"
    "get_session().globalenv['df'] = py2r(df)\ndel df\n"
)


def data(rows: int, column: str | None = None) -> str:
    pick = f"[[{column!r}]]" if column else ""
    return f"from data import frame\ndf = frame({rows}){pick}\n"


def vector_cases() -> list[dict]:
    vector = "import numpy as np\ndf = np.random.default_rng(0).random(10_000_000)\n"
    rows = [compare("10M float64: %Rpush", PUSH, vector, number=10, rounds=3)]
    rows.append(
        {
            "case": "   numpy copy of the same array",
            "rmagic_ext": numpy_copy_seconds(vector),
            "rpy2": None,
            "ratio": None,
        }
    )
    # Each push kept under its own name: every one takes fresh memory from R,
    # and R's garbage collector runs as its heap grows, as for R's own copies.
    rows.append(
        compare(
            "10M float64: %Rpush to a new name each time",
            'n += 1; ip.run_line_magic("Rpush", f"v{n}=df")',
            vector + "n = 0\n",
            number=10,
            rounds=3,
            tools=("rmagic_ext",),
        )
    )
    times = []
    for _ in range(3):
        times += measure(
            "rmagic_ext",
            'n += 1; ip.run_cell_magic("R", "", f"v{n} <- df + 0")',
            vector + 'n = 0\nip.run_line_magic("Rpush", "df")\n',
            number=10,
        )
    rows.append(
        {
            "case": "   R's own copy to a new name each time",
            "rmagic_ext": statistics.median(times),
            "rpy2": None,
            "ratio": None,
        }
    )
    for n in [1_000, 10_000_000] if QUICK else [1_000, 1_000_000, 10_000_000]:
        rows.append(
            compare(
                f"{n:,} float64: %R -o",
                PULL,
                f"import numpy as np\ndf = np.random.default_rng(0).random({n})\n" + IN_R,
                number=10,
                rounds=2,
            )
        )
    return rows


def numpy_copy_seconds(setup: str) -> float:
    """A numpy copy timed in the same kind of process as the push (R loaded,
    same allocator state), three rounds like the push itself."""
    times = []
    for _ in range(3):
        times += measure("rmagic_ext", "df.copy()", setup, number=10)
    return statistics.median(times)


def frame_cases() -> list[dict]:
    heavy = dict(number=5, rounds=3, rpy2_number=1)  # rpy2 takes seconds per push: once a round
    rows = [
        compare("1M-row frame: %Rpush", PUSH, data(1_000_000), **heavy),
        compare("1M-row frame: %R -o", PULL, data(1_000_000) + IN_R, **heavy),
    ]
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


STRINGS = {
    "50k distinct, shuffled": "words({rows}, 'shuffled')",
    "50k distinct, in order": "words({rows}, 'in order')",
    "all distinct": "distinct_strings({rows})",
}
#: The string columns whose push is measured against hash + fill (a column
#: of all-distinct strings goes whole: there is nothing to hash for).
HASHED = ("50k distinct, shuffled", "50k distinct, in order")


def hash_fill_case(kind: str) -> dict:
    """The floor of a push with repeats: what the push itself must do, hash
    the column once (Arrow's dictionary_encode) and fill R's vector from the
    codes (R's own levels[codes]), timed in the same process, summed."""
    setup = (
        "from data import words\nimport pyarrow as pa, pyarrow.compute as pc\n"
        "from rmagic_ext.session import get_session\nimport time\n"
        f"array = pa.array({STRINGS[kind].format(rows=1_000_000)}.astype(object), pa.string())\n"
        "s = get_session()\nencoded = pc.dictionary_encode(array)\n"
        "s.globalenv['lv'] = s.ri.StrSexpVector(encoded.dictionary.to_pylist())\n"
        "s.globalenv['cd'] = s.ri.IntSexpVector(encoded.indices.to_numpy() + 1)\n"
        "fill = s.ri.parse('lv[cd]')[0]\n"
    )
    stmt = "pc.dictionary_encode(array); s.ri.baseenv['eval'](fill, s.globalenv)"
    times = []
    for _ in range(3):
        times += measure("rmagic_ext", stmt, setup, number=5)
    return {
        "case": f"   hash + fill, the floor of a push with repeats ({kind})",
        "rmagic_ext": statistics.median(times),
        "rpy2": None,
        "ratio": None,
    }


def strsplit_case(kind: str) -> dict:
    """A reference: R's own strsplit of the same 1M strings from one buffer."""
    setup = (
        "from data import words, distinct_strings\nfrom rmagic_ext.session import get_session\n"
        f"s = get_session()\nstrings = {STRINGS[kind].format(rows=1_000_000)}.tolist()\n"
        "joined = s.ri.StrSexpVector(['\\x1f'.join(strings)])\nsplit = s.ri.baseenv['strsplit']\n"
    )
    times = []
    for _ in range(3):
        times += measure("rmagic_ext", "split(joined, '\\x1f', fixed=True)", setup, number=5)
    return {
        "case": f"   R's strsplit of the same 1M strings ({kind})",
        "rmagic_ext": statistics.median(times),
        "rpy2": None,
        "ratio": None,
    }


def string_cases(kind: str) -> list[dict]:
    """A 1M-value string column pushed from each storage, and pulled as each
    kind of frame: rmagic_ext only (rpy2's own numbers are in frame_cases)."""
    values = STRINGS[kind].format(rows=1_000_000)
    rows = []
    for storage in STRING_STORAGES:
        setup = f"from data import words, distinct_strings, strings_as\ndf = strings_as({values}, {storage!r})\n"
        rows.append(compare(f"   {kind}, {storage}: %Rpush", PUSH, setup, number=5, rounds=3, tools=("rmagic_ext",)))
    pulled = (
        f"from data import words, distinct_strings\nimport pandas as pd\ndf = pd.DataFrame({{'s': {values}}})\n" + IN_R
    )
    for kind_of_frame in ("pandas", "pyarrow", "polars"):
        setup = pulled + f"ip.run_line_magic('config', \"RMagics.frames = '{kind_of_frame}'\")\n"
        rows.append(
            compare(f"   {kind}, as {kind_of_frame}: %R -o", PULL, setup, number=5, rounds=3, tools=("rmagic_ext",))
        )
    rows.append(
        compare(
            f"   {kind}, as an object array: %R -o",
            'ip.run_line_magic("R", "-n -o s s <- df$s")',
            pulled,
            number=5,
            rounds=3,
            tools=("rmagic_ext",),
        )
    )
    return rows


def cell_cases() -> list[dict]:
    return [
        compare("trivial cell: %%R x <- 1", 'ip.run_cell_magic("R", "", "x <- 1")', number=2000, rounds=5),
        # the same image size for both (their defaults differ: rpy2 480x480 px,
        # rmagic_ext matplotlib's 6.4x4.8 in at 100 dpi)
        compare(
            "one-plot cell: %%R plot(1:10)", 'ip.run_cell_magic("R", "-w 480 -h 480 -u px", "plot(1:10)")', number=100
        ),
    ]


def memory_case() -> dict:
    df = frame(1_000_000)
    size = frame_bytes(df)
    started = data(1_000_000) + 'ip.run_line_magic("R", "-n 0")\n'  # R's own start-up is not the push
    peaks = {tool: measure(tool, PUSH, started, mode="memory")[0] for tool in ("rmagic_ext", "rpy2")}
    return {
        "frame_mb": size / 2**20,
        "peaks_mb": {t: p / 2**20 for t, p in peaks.items()},
        "ratios": {t: p / size for t, p in peaks.items()},
    }


SIZES = [10_000, 100_000, 1_000_000] if QUICK else [10_000, 100_000, 1_000_000, 10_000_000]


def scaling_cases() -> list[dict]:
    rows = []
    for n in SIZES:
        tools = ("rmagic_ext", "rpy2") if n <= 100_000 else ("rmagic_ext",)
        rows.append(compare(f"{n:>10,} rows: %Rpush", PUSH, data(n), number=3, rounds=3, tools=tools))
        rows.append(compare(f"{n:>10,} rows: %R -o", PULL, data(n) + IN_R, number=3, rounds=3, tools=tools))
    return rows


def growth(scaling: list[dict], way: str) -> float:
    """The worst step in time per row from one size to the next (1.0: exactly
    linear; below: fixed costs shrinking), from 100k rows on, where fixed
    per-call costs no longer dominate."""
    times = {
        int(row["case"].split()[0].replace(",", "")): row["rmagic_ext"] for row in scaling if row["case"].endswith(way)
    }
    sizes = [n for n in SIZES if n >= 100_000]
    return max((times[b] / b) / (times[a] / a) for a, b in zip(sizes, sizes[1:]))


def targets(vectors, frames, strings, floors, cells, memory, storages, scaling) -> list[tuple[str, bool, str]]:
    by_case = {row["case"]: row for row in vectors + frames + strings + cells + storages + scaling}
    push, pull = by_case["1M-row frame: %Rpush"], by_case["1M-row frame: %R -o"]
    vec_push = by_case["10M float64: %Rpush"]["rmagic_ext"]
    copy = by_case["   numpy copy of the same array"]["rmagic_ext"]
    pulls = [row["rmagic_ext"] for case, row in by_case.items() if case.endswith("float64: %R -o")]
    trivial = by_case["trivial cell: %%R x <- 1"]["rmagic_ext"]
    out = [
        ("1M-row frame push >= 50x faster than rpy2", push["ratio"] >= 50, f"{push['ratio']:.0f}x"),
        ("1M-row frame pull >= 30x faster than rpy2", pull["ratio"] >= 30, f"{pull['ratio']:.0f}x"),
        ("10M float64 push <= 2x a numpy copy", vec_push <= 2 * copy, f"{vec_push / copy:.2f}x"),
        ("float64 pull <= 2 ms at any size", max(pulls) <= 2e-3, _fmt(max(pulls))),
        ("1M-row mixed frame push <= 0.07 s", push["rmagic_ext"] <= 0.07, _fmt(push["rmagic_ext"])),
        ("1M-row mixed frame pull <= 0.07 s", pull["rmagic_ext"] <= 0.07, _fmt(pull["rmagic_ext"])),
        ("trivial %%R cell <= 0.2 ms", trivial <= 2e-4, _fmt(trivial)),
        (
            "peak extra memory of the 1M push <= 1.2x the columns",
            memory["ratios"]["rmagic_ext"] <= 1.2,
            f"{memory['ratios']['rmagic_ext']:.2f}x",
        ),
    ]
    if not QUICK:
        big_push, big_pull = by_case["10,000,000 rows: %Rpush"], by_case["10,000,000 rows: %R -o"]
        out += [
            ("10M-row mixed frame push <= 0.7 s", big_push["rmagic_ext"] <= 0.7, _fmt(big_push["rmagic_ext"])),
            ("10M-row mixed frame pull <= 0.7 s", big_pull["rmagic_ext"] <= 0.7, _fmt(big_pull["rmagic_ext"])),
        ]
    for way in ("%Rpush", "%R -o"):
        step = growth(scaling, way)
        out.append((f"{way}: time per row grows by <= 1.25x per 10x rows (linear)", step <= 1.25, f"{step:.2f}x"))
    for kind in HASHED:  # pushes with repeats against hash + fill, shuffled and in order
        floor = floors[kind]["hash + fill"]["rmagic_ext"]
        for case, row in by_case.items():
            if case.startswith(f"   {kind}, ") and case.endswith("%Rpush") and ", object:" not in case:
                what = case.strip().split(": ")[0]
                ratio = row["rmagic_ext"] / floor
                out.append((f"string column push ({what}) / hash + fill <= 1.5x", ratio <= 1.5, f"{ratio:.2f}x"))
    ordered = floors["50k distinct, in order"]["strsplit"]["rmagic_ext"]
    for case, row in by_case.items():
        if case.startswith("   50k distinct, in order, ") and case.endswith("%R -o"):
            what = case.strip().split(": ")[0]
            ratio = row["rmagic_ext"] / ordered
            out.append((f"string column pull ({what}) / R's strsplit of them <= 0.8x", ratio <= 0.8, f"{ratio:.2f}x"))
    floor = floors["all distinct"]["strsplit"]["rmagic_ext"]
    for case, row in by_case.items():
        if case.startswith("   all distinct, ") and ", object:" not in case:
            what = case.strip().split(": ")[0]
            ratio = row["rmagic_ext"] / floor
            out.append((f"string column ({what}) / R's strsplit <= 1.5x", ratio <= 1.5, f"{ratio:.2f}x"))
    out += [
        (
            "1M-row mixed frame push <= 9x a numpy copy of 10M float64",
            push["rmagic_ext"] <= 9 * copy,
            f"{push['rmagic_ext'] / copy:.1f}x",
        ),
        (
            "1M-row mixed frame pull <= 6x a numpy copy of 10M float64",
            pull["rmagic_ext"] <= 6 * copy,
            f"{pull['rmagic_ext'] / copy:.1f}x",
        ),
    ]
    numpy_push = by_case["   pandas (NumPy storage): %Rpush"]["rmagic_ext"]
    arrow_push = max(by_case[f"   {storage}: %Rpush"]["rmagic_ext"] for storage in STORAGES[1:])
    out.append(
        (
            "Arrow-backed pushes no slower than NumPy-backed (<= 1.1x)",
            arrow_push <= 1.1 * numpy_push,
            f"{arrow_push / numpy_push:.2f}x",
        )
    )
    return out


def main() -> None:
    sections: list[dict] = []

    def show(rows: list[dict], title: str) -> None:  # prints as before, and keeps the rows for the JSON
        report(rows, title)
        sections.append({"title": title, "rows": rows})

    described = machine()
    print(described)
    vectors = vector_cases()
    show(vectors, "Vectors")
    frames = frame_cases()
    show(frames, "The 1M-row frame (int, float, str with 50k distinct values, bool, category, datetime)")
    strings, floors = [], {}
    for kind in STRINGS:
        floors[kind] = {"strsplit": strsplit_case(kind)}
        if kind in HASHED:
            floors[kind]["hash + fill"] = hash_fill_case(kind)
        rows = string_cases(kind)
        strings += rows
        show([*floors[kind].values()] + rows, f"A 1M-value string column ({kind}) from each storage, and back")
    storages = storage_cases()
    show(storages, "The 1M-row frame from each storage, and back as each kind of frame")
    cells = cell_cases()
    show(cells, "Cells")
    memory = memory_case()
    print(f"\nPeak extra memory while pushing the 1M-row frame ({memory['frame_mb']:.0f} MB of column data):")
    for tool in ("rmagic_ext", "rpy2"):
        print(f"  {tool:<12}{memory['peaks_mb'][tool]:8.0f} MB  ({memory['ratios'][tool]:.2f}x the frame)")
    scaling = scaling_cases()
    show(scaling, "Scaling (rmagic_ext at every size; rpy2 up to 100k rows)")
    print("\nTargets")
    met_or_missed = targets(vectors, frames, strings, floors, cells, memory, storages, scaling)
    for name, met, value in met_or_missed:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {value}")
    write_json(described, sections, memory, met_or_missed)


#: Where the results go as JSON too (the docs' speed chart is drawn from it):
#: benchmarks/results/transfer.json, or transfer-quick.json for --quick.
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

#: Rows that are references measured in the same run, not a tool under test.
FLOOR_MARKS = ("numpy copy", "R's own copy", "hash + fill", "R's strsplit")


def write_json(described: str, sections: list[dict], memory: dict, met_or_missed: list) -> str:
    """The printed results as data: the machine, each section's cases (median
    seconds for rmagic_ext, for rpy2's rmagic where measured, their ratio, and
    whether the row is a floor, a reference measured in the same run), the
    peak memory of a push and the targets."""
    import datetime
    import json

    def row(r: dict) -> dict:
        case = r["case"].strip()
        return {
            "case": case,
            "indented": r["case"].startswith(" "),  # a detail of the case above it
            "floor": any(mark in case for mark in FLOOR_MARKS),
            "rmagic_ext_s": r["rmagic_ext"],
            "rpy2_s": r["rpy2"],
            "ratio": r["ratio"],
        }

    out = {
        "benchmark": "benchmarks/transfer.py" + (" --quick" if QUICK else ""),
        "regenerate": "make bench",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": described,
        "units": "median seconds per run; ratio = rpy2's rmagic / rmagic_ext",
        "sections": [{"title": s["title"], "rows": [row(r) for r in s["rows"]]} for s in sections],
        "memory": memory,
        "targets": [{"target": name, "met": bool(met), "value": value} for name, met, value in met_or_missed],
    }
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "transfer-quick.json" if QUICK else "transfer.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    return path


def machine() -> str:
    """What the numbers were measured on."""
    import platform
    from rmagic_ext.session import get_session

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    r_version = str(get_session().run("R.version.string", keep_last=True).value[0])
    import rpy2

    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, {r_version}, rpy2 {rpy2.__version__}"


if __name__ == "__main__":
    main()
