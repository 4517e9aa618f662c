"""Shared fixtures: one real IPython shell with the extension loaded and one
real embedded R for the whole run; R's global environment is emptied between
tests so they cannot lean on each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from IPython.testing.globalipapp import start_ipython

import rmagic_ext
from rmagic_ext.session import get_session

CHECKOUT = Path(__file__).resolve().parents[1]
IMPORTED_FROM = Path(rmagic_ext.__file__).resolve().parent


def pytest_report_header(config):
    return f"rmagic_ext {rmagic_ext.__version__} imported from {IMPORTED_FROM}"


def pytest_configure(config):
    """`make test PACKAGE=wheel` must test the installed wheel: a run that
    imported the checkout instead would pass for files the wheel lacks."""
    if os.environ.get("RMAGIC_EXT_TEST_PACKAGE") == "installed" and (
        IMPORTED_FROM == CHECKOUT / "rmagic_ext" or "site-packages" not in IMPORTED_FROM.parts
    ):
        pytest.exit(f"rmagic_ext was imported from {IMPORTED_FROM}, not from the installed wheel", returncode=4)


@pytest.fixture(scope="session")
def ip():
    shell = start_ipython()
    shell.run_line_magic("load_ext", "rmagic_ext")
    return shell


@pytest.fixture
def python_shapes(ip):
    """``RMagics.vectors = "python"`` for one test: for modules that check
    values (fidelity, R facts) as Python scalars and Series. The default,
    rpy2's arrays, is what test_shapes.py and the kernel tests check."""
    magics = ip.magics_manager.registry["RMagics"]
    before = magics.vectors
    magics.vectors = "python"
    yield
    magics.vectors = before


@pytest.fixture(scope="session")
def session():
    return get_session()


@pytest.fixture(autouse=True)
def clean_r_globals(session):
    yield
    session.run("rm(list = ls(all.names = TRUE, envir = globalenv()), envir = globalenv())")


@pytest.fixture(scope="module")
def kernel():
    """A real ipykernel with the extension loaded, one per test module."""
    from kernel_helpers import Kernel

    k = Kernel()
    assert k.execute("%load_ext rmagic_ext").error is None
    yield k
    k.shutdown()


@pytest.fixture(scope="session")
def dask_command_line(tmp_path_factory):
    """A scheduler and a worker started from the ``dask`` command line, in a
    folder of their own, as a deployment on other machines starts them."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask-deployment")
    scheduler_file = folder / "scheduler.json"
    dask = str(Path(sys.executable).with_name("dask"))
    started = [
        subprocess.Popen(
            [dask, "scheduler", "--scheduler-file", str(scheduler_file), "--no-dashboard", "--port", "0"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        started.append(
            subprocess.Popen(
                [dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "2", "--no-dashboard"],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=60)
        client.wait_for_workers(1, timeout=60)
        yield client
        client.close()
    finally:
        for process in reversed(started):
            process.send_signal(signal.SIGINT)
        for process in reversed(started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def run_cell(ip):
    """Run a cell through IPython as a notebook would; returns the ExecutionResult."""

    def run(source: str):
        return ip.run_cell(source, store_history=False)

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How the fuzzer's cases ended (tests/test_fuzz.py), after the run."""
    lines = getattr(config, "rmagic_ext_fuzz_summary", None)
    if lines:
        terminalreporter.write_sep("-", lines[0])
        for line in lines[1:]:
            terminalreporter.write_line(line)
