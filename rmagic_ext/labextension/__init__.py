"""The JupyterLab extension's files (see ARCHITECTURE.md, "The JupyterLab
extension and its build"): its sources, its prebuilt JavaScript, and the
digest that ties the two together.

``make labextension`` writes the digest after each build
(:func:`write_build_files`); the test suite checks it, so prebuilt files
that no longer match the sources fail the tests instead of shipping.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "rmagic-ext"  # the npm package's name, and the labextension's folder name
PREBUILT = HERE / "prebuilt"
DIGEST = PREBUILT / "sources.sha256"
#: What `jupyter labextension list` says about where the extension came from.
INSTALL = {
    "packageManager": "python",
    "packageName": "rmagic_ext",
    "uninstallInstructions": "Uninstall the Python package: pip uninstall rmagic_ext",
}


def sources(folder: Path = HERE) -> list[Path]:
    """What the build reads: the package, its locked dependencies, the modules
    and the style sheet. ``folder``: this one in a checkout (the sources do not
    ship in the wheel)."""
    return [
        folder / "package.json",
        folder / "package-lock.json",
        *sorted((folder / "src").glob("*.js")),
        *sorted((folder / "style").glob("*.css")),
    ]


def sources_digest(folder: Path = HERE) -> str:
    digest = hashlib.sha256()
    for path in sources(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def write_build_files() -> None:
    """After a build (which empties ``prebuilt/``): the sources' digest and
    the install.json that JupyterLab reads for installed extensions."""
    DIGEST.write_text(sources_digest() + "\n")
    (PREBUILT / "install.json").write_text(json.dumps(INSTALL, indent=2) + "\n")
