"""R work on other processes: what it costs to send R functions to a Dask
cluster, each against its floor measured in the same run.

    make bench          # or: .venv/bin/python benchmarks/remote.py [--quick]

- 1,000 tiny R tasks on a 2-worker LocalCluster against 1,000 tiny Python
  tasks on the same cluster (the engine's own cost per task is the floor),
  and against the same R function through rpy2's robjects layer where that
  works (rpy2's objects of the low-level layer, the magics', crash when
  unpickled; robjects' load, without what the function needs from the
  notebook);
- the first R task on a fresh worker (Python imports, R start, unpickling);
- 8 groups of CPU-bound R work on 2 worker processes against the same
  groups one after another in this process's R;
- the same tiny R tasks with relaying and random-number streams on (the
  default) and both off (``remote(f, seed=False, relay=False)``);
- a task that prints 10,000 lines, relayed back from a spawn pool's worker.
Ends with the targets of issues 26 and 34, each marked met or missed.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

QUICK = "--quick" in sys.argv
TASKS = 200 if QUICK else 1000
ROUNDS = 2 if QUICK else 3


def cluster(workers: int = 2):
    from distributed import Client, LocalCluster

    local = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    return local, Client(local)


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def add_one(x):
    return x + 1


def tiny_tasks() -> dict:
    """Seconds per task for TASKS tasks, median of ROUNDS (after a warm-up map)."""
    from rmagic_ext import r, remote

    r("add_one <- function(x) x + 1")
    in_r = r.add_one
    local, client = cluster()
    try:
        with_rpy2 = _rpy2_function(client)
        kinds = {
            "Python": add_one,
            "rmagic_ext (R)": in_r,
            "R, relay+seeds off": remote(in_r, seed=False, relay=False),
            "rpy2 robjects (R)": with_rpy2,
        }
        per_task = {}
        for name, fn in kinds.items():
            if fn is None:
                per_task[name] = None
                continue
            client.gather(client.map(fn, range(20), pure=False))  # warm: imports, R start, unpickling
            samples = [
                timed(lambda: client.gather(client.map(fn, range(TASKS), pure=False))) / TASKS for _ in range(ROUNDS)
            ]
            per_task[name] = statistics.median(samples)
        return per_task
    finally:
        client.close()
        local.close()


def _rpy2_function(client):
    """rpy2's own function object, if it runs on the cluster (None if not)."""
    try:
        import rpy2.robjects as ro

        fn = ro.r("function(x) x + 1")
        client.submit(fn, 1, pure=False).result(timeout=60)
        return fn
    except Exception as exc:  # its objects may not survive the trip
        print(f"   (rpy2 robjects on Dask: {type(exc).__name__}: {str(exc)[:80]})")
        return None


def first_task() -> list[float]:
    """Seconds for the first R task on a worker that has never run R."""
    from rmagic_ext import r

    r("add_one <- function(x) x + 1")
    fn = r.add_one
    samples = []
    for _ in range(ROUNDS):
        local, client = cluster(workers=1)
        try:
            client.submit(add_one, 0, pure=False).result()  # the worker is up and has run a task
            samples.append(timed(lambda: client.submit(fn, 1, pure=False).result()))
        finally:
            client.close()
            local.close()
    return samples


CPU_BOUND = (
    """busy <- function(g) { s <- 0; for (i in seq_len(5e6)) s <- s + (i %% 7) * g; data.frame(g = g, s = s) }"""
)


def cpu_bound() -> tuple[float, float, float]:
    """8 groups: serially in this process's R, and on 2 workers (R started
    there ahead by the worker plugin), one after the other in each round so
    that the machine's other load weighs on both alike; the medians and the
    median of the rounds' ratios."""
    from rmagic_ext import r
    from rmagic_ext.dask import RWorkerPlugin

    r(CPU_BOUND)
    busy = r.busy
    busy(0)  # compiled by R's JIT, as the workers' copies are at their first call
    local, client = cluster()
    serial, parallel = [], []
    try:
        client.register_plugin(RWorkerPlugin())
        client.gather(client.map(busy, [0, 0, 0, 0], pure=False))  # the function unpacked on both workers
        for _ in range(ROUNDS + 2):
            serial.append(timed(lambda: [busy(g) for g in range(8)]))
            parallel.append(timed(lambda: client.gather(client.map(busy, range(8), pure=False))))
    finally:
        client.close()
        local.close()
    ratio = statistics.median(s / p for s, p in zip(serial, parallel))
    return statistics.median(serial), statistics.median(parallel), ratio


def loud_task() -> list[float]:
    """Seconds for a task printing 10,000 lines on a warm spawn-pool worker,
    its text relayed into this process (and counted)."""
    import contextlib
    import io
    import multiprocessing
    from rmagic_ext import r

    r("loud <- function(n) { for (i in seq_len(n)) cat(sprintf('line %05d of the task\\n', i)); n }")
    loud = r.loud
    samples = []
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with contextlib.redirect_stdout(io.StringIO()):
            pool.apply(loud, (1,))  # warm: R started, the function unpacked
        for _ in range(ROUNDS):
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink):
                samples.append(timed(lambda: pool.apply(loud, (10_000,))))
            assert sink.getvalue().count("of the task") == 10_000
    return samples


def main() -> None:
    from harness import _fmt

    print(f"R work on a Dask LocalCluster (2 workers x 1 thread); {TASKS} tasks, median of {ROUNDS} rounds")
    per_task = tiny_tasks()
    for name, seconds in per_task.items():
        print(f"  tiny task, {name:<22}{_fmt(seconds) if seconds else '-':>12} per task")
    firsts = first_task()
    print(
        f"  first R task on a fresh worker      {_fmt(statistics.median(firsts)):>12}"
        f"   (samples: {', '.join(_fmt(s) for s in firsts)})"
    )
    serial, parallel, speedup = cpu_bound()
    print(f"  8 CPU-bound R groups, serial here   {_fmt(serial):>12}")
    print(f"  8 CPU-bound R groups, 2 workers     {_fmt(parallel):>12}   ({speedup:.2f}x faster, median of rounds)")
    loud = loud_task()
    print(
        f"  10,000 printed lines, relayed       {_fmt(statistics.median(loud)):>12}"
        f"   (samples: {', '.join(_fmt(x) for x in loud)})"
    )
    ratio = per_task["rmagic_ext (R)"] / per_task["Python"]
    promises = per_task["rmagic_ext (R)"] / per_task["R, relay+seeds off"]
    targets = [
        ("tiny R task <= 2x a tiny Python task on the same cluster", ratio, ratio <= 2, f"{ratio:.2f}x"),
        (
            "first R task on a fresh worker <= 1 s",
            statistics.median(firsts),
            statistics.median(firsts) <= 1,
            _fmt(statistics.median(firsts)),
        ),
        ("8 CPU-bound groups on 2 workers >= 1.7x faster than serial", speedup, speedup >= 1.7, f"{speedup:.2f}x"),
        (
            "tiny R task with relay and seeds <= 1.25x the same with both off",
            promises,
            promises <= 1.25,
            f"{promises:.2f}x",
        ),
        (
            "a task printing 10,000 lines relayed <= 1 s",
            statistics.median(loud),
            statistics.median(loud) <= 1,
            _fmt(statistics.median(loud)),
        ),
    ]
    print("\nTargets (issues 26 and 34)")
    for name, _, met, shown in targets:
        print(f"  {'met   ' if met else 'MISSED'} {name}: {shown}")


if __name__ == "__main__":
    import os

    sys.path.insert(0, os.path.dirname(__file__))
    main()
