"""Run by `make check-wheel` with the Python of a fresh venv where only the
built wheel (and what it depends on) is installed: the package as users get
it, not the source tree. Fails when anything the wheel should carry is
missing (an R file, the JupyterLab extension, the lexers, the licence)."""

import os
import sys
from importlib import metadata
from pathlib import Path

import rmagic_ext
from packaging.requirements import Requirement

here = Path(rmagic_ext.__file__).resolve().parent
source = Path(sys.argv[1]).resolve()
assert here != source / "rmagic_ext" and "site-packages" in here.parts, (
    f"rmagic_ext was imported from {here}, not from the installed wheel"
)

shipped_r = sorted(p.name for p in (here / "R").glob("*.R"))
expected_r = sorted(p.name for p in (source / "rmagic_ext" / "R").glob("*.R"))
assert shipped_r == expected_r, f"R files in the wheel {shipped_r} != in the source {expected_r}"
assert (here / "py.typed").exists(), "py.typed is not in the wheel"

files = [str(f) for f in metadata.files("rmagic_ext")]
assert any(f.endswith("licenses/LICENSE") for f in files), "LICENSE is not in the wheel"
labext = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "rmagic-ext"
assert (labext / "package.json").exists() and list((labext / "static").glob("remoteEntry.*.js")), (
    f"the JupyterLab extension is not installed where JupyterLab looks ({labext})"
)
assert metadata.version("rmagic_ext") == rmagic_ext.__version__
lexers = {ep.name for ep in metadata.entry_points(group="pygments.lexers")}
assert {"rmagic-r", "rmagic-ipython3"} <= lexers, lexers

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "rmagic_ext")
shell.user_ns["values"] = [1.5, 2.5, 3.0]
shell.run_cell_magic("R", "-i values -o total", "total <- sum(values)\nplot(values)")
assert float(shell.user_ns["total"][0]) == 7.0
from rmagic_ext import r  # noqa: E402

r.doubled = [1, 2]
assert list(r("doubled * 2")) == [2, 4]
optional = {"polars", "scipy", "xarray", "distributed"}  # pyarrow: pandas itself imports it where installed
assert not optional & set(sys.modules), f"imported before any of their values was pushed: {optional & set(sys.modules)}"


def extra(name: str) -> None:
    """Each extra's requirements are installed, as docs/getting-started.md ("Installing with pip") promises."""
    declared = [Requirement(text) for text in metadata.requires("rmagic_ext") or []]
    wanted = [req for req in declared if req.marker is not None and req.marker.evaluate({"extra": name})]
    assert wanted, f"the wheel declares no extra [{name}]"
    for req in wanted:
        metadata.version(req.name)  # raises PackageNotFoundError when missing


for name in ("arrow", "xarray", "dask", "ray", "spark", "lab", "test", "docs"):
    extra(name)

# [arrow]: Arrow tables, polars frames and scipy's sparse matrices reach R.
import numpy  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import scipy.sparse as sparse  # noqa: E402

r.table = pa.table({"x": [1.0, 2.0], "s": ["a", "b"]})
r.frame = pl.DataFrame({"n": [1, 2, 3]})
r.sparse = sparse.csc_array([[0.0, 1.0], [2.0, 0.0]])
assert list(r("c(is.data.frame(table), nrow(frame), class(sparse)[1])")) == ["TRUE", "3", "dgCMatrix"]

# [xarray]: a DataArray becomes an R array with dimnames, and comes back labelled.
import xarray as xr  # noqa: E402

shell.run_line_magic("config", 'RMagics.arrays = "xarray"')
shell.user_ns["cube"] = xr.DataArray([[1, 2], [3, 4]], dims=("row", "col"), coords={"row": ["a", "b"]})
shell.run_cell_magic("R", "-i cube -o back", "back <- cube * 10L")
assert isinstance(shell.user_ns["back"], xr.DataArray) and shell.user_ns["back"].sel(row="b").values.tolist() == [
    30,
    40,
]

# [dask]: the worker plugin starts R on a LocalCluster's worker; a function runs there.
from distributed import Client, LocalCluster  # noqa: E402

from rmagic_ext import remote  # noqa: E402
from rmagic_ext.dask import RWorkerPlugin  # noqa: E402

with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
    client.register_plugin(RWorkerPlugin())
    square = remote(r("function(x) x^2"))
    assert float(numpy.ravel(client.submit(square, 7).result())[0]) == 49.0

# [lab]: JupyterLab lists the prebuilt extension as enabled.
import subprocess  # noqa: E402

listed = subprocess.run(
    [sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True, check=True
)
assert any(
    "rmagic-ext" in line and "enabled" in line and "OK" in line for line in (listed.stdout + listed.stderr).splitlines()
), listed
print(
    f"check-wheel: rmagic_ext {rmagic_ext.__version__} from {here}: {len(shipped_r)} R files, "
    f"the JupyterLab extension, the lexers and the licence are installed; a %%R cell ran (pid {os.getpid()}); "
    "the extras [arrow], [xarray], [dask], [lab] do what the docs say"
)
