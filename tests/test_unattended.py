"""Notebooks that run unattended (papermill, ``jupyter nbconvert --execute``,
nbclient: no stdin) never wait for an answer; papermill's parameters reach
R; R packages installed from a notebook go into the project's library,
where the next kernel and a papermill job find them.

R packages come from a local repository (``file://``) built here with
``R CMD build``: these machines have no internet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from kernel_helpers import Kernel


def notebook(path: Path, *cells: str, parameters: str | None = None) -> Path:
    """A notebook that loads the extension, then runs ``cells``."""
    nb_cells = [new_code_cell("%load_ext rmagic_ext")]
    if parameters is not None:
        nb_cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb_cells += [new_code_cell(source) for source in cells]
    nb = new_notebook(
        cells=nb_cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nbformat.write(nb, path)
    return path


ASKING = [
    "%%R\nanswer <- readline('Your name? ')\ncat('chars:', nchar(answer), '\\n')",
    "%%R\nf <- function() { x <- 1; browser(); x + 1 }\nf()",
    "%%R\nx <- scan(n = 1)\ncat('read', length(x), '\\n')",
    "%%R\nok <- askYesNo('Continue?')\ncat('ok:', ok, '\\n')",
    "%%R\npb <- txtProgressBar(max = 300, style = 3)\nfor (i in 1:300) setTxtProgressBar(pb, i)\nclose(pb)",
]


def outputs_text(nb) -> list[str]:
    """Each code cell's stream text, joined."""
    return [
        "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def check_asking_notebook_ran(nb) -> None:
    texts = outputs_text(nb)
    assert "chars: 0" in texts[1]  # readline(): "" at once
    assert "[1] 2" in texts[2]  # the debugger did not stop
    assert "read 0" in texts[3] and texts[3].count("nobody can answer here") == 1
    assert "ok: TRUE" in texts[4]  # askYesNo(): its default
    assert texts[5].rstrip().endswith("100%")


def test_papermill_runs_a_notebook_whose_r_asks_without_waiting(tmp_path):
    papermill = pytest.importorskip("papermill")
    path = notebook(tmp_path / "asks.ipynb", *ASKING)
    started = time.monotonic()
    papermill.execute_notebook(
        str(path), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
    )
    assert time.monotonic() - started < 120
    check_asking_notebook_ran(nbformat.read(tmp_path / "out.ipynb", as_version=4))


def test_nbconvert_execute_runs_it_too(tmp_path):
    path = notebook(tmp_path / "asks.ipynb", *ASKING)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.kernel_name=python3",
            "--ExecutePreprocessor.timeout=120",
            "--output",
            "out.ipynb",
            str(path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    check_asking_notebook_ran(nbformat.read(tmp_path / "out.ipynb", as_version=4))


def test_nbclient_runs_it_too(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(notebook(tmp_path / "asks.ipynb", *ASKING), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    check_asking_notebook_ran(nb)


def test_menu_fails_an_unattended_run_at_once_with_r_s_message(tmp_path):
    papermill = pytest.importorskip("papermill")
    path = notebook(tmp_path / "menu.ipynb", "%%R\nchoice <- menu(c('a', 'b'))", "print('not reached')")
    started = time.monotonic()
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(path), str(tmp_path / "out.ipynb"), kernel_name="python3", cwd=str(tmp_path), progress_bar=False
        )
    assert time.monotonic() - started < 120
    assert caught.value.ename == "RError" and "menu() cannot be used non-interactively" in caught.value.evalue


def test_papermill_parameters_reach_r_and_r_errors_fail_the_run_with_r_s_message(tmp_path):
    papermill = pytest.importorskip("papermill")
    path = notebook(
        tmp_path / "params.ipynb",
        "%%R -i alpha,label\ncat(label, alpha * 2, '\\n')",
        parameters="alpha = 1\nlabel = 'default'",
    )
    papermill.execute_notebook(
        str(path),
        str(tmp_path / "out.ipynb"),
        parameters={"alpha": 21, "label": "doubled"},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    assert "doubled 42" in outputs_text(nbformat.read(tmp_path / "out.ipynb", as_version=4))[-1]
    failing = notebook(
        tmp_path / "fails.ipynb",
        "%%R -i alpha\nif (alpha > 10) stop('alpha too large: ', alpha)",
        parameters="alpha = 1",
    )
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(failing),
            str(tmp_path / "out2.ipynb"),
            parameters={"alpha": 21},
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    assert caught.value.ename == "RError" and "alpha too large: 21" in caught.value.evalue


# -- R packages per project -------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_repo(tmp_path_factory) -> str:
    """A CRAN-like repository (file://) holding one small package, tinypkg."""
    root = tmp_path_factory.mktemp("r-repo")
    source = root / "tinypkg"
    (source / "R").mkdir(parents=True)
    (source / "DESCRIPTION").write_text(
        "Package: tinypkg\nVersion: 0.1.0\nTitle: A Tiny Package for Tests\nDescription: Says hello.\n"
        "License: MIT\nAuthor: rmagic_ext's tests\nMaintainer: rmagic_ext <tests@example.org>\n"
    )
    (source / "NAMESPACE").write_text("export(hello)\n")
    (source / "R" / "hello.R").write_text("hello <- function(who = 'world') paste0('hello, ', who)\n")
    subprocess.run(
        ["R", "CMD", "build", "--no-build-vignettes", "--no-manual", str(source)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    contrib = root / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    shutil.move(str(root / "tinypkg_0.1.0.tar.gz"), contrib)
    subprocess.run(
        ["Rscript", "-e", f"tools::write_PACKAGES('{contrib}', type = 'source')"], check=True, capture_output=True
    )
    return f"file://{root / 'repo'}"


INSTALLED: dict = {}  # what the project's install printed


@pytest.fixture(scope="module")
def project(tmp_path_factory, local_repo) -> Path:
    """A project folder in which a notebook installed tinypkg."""
    folder = tmp_path_factory.mktemp("project")
    kernel = Kernel(cwd=str(folder), outside_pytest=True)
    try:
        assert kernel.execute("%load_ext rmagic_ext").error is None
        run = kernel.execute(f"%%R\ninstall.packages('tinypkg', repos = '{local_repo}', type = 'source')", timeout=180)
        assert run.error is None, run.error
        INSTALLED["run"] = run
    finally:
        kernel.shutdown()
    return folder


def test_install_packages_installs_into_the_project_library(project):
    library = project / "r-library"
    assert (library / "tinypkg" / "DESCRIPTION").is_file()
    shown = "".join(text for _, text in INSTALLED["run"].streams)
    assert "DONE (tinypkg)" in shown  # R CMD INSTALL's output, in the notebook


def test_the_next_kernel_in_the_project_finds_what_was_installed(project):
    kernel = Kernel(cwd=str(project))
    try:
        kernel.execute("%load_ext rmagic_ext")
        run = kernel.execute("%%R\nlibrary(tinypkg)\ncat(hello('R'), '\\n')\ncat(.libPaths()[1], '\\n')")
        assert run.error is None, run.error
        out = run.text()
        assert "hello, R" in out and str((project / "r-library").resolve()) in out
    finally:
        kernel.shutdown()


def test_a_papermill_job_run_from_the_project_finds_it(project):
    papermill = pytest.importorskip("papermill")
    path = notebook(project / "uses.ipynb", "%%R\nlibrary(tinypkg)\ncat(hello('papermill'), '\\n')")
    papermill.execute_notebook(
        str(path), str(project / "uses-out.ipynb"), kernel_name="python3", cwd=str(project), progress_bar=False
    )
    assert "hello, papermill" in outputs_text(nbformat.read(project / "uses-out.ipynb", as_version=4))[-1]


def test_install_packages_never_stops_at_the_mirror_menu(tmp_path, local_repo):
    kernel = Kernel(cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext rmagic_ext")
        kernel.execute(f"%config RMagics.cran_mirror = '{local_repo}'")
        run = kernel.execute(
            "%%R\noptions(repos = c(CRAN = '@CRAN@'))  # as R builds other than Debian's have\n"
            "install.packages('tinypkg', type = 'source')",
            timeout=180,
        )
        assert run.error is None, run.error
        assert (tmp_path / "r-library" / "tinypkg").is_dir()
    finally:
        kernel.shutdown()


def test_doctor_shows_the_project_library_and_what_notebooks_miss(project):
    notebook(project / "needs.ipynb", "%%R\nlibrary(tinypkg)\nlibrary(surelynotapackage)\nx <- otherpkg::f()")
    done = subprocess.run(
        [sys.executable, "-m", "rmagic_ext", "doctor", "--notebooks", str(project)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("OK") and "R library for this project" in line and "(1 package)" in line for line in lines
    ), done.stdout
    problems = [line for line in lines if line.startswith("PROBLEM")]
    assert any("surelynotapackage is loaded by needs.ipynb" in line for line in problems), done.stdout
    assert any("otherpkg is loaded by needs.ipynb" in line for line in problems), done.stdout
    assert not any("tinypkg" in line for line in problems)  # installed in the project's library
    assert done.returncode == 1
