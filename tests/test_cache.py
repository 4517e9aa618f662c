"""Cached R cells: %%R --cache serves a cell again only when nothing it
depends on changed, replays what it did, and says why when it runs. Each
test has a fresh cache folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from IPython.utils.capture import capture_output

from rmagic_ext import r
from rmagic_ext.cache import CacheMiss, CacheWarning


@pytest.fixture
def cached(ip, tmp_path):
    """Run a %%R --cache cell; answers (hit?, captured output)."""
    magics = ip.magics_manager.registry["RMagics"]
    before = magics.cache_dir, magics.cache
    magics.cache_dir, magics.cache = str(tmp_path / "cache"), "on"

    def run(code: str, line: str = "--cache cell"):
        with capture_output() as captured:
            ip.run_cell_magic("R", line, code)
        cache_meta = [o.metadata.get("rmagic_ext", {}).get("cache") for o in captured.outputs]
        hits = [m for m in cache_meta if m]
        assert len(hits) == 1, cache_meta
        return hits[0]["hit"], captured

    yield run
    magics.cache_dir, magics.cache = before


def outputs_of(captured) -> list:
    """What a cell showed, in order, without the cache's own line."""
    return [(o.data, o.metadata) for o in captured.outputs if "rmagic_ext" not in o.metadata]


SLOW = """set.seed(42)
fit <- lm(mpg ~ wt, data = mtcars)
noise <- rnorm(5)
cat("fitted\\n"); message("a message"); warning("a warning")
plot(mtcars$wt, mtcars$mpg)
summary(fit)$r.squared
"""


def test_a_second_run_is_a_hit_with_the_same_objects_and_outputs(cached):
    hit, first = cached(SLOW)
    assert not hit
    noise = list(r("noise"))
    r("rm(fit, noise); set.seed(1)")
    hit, second = cached(SLOW)
    assert hit
    assert second.stdout == first.stdout and second.stderr == first.stderr
    assert outputs_of(second) == outputs_of(first)  # the plot's bytes too
    assert list(r("noise")) == noise and bool(r("identical(coef(fit), coef(lm(mpg ~ wt, data = mtcars)))"))
    assert list(r("rnorm(2)")) == list(r("set.seed(42); invisible(rnorm(5)); rnorm(2)"))  # the state it left


def test_comments_and_spacing_do_not_count_but_code_does(cached):
    assert not cached("x <- 1 + 1")[0]
    assert cached("# a note\nx <-   1+1  # same")[0]
    assert not cached("x <- 1 + 2")[0]


def test_an_i_frame_edited_in_place_misses(ip, cached):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    ip.user_ns["frame"] = frame
    assert not cached("total <- sum(frame$a)", "--cache sums -i frame")[0]
    assert cached("total <- sum(frame$a)", "--cache sums -i frame")[0]
    frame.loc[0, "a"] = 10.0
    assert not cached("total <- sum(frame$a)", "--cache sums -i frame")[0]
    assert float(r("total")) == 15.0


def test_a_global_changed_elsewhere_misses_and_hits_again_when_changed_back(cached):
    r("k <- 2")
    assert not cached("y <- k * 10")[0]
    r("k <- 3")
    hit, out = cached("y <- k * 10")
    assert not hit and "R global k changed" in str(outputs_of_all(out))
    assert float(r("y")) == 30
    r("k <- 2")
    assert cached("y <- k * 10")[0] and float(r("y")) == 20


def outputs_of_all(captured) -> list:
    return [o.data["text/plain"] for o in captured.outputs if "rmagic_ext" in o.metadata]


def test_a_helper_function_it_calls_changed_misses(cached):
    r("scale_by <- function(x) x * factor_used; factor_used <- 2")
    assert not cached("z <- scale_by(5)")[0]
    assert cached("z <- scale_by(5)")[0]
    r("factor_used <- 3")  # read by the helper, not by the cell
    assert not cached("z <- scale_by(5)")[0]
    r("scale_by <- function(x) x + factor_used")
    assert not cached("z <- scale_by(5)")[0] and float(r("z")) == 8


def test_a_py_value_changed_misses(ip, cached):
    ip.user_ns["threshold"] = 5
    assert not cached("big <- 1:10 > py$threshold")[0]
    assert cached("big <- 1:10 > py$threshold")[0]
    ip.user_ns["threshold"] = 7
    assert not cached("big <- 1:10 > py$threshold")[0]


def test_an_input_file_edited_misses(cached, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n2\n")
    code = f'd <- read.csv("{data}")'
    assert not cached(code)[0]
    assert cached(code)[0]
    data.write_text("a\n1\n2\n3\n")
    assert not cached(code)[0] and int(r("nrow(d)")) == 3
    other = tmp_path / "other.txt"
    other.write_text("one")
    assert not cached("n <- 1", f"--cache named --cache-files {other}")[0]
    other.write_text("two")
    assert not cached("n <- 1", f"--cache named --cache-files {other}")[0]


def test_a_package_version_changed_misses(cached, tmp_path):
    library = tmp_path / "lib"
    library.mkdir()
    for version in ("0.1", "0.2"):
        source = tmp_path / f"src-{version}" / "cachedpkg"
        (source / "R").mkdir(parents=True)
        (source / "DESCRIPTION").write_text(
            textwrap.dedent(f"""\
            Package: cachedpkg
            Version: {version}
            Title: A Package
            Description: For tests.
            License: MIT
            Author: rmagic_ext
            Maintainer: rmagic_ext <rmagic@example.org>
            """)
        )
        (source / "NAMESPACE").write_text("export(answer)\n")
        (source / "R" / "answer.R").write_text(f"answer <- function() {version}\n")
        subprocess.run(
            ["R", "CMD", "INSTALL", "--no-test-load", f"--library={library}", str(source)],
            check=True,
            capture_output=True,
        )
        r(f'.libPaths(c("{library}", .libPaths()))')
        hit, _ = cached("library(cachedpkg)\nv <- answer()")
        assert not hit and float(r("v")) == float(version)
        assert cached("library(cachedpkg)\nv <- answer()")[0]
        r('detach("package:cachedpkg", unload = TRUE)')


def test_random_numbers(cached):
    r("set.seed(5); invisible(runif(1))")
    assert not cached("draw <- runif(1)", "--cache seedless")[0]
    r("set.seed(5); invisible(runif(1))")  # the same state coming in
    assert cached("draw <- runif(1)", "--cache seedless")[0]
    r("set.seed(6); invisible(runif(1))")  # another draw before it
    assert not cached("draw <- runif(1)", "--cache seedless")[0]
    assert not cached("set.seed(9)\nseeded <- runif(2)", "--cache seeded")[0]
    real_after = float(r("runif(1)"))
    r("set.seed(123); invisible(rnorm(10))")  # whatever came before, a seeded cell hits
    assert cached("set.seed(9)\nseeded <- runif(2)", "--cache seeded")[0]
    assert float(r("runif(1)")) == real_after


def test_sys_time_is_served_frozen(cached):
    cached("stamp <- format(Sys.time(), '%H:%M:%OS6')\ncat(stamp, '\\n')")
    first = str(r("stamp"))
    r("Sys.sleep(0.05)")
    hit, out = cached("stamp <- format(Sys.time(), '%H:%M:%OS6')\ncat(stamp, '\\n')")
    assert hit and str(r("stamp")) == first and first in out.stdout


def test_an_external_pointer_is_refused_by_name(cached, tmp_path):
    hit, out = cached(f'handle <- file("{tmp_path / "f.txt"}", "w")', "--cache pointer")
    assert not hit
    assert "R object 'handle' holds an external pointer" in out.stderr
    r("close(handle)")
    assert not cached(f'handle <- file("{tmp_path / "f.txt"}", "w")', "--cache pointer")[0]
    r("close(handle)")


def test_a_damaged_entry_is_a_miss_with_a_warning(cached, tmp_path):
    cached("q <- 1:3")
    (outputs,) = (tmp_path / "cache").rglob("outputs.pickle")
    outputs.write_bytes(b"garbage")
    with pytest.warns(CacheWarning, match="damaged"):
        assert not cached("q <- 1:3")[0]
    assert cached("q <- 1:3")[0]


def test_strict_mode_fails_on_a_miss_and_rerun_runs(ip, cached):
    assert not cached("w <- 1")[0]
    magics = ip.magics_manager.registry["RMagics"]
    magics.cache = "strict"
    try:
        assert cached("w <- 1")[0]
        with pytest.raises(CacheMiss, match="the code changed"):
            ip.run_cell_magic("R", "--cache cell", "w <- 2")
    finally:
        magics.cache = "on"
    assert not cached("w <- 1", "--cache cell --cache-rerun")[0]
    os.environ["RMAGIC_EXT_CACHE"] = "off"
    try:
        with capture_output() as captured:
            ip.run_cell_magic("R", "--cache cell", "w <- 1")
        assert not captured.outputs
    finally:
        del os.environ["RMAGIC_EXT_CACHE"]


def test_rcache_why_list_and_clear(ip, cached):
    r("k <- 1")
    cached("m <- k + 1", "--cache mine")
    r("k <- 5")
    with capture_output() as captured:
        ip.run_line_magic("Rcache", "why mine")
    assert captured.stdout.strip() == "mine: R global k changed"
    with capture_output() as captured:
        ip.run_line_magic("Rcache", "list")
    assert "mine" in captured.stdout
    with capture_output() as captured:
        ip.run_line_magic("Rcache", "clear mine")
    assert "cleared 1" in captured.stdout
    with capture_output() as captured:
        ip.run_line_magic("Rcache", "why mine")
    assert "not in the cache" in captured.stdout


def test_py_writes_and_o_come_back_on_a_hit(ip, cached):
    ip.user_ns["from_r"] = "written by an earlier cell: a name the cell writes is not part of its key"
    code = "py$from_r <- 41 + 1\nvalue <- 7"
    cached(code, "--cache writes -o value")
    del ip.user_ns["from_r"], ip.user_ns["value"]
    assert cached(code, "--cache writes -o value")[0]
    assert ip.user_ns["from_r"] == 42 and list(ip.user_ns["value"]) == [7]


# -- papermill, as CI runs notebooks ----------------------------------------------------------

NOTEBOOK_CELLS = [
    ("code", "rows = 3", {"tags": ["parameters"]}),
    ("code", "%load_ext rmagic_ext", {}),
    ("code", "%%R -i rows --cache made\nmade <- seq_len(rows)\ncat('rows', length(made), '\\n')", {}),
]


def notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, metadata=meta) for _, source, meta in NOTEBOOK_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def papermill(
    source: Path, out: Path, cache: Path, env: dict | None = None, **parameters
) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "papermill", str(source), str(out), "--cwd", str(cache.parent), "-k", "python3"]
    for name, value in parameters.items():
        args += ["-p", name, str(value)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def cache_hits(out: Path) -> list[bool]:
    cells = json.loads(out.read_text())["cells"]
    return [
        o["metadata"]["rmagic_ext"]["cache"]["hit"]
        for c in cells
        for o in c.get("outputs", [])
        if "rmagic_ext" in o.get("metadata", {})
    ]


def test_papermill_parameters_and_strict_mode(tmp_path):
    pytest.importorskip("papermill")
    source = notebook(tmp_path / "report.ipynb")
    cache = tmp_path / ".rmagic_cache"
    for rows, hit in ((3, False), (3, True), (4, False), (4, True), (3, True)):
        done = papermill(source, tmp_path / "out.ipynb", cache, rows=rows)
        assert done.returncode == 0, done.stderr[-2000:]
        assert cache_hits(tmp_path / "out.ipynb") == [hit], (rows, hit)
    failed = papermill(source, tmp_path / "out.ipynb", cache, env={"RMAGIC_EXT_CACHE": "strict"}, rows=5)
    assert failed.returncode != 0 and "CacheMiss" in failed.stderr + failed.stdout


def test_the_tour_notebooks_slow_cell_is_served_from_cache_on_its_second_run(tmp_path):
    pytest.importorskip("papermill")
    import shutil

    source = tmp_path / "cached_cells.ipynb"
    shutil.copy(Path(__file__).parent.parent / "notebooks" / "cached_cells.ipynb", source)
    for hit in (False, True):
        done = papermill(source, tmp_path / "out.ipynb", tmp_path / ".rmagic_cache")
        assert done.returncode == 0, done.stderr[-2000:]
        assert cache_hits(tmp_path / "out.ipynb") == [hit]


def test_a_hit_in_a_real_kernel_is_marked_for_runners(kernel, tmp_path):
    folder = tmp_path / "kernel-cache"
    setup = kernel.execute(f"%config RMagics.cache_dir = {str(folder)!r}")
    assert setup.error is None, setup.error
    cell = "%%R --cache in_kernel\nset.seed(3)\nheld <- runif(2)\ncat('drew', length(held), '\\n')"
    runs = [kernel.execute(cell) for _ in range(2)]
    marks = [
        [
            m["content"]["metadata"]["rmagic_ext"]["cache"]
            for m in run.messages
            if m["msg_type"] == "display_data" and "rmagic_ext" in m["content"]["metadata"]
        ]
        for run in runs
    ]
    assert [m[0]["hit"] for m in marks] == [False, True] and marks[1][0]["name"] == "in_kernel"
    assert [run.text() for run in runs] == ["drew 2 \n", "drew 2 \n"]
    values = kernel.execute("%R held")
    assert values.error is None and "array([" in values.messages[-1]["content"]["data"]["text/plain"]
    kernel.execute("%config RMagics.cache_dir = '.rmagic_cache'")
