"""R packages per project, installed from the notebook (R's side: R/packages.R).

- The project's R library (``%config RMagics.r_library``: by default the
  folder ``r-library`` in the kernel's working directory, which is the
  notebook's folder; "" for none) comes first on R's ``.libPaths()`` when
  it exists. ``install.packages()`` in a cell creates it and installs there:
  no root needed, and a papermill job run from the project finds what the
  notebook installed.
- ``install.packages()`` never stops at R's mirror menu: where R has no
  repository set (``@CRAN@``, as R builds other than Debian's have),
  ``%config RMagics.cran_mirror`` is used.
- :func:`packages_used` reads notebooks for the R packages their ``%%R``
  cells and ``%R`` lines load (doctor lists those that are missing). No R.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable

from .session import RCode, get_session, on_start

_R = RCode("packages.R")

DEFAULT_LIBRARY = "r-library"
DEFAULT_MIRROR = "https://cloud.r-project.org"
_config = {"library": DEFAULT_LIBRARY, "mirror": DEFAULT_MIRROR}
_started = {"yes": False}


def library_path(setting: str | None = None, folder: str | os.PathLike | None = None) -> Path | None:
    """The project's R library: ``setting`` (the configured one by default)
    resolved against ``folder`` (the working directory); None for none."""
    setting = _config["library"] if setting is None else setting
    if not setting:
        return None
    path = Path(setting).expanduser()
    return path if path.is_absolute() else Path(folder or os.getcwd()) / path


def configure(*, library: str | None = None, mirror: str | None = None) -> None:
    """Set the project library and the mirror; applied at once where R runs."""
    if library is not None:
        _config["library"] = library
    if mirror is not None:
        if not mirror:
            raise ValueError("the CRAN mirror cannot be empty")
        _config["mirror"] = mirror
    if _started["yes"]:
        with get_session().entered():
            _apply()


@on_start
def _start(session) -> None:
    _started["yes"] = True
    _apply()


def _apply() -> None:
    path = library_path()
    _R("packages_setup", str(path) if path is not None else "", _config["mirror"])


# -- what notebooks load --------------------------------------------------------------

_LOADS = re.compile(r"""\b(?:library|require|requireNamespace|loadNamespace)\s*\(\s*["']?([A-Za-z][A-Za-z0-9.]*)""")
_QUALIFIED = re.compile(r"""(?<![\w.$@])([A-Za-z][A-Za-z0-9.]*):::?[A-Za-z.`]""")
_BASE = {
    "base",
    "stats",
    "utils",
    "methods",
    "graphics",
    "grDevices",
    "datasets",
    "tools",
    "grid",
    "parallel",
    "splines",
    "stats4",
    "tcltk",
    "compiler",
}


def r_code_of(cell_source: str) -> str:
    """The R code in one notebook cell: a ``%%R`` cell's body (and its
    line), or the code of its ``%R`` lines."""
    lines = cell_source.splitlines()
    if lines and lines[0].lstrip().startswith("%%R"):
        return "\n".join(lines)
    return "\n".join(line.split("%R", 1)[1] for line in lines if "%R " in line or line.strip().startswith("%R"))


def packages_used(notebooks: Iterable[str | os.PathLike]) -> dict[str, list[str]]:
    """R packages (beyond base R's) that the notebooks' R code loads, each
    with the notebooks that load it; notebooks that cannot be read are skipped."""
    used: dict[str, list[str]] = {}
    for path in notebooks:
        try:
            cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            code = r_code_of("".join(source) if isinstance(source, list) else source)
            code = re.sub(r"#[^\n]*", "", code)  # not what comments name
            for name in set(_LOADS.findall(code)) | set(_QUALIFIED.findall(code)):
                if name not in _BASE and Path(path).name not in used.setdefault(name, []):
                    used[name].append(Path(path).name)
    return dict(sorted(used.items()))
