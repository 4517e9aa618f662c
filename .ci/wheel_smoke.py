"""Run by `make check-wheel` with the Python of a fresh venv where only the
built wheel (and what it depends on) is installed: the package as users get
it, not the source tree. Fails when anything the wheel should carry is
missing (an R file, the JupyterLab extension, the lexers, the licence)."""

import os
import sys
from importlib import metadata
from pathlib import Path

import rmagic_ext

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
print(
    f"check-wheel: rmagic_ext {rmagic_ext.__version__} from {here}: {len(shipped_r)} R files, "
    f"the JupyterLab extension, the lexers and the licence are installed; a %%R cell ran (pid {os.getpid()})"
)
