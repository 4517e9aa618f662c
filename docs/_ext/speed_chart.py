"""The speed page's chart and tables, drawn at build time from what
``make bench`` wrote: benchmarks/results/transfer.json (benchmarks/transfer.py).

- at ``builder-inited``, the chart goes to docs/_generated/speed.png
  (ignored by git), which docs/speed.md shows;
- ``.. transfer-results::`` puts the measured cases in a table, with the
  machine and date of the run, so no number on the page is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "transfer.json"
IMAGE = Path(__file__).resolve().parents[1] / "_generated" / "speed.png"


def load() -> dict:
    return json.loads(RESULTS.read_text())


def compared(results: dict) -> list[dict]:
    """The cases measured for both tools, each once (the main line of each
    case; per-column and per-storage details are in the tables)."""
    rows, seen = [], set()
    for section in results["sections"]:
        for row in section["rows"]:
            if row["rpy2_s"] and not row["indented"] and "rows:" not in row["case"] and row["case"] not in seen:
                seen.add(row["case"])
                rows.append(row)
    return rows


def scaling(results: dict) -> dict[str, list[tuple[int, float | None, float | None]]]:
    """rows -> (rmagic_ext, rpy2) seconds, for %Rpush and %R -o."""
    out: dict[str, list] = {"%Rpush": [], "%R -o": []}
    for section in results["sections"]:
        for row in section["rows"]:
            if " rows: " in row["case"]:
                size, way = row["case"].split(" rows: ")
                out[way].append((int(size.replace(",", "")), row["rmagic_ext_s"], row["rpy2_s"]))
    return out


def against_floors(results: dict) -> list[dict]:
    """The pushes of each section that has floors, with those floors (a
    numpy copy, R's own copy, R's strsplit, hashing and filling): how close
    a transfer comes to the least work it could do."""
    rows = []
    for section in results["sections"]:
        if not any(row["floor"] for row in section["rows"]):
            continue
        rows += [row for row in section["rows"] if row["floor"] or "%Rpush" in row["case"]]
    return rows


def draw(app) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = load()
    IMAGE.parent.mkdir(exist_ok=True)
    rows, floored = compared(results), against_floors(results)
    top, bottom = 0.42 * len(rows) + 1.8, 0.3 * len(floored) + 1.2
    fig = plt.figure(figsize=(12, top + bottom), layout="constrained")
    upper, lower = fig.subfigures(2, 1, height_ratios=[top, bottom])
    bars, lines = upper.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    floors = lower.subplots()
    y = range(len(rows))
    bars.barh([i - 0.2 for i in y], [r["rmagic_ext_s"] for r in rows], height=0.4, label="rmagic_ext")
    bars.barh([i + 0.2 for i in y], [r["rpy2_s"] for r in rows], height=0.4, label="rpy2's rmagic")
    for i, row in zip(y, rows):
        bars.annotate(
            f"{row['ratio']:.0f}x" if row["ratio"] >= 10 else f"{row['ratio']:.1f}x",
            (row["rpy2_s"], i + 0.2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    bars.set_yticks(list(y), [r["case"] for r in rows], fontsize=8)
    bars.invert_yaxis()
    bars.set_xscale("log")
    bars.set_xlim(right=6 * max(r["rpy2_s"] for r in rows))  # room for the ratios
    bars.set_xlabel("median seconds (log scale; shorter is faster)")
    bars.set_title("Each case through each tool's own magics")
    bars.legend(loc="lower right", fontsize=8)
    for way, marker in (("%Rpush", "o"), ("%R -o", "s")):
        points = sorted(scaling(results)[way])
        lines.plot([p[0] for p in points], [p[1] for p in points], marker=marker, label=f"rmagic_ext {way}")
        theirs = [(n, t) for n, _, t in points if t]
        if theirs:
            lines.plot(
                [p[0] for p in theirs], [p[1] for p in theirs], marker=marker, linestyle="--", label=f"rpy2 {way}"
            )
    lines.set_xscale("log")
    lines.set_yscale("log")
    lines.set_xlabel("rows of the mixed frame")
    lines.set_ylabel("median seconds")
    lines.set_title("Time grows linearly with the rows")
    lines.legend(fontsize=8)
    y = range(len(floored))
    floors.barh(
        list(y),
        [r["rmagic_ext_s"] for r in floored],
        color=["0.6" if r["floor"] else "C0" for r in floored],
        height=0.7,
    )
    floors.set_yticks(list(y), [r["case"] + (" (floor)" if r["floor"] else "") for r in floored], fontsize=8)
    floors.invert_yaxis()
    floors.set_xlabel("median seconds (grey: the floor, the least work the transfer could do, in the same run)")
    floors.set_title("rmagic_ext against the floors: a numpy copy, R's own copy, R's strsplit, hashing and filling")
    fig.suptitle(f"{results['benchmark']}, {results['date'][:10]}: {results['machine']}", fontsize=9)
    fig.savefig(IMAGE, dpi=100)
    plt.close(fig)


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value * 1e9:.0f} ns"


def escaped(text: str) -> str:
    """Text as reStructuredText shows it literally (R's ``*`` and ``\\``)."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`")


class TransferResults(SphinxDirective):
    """Every section of the run as a table: case, rmagic_ext, rpy2's rmagic, speed-up."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(RESULTS))
        results = load()
        lines = [
            f"Measured {results['date'][:10]} on {results['machine']} (``{results['benchmark']}``).",
            "",
        ]
        for section in results["sections"]:
            lines += [
                f".. list-table:: {section['title']}",
                "   :header-rows: 1",
                "",
                "   * - case",
                "     - rmagic_ext",
                "     - rpy2's rmagic",
                "     - speed-up",
            ]
            for row in section["rows"]:
                case = ("↳ " if row["indented"] else "") + row["case"] + (" (floor)" if row["floor"] else "")
                ratio = f"{row['ratio']:.1f}×" if row["ratio"] else "–"
                lines += [
                    f"   * - {escaped(case)}",
                    f"     - {seconds(row['rmagic_ext_s'])}",
                    f"     - {seconds(row['rpy2_s'])}",
                    f"     - {ratio}",
                ]
            lines.append("")
        memory = results["memory"]
        lines += [
            f"Peak extra memory while pushing the 1M-row frame ({memory['frame_mb']:.0f} MB of column data): "
            + "; ".join(
                f"{tool} {memory['peaks_mb'][tool]:.0f} MB ({memory['ratios'][tool]:.2f}× the frame)"
                for tool in memory["peaks_mb"]
            )
            + ".",
            "",
            ".. list-table:: Targets",
            "   :header-rows: 1",
            "",
            "   * - target",
            "     - measured",
            "     - met",
        ]
        for target in results["targets"]:
            lines += [
                f"   * - {escaped(target['target'])}",
                f"     - {target['value']}",
                f"     - {'met' if target['met'] else 'MISSED'}",
            ]
        node = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source=str(RESULTS)), node)
        return node.children


def setup(app):
    app.connect("builder-inited", draw)
    app.add_directive("transfer-results", TransferResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
