"""Which R is installed, and which rpy2 fits it.

Importable without rpy2 (the Makefile asks it which rpy2 to install), so it
only runs R's command-line front end, never the embedded R.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import metadata

#: rpy2 3.6 calls R_getVar, which R gained in 4.5; older R needs rpy2 3.5.x.
RPY2_FOR_OLD_R = "rpy2>=3.5.17,<3.6"
RPY2_FOR_NEW_R = "rpy2>=3.6,<3.7"
NEW_R = (4, 5)


def r_version() -> tuple[int, int, int] | None:
    """The version of the ``R`` on PATH, or None when there is none."""
    r = shutil.which("R")
    if r is None:
        return None
    out = subprocess.run([r, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"R version (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in match.groups()) if match else None


def rpy2_requirement(version: tuple[int, ...] | None = None) -> str:
    """The pip requirement for the rpy2 release that fits R ``version``."""
    version = version or r_version()
    if version is None:
        raise SystemExit("R is not installed: install r-base-core (Debian: apt-get install r-base-core r-base-dev)")
    return RPY2_FOR_NEW_R if tuple(version[:2]) >= NEW_R else RPY2_FOR_OLD_R


def rpy2_version() -> str | None:
    try:
        return metadata.version("rpy2")
    except metadata.PackageNotFoundError:
        return None


def rpy2_fits(r: tuple[int, ...] | None, rpy2: str | None) -> bool:
    """Whether the installed rpy2 release can load the installed R."""
    if r is None or rpy2 is None:
        return False
    major_minor = tuple(int(part) for part in re.findall(r"\d+", rpy2)[:2])
    needs_new_r = major_minor >= (3, 6)
    return needs_new_r == (tuple(r[:2]) >= NEW_R)


def mismatch_advice() -> str:
    """One paragraph that says what is wrong between R and rpy2 and how to fix it."""
    r, rpy2 = r_version(), rpy2_version()
    if r is None:
        return (
            "R was not found on PATH. Install it (Debian/Ubuntu: "
            "apt-get install r-base-core r-base-dev) or run `make setup`."
        )
    if rpy2 is None:
        return f"rpy2 is not installed. Run: pip install '{rpy2_requirement(r)}'"
    shown = ".".join(map(str, r))
    if not rpy2_fits(r, rpy2):
        return f"rpy2 {rpy2} does not fit R {shown} (rpy2 3.6 needs R >= 4.5). Run: pip install '{rpy2_requirement(r)}'"
    return f"R {shown} with rpy2 {rpy2} should work; see `python -m rmagic_ext doctor`."


if __name__ == "__main__":  # `python rmagic_ext/rsetup.py`: the Makefile's question
    print(rpy2_requirement())
