"""R keeps its promises where it runs: what an R function prints, messages
and warns in a worker reaches the notebook, in order and marked with the
worker; its random numbers come from L'Ecuyer-CMRG streams that are distinct
per task and the same again after the same set.seed, whichever worker runs
which task. Each engine is started as its users start it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from rmagic_ext import RError, r, relay, remote
from rmagic_ext.remote import configure

WORDS = ["alpha", "bravo", "charlie", "delta"]


@pytest.fixture
def chatty(session):
    """Prints, messages and warns (deferred, as R does), then returns."""
    r("""chatty <- function(word) {
           cat("out", word, "\\n")
           message("msg ", word)
           warning("careful with ", word)
           cat("after", word, "\\n")
           nchar(word)
         }""")
    r(
        "fails <- function(word) { cat('before the error', word, '\\n'); warning('first ', word); stop('no luck with ', word) }"
    )
    r("draw <- function(i) rnorm(1)")
    return r.chatty


def spawn():
    return multiprocessing.get_context("spawn")


def marked_lines(text: str, label: str) -> dict[str, list[str]]:
    """Relayed lines by the process that wrote them: ``(label pid=N) text``."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(rf"\({label} pid=(\d+)\) (.*)$", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def check_relayed(out: str, err: str, label: str = "chatty") -> None:
    """Each word's lines arrived, whole, in R's order, from another process."""
    stdout, stderr = marked_lines(out, label), marked_lines(err, label)
    assert stdout and str(os.getpid()) not in stdout
    for word in WORDS:
        said = [line for lines in stdout.values() for line in lines if line.endswith(f" {word} ")]
        assert said == [f"out {word} ", f"after {word} "], (word, out)
        warned = [lines for lines in stderr.values() if f"msg {word}" in lines]
        assert len(warned) == 1, (word, err)
        lines = warned[0]
        at = lines.index(f"msg {word}")
        assert lines[at + 1 : at + 3] == ["Warning message:", f"In chatty(word) : careful with {word}"], lines


def wait_for(read, predicate, timeout: float = 30.0):
    """What engines forward by themselves (Dask's events, Ray's logs) may
    land a moment after the result: read until it is there."""
    deadline = time.monotonic() + timeout
    seen = read()
    while not predicate(seen) and time.monotonic() < deadline:
        time.sleep(0.2)
        more = read()
        seen = tuple(a + b for a, b in zip(seen, more))
    return seen


# -- output, messages and warnings ------------------------------------------------------


def test_spawn_pool_relays_in_order_marked_by_worker(chatty, capsys):
    with spawn().Pool(2) as pool:
        assert pool.map(chatty, WORDS) == [5, 5, 7, 5]
    check_relayed(*capsys.readouterr())


def test_process_pool_executor_relays(chatty, capsys):
    with ProcessPoolExecutor(2, mp_context=spawn()) as executor:
        assert list(executor.map(chatty, WORDS)) == [5, 5, 7, 5]
    check_relayed(*capsys.readouterr())


def test_joblib_relays(chatty, capsys):
    from joblib import Parallel, delayed

    assert Parallel(n_jobs=2)(delayed(chatty)(w) for w in WORDS) == [5, 5, 7, 5]
    check_relayed(*capsys.readouterr())


def test_an_error_carries_what_the_task_said_before_it(chatty):
    with spawn().Pool(1) as pool:
        with pytest.raises(RError, match="no luck with alpha") as caught:
            pool.apply(r.fails, ("alpha",))
    text = caught.value.stdout
    assert re.search(r"\(fails pid=\d+\) before the error alpha", text)
    assert "first alpha" in text  # R's "In addition:" warning
    assert text in caught.value.render() and caught.value.render().index(text) == 0


def test_warnings_follow_r_options_in_the_function(session, capsys):
    r("""quiet <- function(x) { suppressWarnings(warning("hidden")); x }
         at_once <- function(x) { op <- options(warn = 1); on.exit(options(op)); warning("now"); cat("then\\n"); x }
         strict <- function(x) { op <- options(warn = 2); on.exit(options(op)); warning("fatal"); x }""")
    with spawn().Pool(1) as pool:
        assert pool.apply(r.quiet, (1,)) == 1
        assert pool.apply(r.at_once, (2,)) == 2
        with pytest.raises(RError, match="fatal"):
            pool.apply(r.strict, (3,))
    out, err = capsys.readouterr()
    assert "hidden" not in out + err
    assert re.search(r"\(at_once pid=\d+\) Warning in at_once\(x\) : now\n", err)
    assert re.search(r"\(at_once pid=\d+\) then", out)


def test_relaying_off_leaves_the_notebook_quiet(chatty, capfd):
    configure(relay=False)
    try:
        with spawn().Pool(1) as pool:
            assert pool.map(chatty, WORDS[:1]) == [5]
    finally:
        configure(relay=True)
    out, err = capfd.readouterr()
    assert "(chatty pid=" not in out + err  # the worker's own streams got R's text, unmarked
    assert "out alpha" in out


def test_output_above_the_cap_is_cut_saying_how_much(session, capsys):
    r("loud <- function(n) { for (i in seq_len(n)) cat(sprintf('line %05d\\n', i)); n }")
    configure(output_limit=2000)
    try:
        with spawn().Pool(1) as pool:
            assert pool.apply(r.loud, (10_000,)) == 10_000
    finally:
        configure(output_limit=1_000_000)
    out, err = capsys.readouterr()
    lines = marked_lines(out, "loud")
    kept = [line for v in lines.values() for line in v if line.startswith("line ")]
    assert kept[0] == "line 00001" and kept[-1] == "line 10000"
    assert 60 < len(kept) < 200
    cut = re.search(r"\[rmagic_ext: ([\d,]+) characters of this task's output cut here", err)
    assert cut and int(cut.group(1).replace(",", "")) == 10_000 * 11 - 2000


def test_ten_thousand_lines_arrive_in_full(session, capsys):
    r("loud <- function(n) { for (i in seq_len(n)) cat(sprintf('line %05d\\n', i)); n }")
    with spawn().Pool(1) as pool:
        assert pool.apply(r.loud, (10_000,)) == 10_000
    kept = [line for v in marked_lines(capsys.readouterr().out, "loud").values() for line in v]
    assert kept == [f"line {i:05d}" for i in range(1, 10_001)]


# -- Dask, Ray ------------------------------------------------------------------------


def start_local_cluster(**environment):
    distributed = pytest.importorskip("distributed")
    before = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # the workers' environment, as they are spawned
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
        )
    finally:
        for name, value in before.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    return cluster, distributed.Client(cluster)


@pytest.fixture(scope="module")
def local_cluster():
    cluster, client = start_local_cluster()
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def far_cluster():
    """Workers that relay as if the notebook were on another host: through Dask's events."""
    cluster, client = start_local_cluster(**{relay.VIA: "engine"})
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_relays_into_the_collecting_cell(chatty, local_cluster, capsys):
    assert local_cluster.gather(local_cluster.map(chatty, WORDS)) == [5, 5, 7, 5]
    check_relayed(*capsys.readouterr())  # already there when the results are


def test_dask_workers_far_away_relay_through_dask_events(chatty, far_cluster, capsys):
    assert far_cluster.gather(far_cluster.map(chatty, WORDS)) == [5, 5, 7, 5]
    out, err = wait_for(
        capsys.readouterr,
        lambda seen: all(f"after {w}" in seen[0] for w in WORDS) and all(f"careful with {w}" in seen[1] for w in WORDS),
    )
    check_relayed(out, err)


def test_dask_command_line_worker_with_discarded_stdout_relays(chatty, dask_command_line, capsys):
    client = dask_command_line
    assert client.gather(client.map(chatty, WORDS)) == [5, 5, 7, 5]
    check_relayed(*capsys.readouterr())


def test_dask_error_carries_its_output(chatty, dask_command_line):
    with pytest.raises(RError, match="no luck with bravo") as caught:
        dask_command_line.submit(r.fails, "bravo").result()
    assert "before the error bravo" in caught.value.stdout


@pytest.fixture(scope="module")
def ray_forwarding():
    ray = pytest.importorskip("ray")
    os.environ["RAY_DEDUP_LOGS"] = "0"  # Ray folds lines that look alike across workers otherwise
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.ERROR,
        runtime_env={"env_vars": {relay.VIA: "engine"}},
    )  # as on another host: Ray's own channel
    yield ray
    ray.shutdown()


def test_ray_forwards_through_its_own_channel(chatty, ray_forwarding, capsys):
    ray = ray_forwarding
    task = ray.remote(lambda word: chatty(word))
    assert ray.get([task.remote(w) for w in WORDS]) == [5, 5, 7, 5]
    out, err = wait_for(
        capsys.readouterr,
        lambda seen: all(f"careful with {w}" in seen[1] for w in WORDS) and all(f"after {w}" in seen[0] for w in WORDS),
    )
    out, err = (re.sub(r"\x1b\[[0-9;]*m", "", text) for text in (out, err))  # Ray colours its marks
    for word in WORDS:  # Ray marks each line "(task pid=N)" itself
        assert re.search(rf"pid=\d+\S*\) out {word}", out), out
        assert re.search(rf"pid=\d+\S*\) In chatty\(word\) : careful with {word}", err), err


# -- random numbers ------------------------------------------------------------------------


def draws(run) -> list[float]:
    r("set.seed(7)")
    return [float(x) for x in run()]


def test_sixteen_tasks_on_two_workers_draw_sixteen_distinct_numbers(chatty):
    from joblib import Parallel, delayed

    numbers = Parallel(n_jobs=2)(delayed(r.draw)(i) for i in range(16))
    assert len(set(numbers)) == 16


def test_seeded_maps_repeat_on_any_number_of_workers(chatty):
    from joblib import Parallel, delayed

    with spawn().Pool(2) as pool:
        two = draws(lambda: pool.map(r.draw, range(16)))
        again = draws(lambda: pool.map(r.draw, range(16), chunksize=3))
    with spawn().Pool(1) as pool:
        one = draws(lambda: pool.map(r.draw, range(16)))
    with ProcessPoolExecutor(2, mp_context=spawn()) as executor:
        executor_two = draws(lambda: list(executor.map(r.draw, range(16))))
    loky = draws(lambda: Parallel(n_jobs=2)(delayed(r.draw)(i) for i in range(16)))
    loky_again = draws(lambda: Parallel(n_jobs=2, batch_size=1)(delayed(r.draw)(i) for i in range(16)))
    assert two == again == one == executor_two == loky == loky_again
    assert len(set(two)) == 16


def test_without_a_new_seed_the_next_map_draws_other_numbers(chatty, ip):
    with spawn().Pool(2) as pool:
        first = draws(lambda: pool.map(r.draw, range(4)))
        ip.run_cell("pass", store_history=True)  # the next cell, R's generator where the first map left it
        second = [float(x) for x in pool.map(r.draw, range(4))]
    assert not set(first) & set(second)


def test_notebook_generator_moves_on_as_with_future(chatty):
    r("set.seed(7)")
    with spawn().Pool(1) as pool:
        pool.map(r.draw, range(2))
    after_map = float(r("runif(1)"))
    r("set.seed(7)")
    assert float(r("runif(1)")) != after_map  # one draw made the map's base


def test_dask_maps_repeat_on_one_and_two_workers(chatty, local_cluster):
    distributed = pytest.importorskip("distributed")
    import dask

    two = draws(lambda: local_cluster.gather(local_cluster.map(r.draw, range(16))))
    delayed = draws(lambda: dask.compute(*[dask.delayed(r.draw)(i) for i in range(16)]))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as cluster,
        distributed.Client(cluster) as one_client,
    ):
        one = draws(lambda: one_client.gather(one_client.map(r.draw, range(16))))
    assert two == one == list(delayed)
    assert len(set(two)) == 16


def test_explicit_seed_is_the_same_in_every_cell_and_process(chatty):
    from joblib import Parallel, delayed

    fixed = remote(r.draw, seed=2024)
    here = [fixed(i) for i in range(6)]  # called in the notebook: the same streams as in the workers
    r("rnorm(10)")  # the notebook's generator moves; a fixed seed does not care
    there = Parallel(n_jobs=2)(delayed(fixed)(i) for i in range(6))
    assert here == there and len(set(here)) == 6
    assert remote(r.draw, seed=2025)(0) != here[0]


def test_explicit_seed_off_warns_that_numbers_cannot_be_reproduced(chatty, capsys):
    unseeded = remote(r.draw, seed=False)
    with spawn().Pool(1) as pool:
        pool.map(unseeded, range(3))
    err = capsys.readouterr().err
    assert err.count("drew random numbers without a stream of its own (seed=False)") == 1


def test_identical_arguments_in_one_worker_get_fresh_streams_and_a_warning(chatty, capsys):
    with spawn().Pool(1) as pool:
        numbers = pool.map(r.draw, [5, 5, 5])
    assert len(set(numbers)) == 3
    assert "ran again here with the same arguments" in capsys.readouterr().err


def test_seed_is_checked(chatty):
    with pytest.raises(TypeError, match="seed= takes True, False or an integer"):
        remote(r.draw, seed="7")
    with pytest.raises(ValueError, match="seed= takes an R integer"):
        remote(r.draw, seed=2**40)


# -- in a real kernel: the text lands in the cell that collects the result -----------------


def test_worker_text_lands_in_the_running_cell_in_order(kernel):
    setup = kernel.execute(
        "from rmagic_ext import r\n"
        'r(\'talk <- function(i) { cat("out", i, "\\\\n"); warning("w", i); cat("end", i, "\\\\n"); i }\')\n'
        "import multiprocessing\npool = multiprocessing.get_context('spawn').Pool(1)"
    )
    assert setup.error is None, setup.error
    try:
        run = kernel.execute("pool.map(r.talk, [1, 2])", timeout=120)
        assert run.error is None, run.error
        joined: list[list[str]] = []  # a line may come in two messages of one stream
        for name, text in run.streams:
            if joined and joined[-1][0] == name:
                joined[-1][1] += text
            else:
                joined.append([name, text])
        lines = [(name, re.sub(r"^\(talk pid=\d+\) ", "", line)) for name, text in joined for line in text.splitlines()]
        for i in (1, 2):
            at = lines.index(("stdout", f"out {i} "))
            assert lines[at + 1 : at + 4] == [
                ("stdout", f"end {i} "),
                ("stderr", "Warning message:"),
                ("stderr", f"In talk(i) : w{i}"),
            ], lines
    finally:
        kernel.execute("pool.close()")
