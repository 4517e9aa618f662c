"""`python -m rmagic_ext install-kernel` and `doctor`, run as real processes.

The kernelspec is installed into a temporary prefix (never into the venv or
the user's Jupyter directories); a real kernel is started from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from kernel_helpers import Kernel
from rmagic_ext import __file__ as installed_init, cli

VENV_BIN = Path(sys.executable).parent


def rmagic_ext(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m rmagic_ext ARGS`` with this test run's Python."""
    return subprocess.run(
        [sys.executable, "-m", "rmagic_ext", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """A prefix holding the "Python 3 + R" kernelspec, installed by the command line."""
    root = tmp_path_factory.mktemp("prefix")
    done = rmagic_ext("install-kernel", "--prefix", str(root))
    assert done.returncode == 0, done.stderr
    assert str(root / "share" / "jupyter" / "kernels" / "python3-r") in done.stdout
    return root


@pytest.fixture(scope="module")
def spec_manager(prefix) -> KernelSpecManager:
    return KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])


def with_jupyter_path(prefix: Path) -> dict:
    """This environment, with Jupyter also looking into ``prefix``."""
    return {**os.environ, "JUPYTER_PATH": str(prefix / "share" / "jupyter")}


class RKernel(Kernel):
    """kernel_helpers.Kernel, started from a given kernelspec manager and name."""

    def __init__(self, spec_manager: KernelSpecManager, name: str, timeout: float = 60):
        self.manager = KernelManager(kernel_name=name, kernel_spec_manager=spec_manager)
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.timeout = timeout
        try:
            self.client.wait_for_ready(timeout=timeout)
        except RuntimeError:
            self.shutdown()
            raise


# -- install-kernel -----------------------------------------------------------


def test_help_lists_both_commands():
    done = rmagic_ext("--help")
    assert done.returncode == 0
    assert "install-kernel" in done.stdout and "doctor" in done.stdout


def test_kernelspec_starts_this_python_with_the_extension(spec_manager):
    spec = spec_manager.get_kernel_spec("python3-r")
    assert spec.argv == [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext", "rmagic_ext"]
    assert spec.display_name == "Python 3 + R"
    assert spec.language == "python"
    assert (Path(spec.resource_dir) / "logo-64x64.png").exists()


def test_name_and_display_name_options(tmp_path):
    done = rmagic_ext("install-kernel", "--prefix", str(tmp_path), "--name", "r-too", "--display-name", "Both")
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/r-too/kernel.json").read_text())
    assert spec["display_name"] == "Both"
    assert spec["argv"][-2:] == ["--ext", "rmagic_ext"]


def test_location_flags_exclude_each_other(tmp_path):
    done = rmagic_ext("install-kernel", "--user", "--prefix", str(tmp_path))
    assert done.returncode == 2
    assert "not allowed with" in done.stderr


def test_default_location_is_the_venv_inside_one():
    assert cli.in_virtualenv()  # the tests run in .venv
    assert cli.default_location() == "sys-prefix"


def test_kernel_runs_r_without_load_ext(spec_manager):
    kernel = RKernel(spec_manager, "python3-r")
    try:
        line = kernel.execute("%R 1L + 1L")
        assert line.error is None, line.error
        results = [m["content"]["data"]["text/plain"] for m in line.messages if m["msg_type"] == "execute_result"]
        assert results == ["array([2])"]  # rpy2's shape, the default
        cell = kernel.execute('%%R\ncat("from R\\n")')
        assert cell.error is None, cell.error
        assert cell.text() == "from R\n"
    finally:
        kernel.shutdown()


# -- doctor -------------------------------------------------------------------


def test_doctor_passes_on_this_machine(prefix):
    done = rmagic_ext("doctor", env=with_jupyter_path(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("PROBLEM", "SKIP"))]
    for start in (
        "OK       R 4.",
        "OK       rpy2 ",
        "OK       rpy2 loads R",
        "OK       graphics devices: png, jpeg, svg",
        "OK       R package ggplot2 ",
        "OK       R package lattice ",
        "OK       R package rlang ",
        "OK       R package R6 ",
        "OK       R package globals ",
        "OK       kernel 'python3-r' (Python 3 + R)",
        "OK       JupyterLab extension rmagic-ext (R highlighting) at ",
    ):
        assert any(line.startswith(start) for line in lines), (start, done.stdout)
    assert lines[-1] == "All checks passed."


def test_doctor_without_r_says_how_to_install_it(prefix):
    assert shutil.which("R", path=str(VENV_BIN)) is None
    env = {**with_jupyter_path(prefix), "PATH": str(VENV_BIN)}
    done = rmagic_ext("doctor", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    first = lines.index("PROBLEM  R not found on PATH")
    assert lines[first + 1].strip().startswith("fix: ")
    assert "r-base-core" in lines[first + 1] or "cloud.r-project.org" in lines[first + 1]
    # what needs R is skipped, not reported as a second problem; the rest still runs
    assert [line.split()[0] for line in lines if line.startswith("SKIP")] == ["SKIP"] * 3
    assert any(line.startswith("OK       kernel 'python3-r'") for line in lines)
    assert lines[-1].startswith("1 problem:")


def test_doctor_never_loads_r_itself(prefix):
    code = (
        "import sys, io\nfrom rmagic_ext import cli\nstatus = cli.doctor(io.StringIO())\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'rpy2')\n"
        "print(status, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=with_jupyter_path(prefix),
        check=False,
    )
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr


def test_missing_kernelspec_is_a_problem_with_its_fix():
    check = cli.check_kernelspec("no-such-kernel-here")
    assert check.ok is False
    assert check.fix.endswith("-m rmagic_ext install-kernel --name no-such-kernel-here")
    assert check.render().startswith("PROBLEM  kernel 'no-such-kernel-here' is not installed\n")


def test_a_crash_while_loading_r_is_reported_not_suffered():
    """The rpy2 probe runs in a child process: here one that dies of SIGSEGV."""
    crash = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    [check] = cli.check_rpy2_loads(crash, cli.find_r())
    assert check.ok is False
    assert check.message == "loading R through rpy2 crashed Python (signal 11)"
    assert "pip install --force-reinstall" in check.fix and "rpy2" in check.fix


# -- the editable install -------------------------------------------------------


def test_a_folder_named_like_the_package_does_not_shadow_the_install(tmp_path):
    """Python started beside a clone called ``rmagic_ext`` sees that folder
    first on sys.path; the install must still win over it (a namespace
    package there would have no R helper files)."""
    project = Path(__file__).resolve().parents[1]
    (tmp_path / "rmagic_ext").symlink_to(project, target_is_directory=True)
    code = (
        "import rmagic_ext; from importlib import resources; "
        "print(rmagic_ext.__file__); print(resources.files('rmagic_ext').joinpath('R', 'session.R').is_file())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    where, found = done.stdout.split()
    assert Path(where).resolve() == Path(installed_init).resolve()  # the checkout's or the wheel's
    assert found == "True"
