"""R functions from the notebook run on the engines Python people use, each
started as its users start it, with a pandas frame in and out, and R errors
crossing as RError.

One R function fits a model per group: a helper and a value from other
"cells" travel with it (see test_remote.py for what is captured and how).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from rmagic_ext import RError, RemoteError, r
from rmagic_ext.remote import versions


@pytest.fixture
def fit(session):
    """An R function of a frame, with a helper and a value from other cells."""
    r("digits <- 3")
    r("tidy_slope <- function(m) round(unname(coef(m)[2]), digits)")
    r("""fit_group <- function(d) {
           if (!nrow(d)) return(data.frame(group = character(), slope = numeric(), n = integer(), pid = integer()))
           m <- lm(y ~ x, data = d)
           group <- if (is.null(d$group)) NA_character_ else d$group[1]  # pandas' grouped apply leaves it out
           data.frame(group = group, slope = tidy_slope(m), n = nrow(d), pid = Sys.getpid())
         }""")
    r("boom <- function(d) stop('no model for group ', d$group[1])")
    return r.fit_group


def groups(n: int = 4) -> list[pd.DataFrame]:
    """Frames whose slope is the group's number."""
    return [
        pd.DataFrame({"group": [f"g{k}"] * 5, "x": [1.0, 2, 3, 4, 5], "y": [k * x + 1 for x in (1.0, 2, 3, 4, 5)]})
        for k in range(1, n + 1)
    ]


def check_fits(frames) -> pd.DataFrame:
    out = pd.concat(list(frames), ignore_index=True)
    assert out["group"].tolist() == [f"g{k}" for k in range(1, len(out) + 1)]
    assert out["slope"].tolist() == [float(k) for k in range(1, len(out) + 1)]
    assert (out["n"] == 5).all()
    assert os.getpid() not in set(out["pid"])  # ran elsewhere, not in this process's R
    return out


def spawn_context():
    return multiprocessing.get_context("spawn")


# -- process pools ------------------------------------------------------------------


def test_spawn_pool(fit):
    with spawn_context().Pool(2) as pool:
        check_fits(pool.map(fit, groups()))
        with pytest.raises(RError, match="no model for group g1") as caught:
            pool.apply(r.boom, (groups(1)[0],))
    assert caught.value.worker.startswith("process ")


def test_process_pool_executor_with_spawn(fit):
    with ProcessPoolExecutor(2, mp_context=spawn_context()) as executor:
        check_fits(executor.map(fit, groups()))
        with pytest.raises(RError, match="no model for group g1") as caught:
            executor.submit(r.boom, groups(1)[0]).result()
    assert caught.value.worker.startswith("process ")


def test_joblib_loky(fit):
    from joblib import Parallel, delayed

    check_fits(Parallel(n_jobs=2)(delayed(fit)(g) for g in groups()))
    with pytest.raises(RError, match="no model for group g[12]") as caught:  # whichever fails first
        Parallel(n_jobs=2)(delayed(r.boom)(g) for g in groups(2))
    assert caught.value.worker.startswith("process ")


# -- Dask -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[1, 2], ids=["1-thread-workers", "2-thread-workers"])
def dask_client(request):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=request.param,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_client_map(fit, dask_client):
    check_fits(dask_client.gather(dask_client.map(fit, groups())))


def test_dask_delayed(fit):
    import dask

    out = check_fits(dask.compute(*[dask.delayed(fit)(g) for g in groups()], scheduler="processes"))
    assert len(out) == 4


def test_dask_delayed_on_the_cluster(fit, dask_client):
    import dask

    check_fits(dask.compute(*[dask.delayed(fit)(g) for g in groups()]))


def test_dask_dataframe_map_partitions_and_grouped_apply(fit, dask_client):
    import dask.dataframe as dd

    frame = dd.from_pandas(pd.concat(groups(), ignore_index=True), npartitions=4)
    meta = pd.DataFrame(
        {
            "group": pd.Series(dtype=str),
            "slope": pd.Series(dtype=float),
            "n": pd.Series(dtype="int32"),
            "pid": pd.Series(dtype="int32"),
        }
    )
    check_fits([frame.map_partitions(fit, meta=meta).compute()])
    by_group = frame.groupby("group").apply(fit, meta=meta).compute()
    by_group["group"] = by_group.index.get_level_values(0)
    check_fits([by_group.reset_index(drop=True).sort_values("group", ignore_index=True)])


def test_dask_r_error_reaches_the_caller_and_the_cluster_goes_on(fit, dask_client):
    with pytest.raises(RError, match="no model for group g1") as caught:
        dask_client.submit(r.boom, groups(1)[0]).result()
    assert caught.value.call == "boom(d)"
    assert caught.value.worker.startswith("Dask worker tcp://")
    check_fits(dask_client.gather(dask_client.map(fit, groups())))


def test_dask_threads_of_one_worker_take_turns_in_r(dask_client):
    r("""stamp <- function(i) { start <- as.numeric(Sys.time()); Sys.sleep(0.2)
           data.frame(pid = Sys.getpid(), start = start, end = as.numeric(Sys.time())) }""")
    spans = pd.concat(dask_client.gather(dask_client.map(r.stamp, range(8))))
    for _, worker in spans.sort_values("start").groupby("pid"):
        assert (worker["start"].iloc[1:].to_numpy() >= worker["end"].iloc[:-1].to_numpy()).all()


def test_dask_worker_plugin_starts_r_on_each_worker(dask_client):
    from rmagic_ext.dask import RWorkerPlugin

    dask_client.register_plugin(RWorkerPlugin(packages=["tools"]))

    def r_state():
        from rmagic_ext import session

        return session._session is not None and "package:tools" in r("search()")

    assert set(dask_client.run(r_state).values()) == {True}


@pytest.mark.parametrize("part, forged", [("R", "R 0.1"), ("rpy2", "0.0.1")])
def test_dask_worker_plugin_reports_a_version_mismatch(dask_client, part, forged):
    from rmagic_ext.dask import RWorkerPlugin

    plugin = RWorkerPlugin(expected={**versions(), part: forged})
    plugin.name = f"rmagic_ext-mismatch-{part}"
    with pytest.raises(
        RemoteError,
        match=rf"does not match the notebook \({part}: notebook {re.escape(forged)}, "
        rf"worker ",
    ):
        dask_client.register_plugin(plugin)


def test_dask_scheduler_and_worker_from_the_command_line(fit, dask_command_line):
    check_fits(dask_command_line.gather(dask_command_line.map(fit, groups())))
    with pytest.raises(RError, match="no model for group g1"):
        dask_command_line.submit(r.boom, groups(1)[0]).result()


# -- Ray ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_remote_tasks(fit, ray):
    boom = r.boom

    @ray.remote
    def fit_task(frame):
        return fit(frame)

    @ray.remote
    def failing_task(frame):
        return boom(frame)

    check_fits(ray.get([fit_task.remote(g) for g in groups()]))
    with pytest.raises(RError, match="no model for group g1"):  # Ray's RayTaskError(RError)
        ray.get(failing_task.remote(groups(1)[0]))


# -- Spark -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    # Spark's workers run this Python; the driver listens on the loopback
    # address (where the host name does not resolve, as in fresh containers
    # and chroots, Spark otherwise fails with UnknownHostException).
    settings = {"PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("rmagic_ext-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_spark_grouped_apply_in_pandas(fit, spark):
    frame = spark.createDataFrame(pd.concat(groups(), ignore_index=True))
    schema = "group string, slope double, n int, pid int"
    out = frame.groupBy("group").applyInPandas(fit, schema=schema).toPandas()
    check_fits([out.sort_values("group").reset_index(drop=True)])
    with pytest.raises(Exception, match="no model for group"):
        frame.groupBy("group").applyInPandas(r.boom, schema=schema).toPandas()


def test_spark_local_relays_what_r_prints(fit, spark, capsys):
    r("say_fit <- function(d) { cat('fitting', d$group[1], '\\n'); fit_group(d) }")
    frame = spark.createDataFrame(pd.concat(groups(2), ignore_index=True))
    frame.groupBy("group").applyInPandas(r.say_fit, schema="group string, slope double, n int, pid int").toPandas()
    out = capsys.readouterr().out
    for group in ("g1", "g2"):
        assert re.search(rf"\(say_fit pid=\d+\) fitting {group} \n", out), out


# -- the kernel while an engine works ---------------------------------------------------


def test_interrupting_the_kernel_while_a_dask_job_runs_leaves_it_usable(kernel):
    setup = kernel.execute(
        "import logging\n"
        "from dask.distributed import Client, LocalCluster\n"
        "cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,\n"
        "                       silence_logs=logging.CRITICAL)\n"
        "client = Client(cluster)\n"
        "from rmagic_ext import r\n"
        "r('slow <- function(x) { Sys.sleep(60); x }; quick <- function(x) x * 2')",
        timeout=120,
    )
    assert setup.error is None, setup.error
    try:
        reply = kernel.interrupt("client.gather(client.map(r.slow, range(2)))", after=3, reply_within=10)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        run = kernel.execute("%R quick(20) + 2")
        assert run.error is None and run.messages[-1]["content"]["data"]["text/plain"] == "array([42.])"
        run = kernel.execute("client.restart()\nclient.submit(r.quick, 21).result()", timeout=120)
        assert run.error is None, run.error
        assert run.messages[-1]["content"]["data"]["text/plain"] == "42.0"
    finally:
        kernel.execute("client.close()\ncluster.close()", timeout=120)
