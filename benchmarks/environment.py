"""What the R environment pane costs: the time a listening pane adds to a
cell (against the same cell with no pane, in the same process), the size
and time of its messages for 100 and 10,000 objects, and pages of 1M- and
10M-row data frames against R's own ``format()`` of the same rows.

    .venv/bin/python benchmarks/environment.py
"""

from __future__ import annotations

import json
import statistics
import time

from IPython.testing.globalipapp import start_ipython


class Listening:
    """A pane's comm as the kernel sees it: what was sent, and its size."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: dict) -> None:
        self.sent.append(json.dumps(data).encode())

    def on_close(self, _callback) -> None:
        pass


def median_seconds(fn, number: int) -> float:
    fn()
    times = []
    for _ in range(number):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main() -> None:
    ip = start_ipython()
    ip.run_line_magic("load_ext", "rmagic_ext")
    from rmagic_ext import environment
    from rmagic_ext.magics.rmagics import RMagics  # noqa: F401 - loaded above

    pane = environment.Pane(ip)
    ip.events.register("post_run_cell", pane.after_cell)
    cell = lambda: ip.run_cell("%%R\ninvisible(length(ls()))", store_history=False)  # noqa: E731
    print(f"{'case':<62}{'time':>12}{'bytes':>10}{'ratio':>8}")
    for objects in (100, 10_000):
        ip.run_cell(
            f"%R rm(list = ls()); for (i in seq_len({objects})) assign(sprintf('o%05d', i), i); rm(i)", silent=True
        )
        pane.comms.clear()
        alone = median_seconds(cell, 50)
        comm = Listening()
        pane.subscribe(comm)
        snapshot = len(comm.sent[-1])
        listened = median_seconds(cell, 50)
        print(f"{f'a cell running R, {objects:,} objects, no pane':<62}{fmt(alone):>12}{'-':>10}{'-':>8}")
        print(
            f"{'  the same, a pane listening (R scanned, nothing changed)':<62}{fmt(listened):>12}{'-':>10}"
            f"{listened / alone:>7.2f}x"
        )
        counter = iter(range(10**9))
        one_change = median_seconds(lambda: ip.run_cell(f"%%R\no00001 <- {next(counter)}", store_history=False), 50)
        print(
            f"{'  a cell changing one object, its update':<62}{fmt(one_change):>12}"
            f"{len(comm.sent[-1]):>10,}{one_change / alone:>7.2f}x"
        )
        t0 = time.perf_counter()
        pane.subscribe(comm)
        print(f"{'  snapshot for a pane that opens':<62}{fmt(time.perf_counter() - t0):>12}{snapshot:>10,}{'-':>8}")
        pane.comms.clear()

    for rows in (1_000_000, 10_000_000):
        ip.run_cell(
            f"%R rm(list = ls()); big <- data.frame(id = seq_len({rows}), x = runif({rows}), "
            f"g = sample(c('a', 'b', 'c'), {rows}, TRUE))",
            silent=True,
        )
        comm = Listening()
        first = median_seconds(
            lambda: pane.receive(
                comm, {"content": {"data": {"type": "page", "name": "big", "offset": 0, "limit": 100, "request": 1}}}
            ),
            20,
        )
        page_bytes = len(comm.sent[-1])
        floor = median_seconds(
            lambda: ip.run_cell("%%R\ninvisible(format(big[1:100, , drop = FALSE]))", store_history=False), 20
        )
        print(
            f"{f'first page (100 rows) of a {rows:,}-row data frame':<62}{fmt(first):>12}{page_bytes:>10,}"
            f"{first / floor:>7.2f}x"
        )
        print(f"{'  floor: a cell formatting the same rows in R':<62}{fmt(floor):>12}{'-':>10}{'-':>8}")
        t0 = time.perf_counter()
        pane.receive(
            comm,
            {
                "content": {
                    "data": {
                        "type": "page",
                        "name": "big",
                        "offset": 0,
                        "limit": 100,
                        "sort": 1,
                        "descending": True,
                        "request": 2,
                    }
                }
            },
        )
        sorted_first = time.perf_counter() - t0
        floor = median_seconds(
            lambda: ip.run_cell(
                "%%R\ninvisible(order(big$x, decreasing = TRUE, method = 'radix'))", store_history=False
            ),
            3,
        )
        print(
            f"{'  sorted by x: the first sorted page':<62}{fmt(sorted_first):>12}{len(comm.sent[-1]):>10,}"
            f"{sorted_first / floor:>7.2f}x"
        )
        print(f"{'  floor: R ordering x':<62}{fmt(floor):>12}{'-':>10}{'-':>8}")
        later = median_seconds(
            lambda: pane.receive(
                comm,
                {
                    "content": {
                        "data": {
                            "type": "page",
                            "name": "big",
                            "offset": 5000,
                            "limit": 100,
                            "sort": 1,
                            "descending": True,
                            "request": 3,
                        }
                    }
                },
            ),
            20,
        )
        print(f"{'  the next sorted pages (the order is kept)':<62}{fmt(later):>12}{len(comm.sent[-1]):>10,}{'-':>8}")


if __name__ == "__main__":
    main()
