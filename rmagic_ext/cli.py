"""What ``python -m rmagic_ext`` does: install a kernelspec, check a setup.

``install-kernel`` writes a Jupyter kernelspec "Python 3 + R" that starts
ipykernel with this extension already loaded. ``doctor`` checks, one line
each, everything an ``%%R`` cell needs (R, rpy2, graphics devices, the R
packages the notebooks use, the kernelspec) and gives the command that fixes
each problem.

The doctor never loads R into its own process: rpy2 is only imported in a
child process, so a crash while loading R is reported instead of suffered.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TextIO

from . import packages, rsetup

KERNEL_NAME = "python3-r"
DISPLAY_NAME = "Python 3 + R"
#: The R packages the notebooks in notebooks/ use (globals: R functions pickled for
#: other processes find what they need with its walker).
NOTEBOOK_PACKAGES = ("ggplot2", "lattice", "rlang", "R6", "globals")
#: graphics.R opens png() and jpeg() with type = "cairo", and svg() is cairo's.
DEVICE_CAPABILITIES = ("png", "jpeg", "cairo")
PROBE_TIMEOUT = 60.0


# -- install-kernel ---------------------------------------------------------


def in_virtualenv() -> bool:
    """Whether this Python runs inside a virtual environment (venv or virtualenv)."""
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def default_location() -> str:
    """Where ``install-kernel`` installs without a flag: the venv, else the user's."""
    return "sys-prefix" if in_virtualenv() else "user"


def kernel_argv() -> list[str]:
    """The kernel's command line: this Python's ipykernel, with the extension loaded."""
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext", "rmagic_ext"]


def write_kernelspec(directory: Path, display_name: str = DISPLAY_NAME) -> Path:
    """Write kernel.json and ipykernel's logos into ``directory`` (created); return it."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        from ipykernel.kernelspec import RESOURCES

        for logo in Path(RESOURCES).glob("logo-*"):
            shutil.copyfile(logo, directory / logo.name)
    except ImportError:  # logos are a nicety; the kernel itself needs ipykernel anyway
        pass
    spec = {
        "argv": kernel_argv(),
        "display_name": display_name,
        "language": "python",
        "metadata": {"debugger": True},
    }
    (directory / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return directory


def install_kernel(
    name: str = KERNEL_NAME, display_name: str = DISPLAY_NAME, location: str | None = None, prefix: str | None = None
) -> str:
    """Install the kernelspec and return the directory it landed in.

    ``location`` is "user", "sys-prefix" or "prefix" (then ``prefix`` is the
    directory); None means :func:`default_location`.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    location = location or default_location()
    user = location == "user"
    if location == "sys-prefix":
        prefix = sys.prefix
    elif location != "prefix":
        prefix = None
    with tempfile.TemporaryDirectory() as tmp:
        source = write_kernelspec(Path(tmp) / name, display_name)
        return KernelSpecManager().install_kernel_spec(str(source), name, user=user, prefix=prefix)


# -- doctor: checks ---------------------------------------------------------


@dataclass
class Check:
    """One line of the doctor's report. ``ok`` is None when the check could not run."""

    ok: bool | None
    message: str
    fix: str | None = None
    note: bool = False  # works, but slower or with less than it could

    @property
    def status(self) -> str:
        return "NOTE" if self.note else {True: "OK", False: "PROBLEM", None: "SKIP"}[self.ok]

    def render(self) -> str:
        line = f"{self.status:<8} {self.message}"
        if self.fix:
            line += f"\n{'':<8} fix: {self.fix}"
        return line


@dataclass
class RInstall:
    """The R on PATH: its front end, version and R_HOME (all None when there is none)."""

    path: str | None
    version: tuple[int, int, int] | None
    home: str | None

    @property
    def shown(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "?"

    def rscript(self) -> str | None:
        """The Rscript that belongs to this R."""
        if self.home and Path(self.home, "bin", "Rscript").exists():
            return str(Path(self.home, "bin", "Rscript"))
        return shutil.which("Rscript")


def python_command() -> str:
    """How to name this Python in a fix: ``python`` when PATH finds this one, else its path."""
    on_path = shutil.which("python")
    if on_path and os.path.abspath(on_path) == os.path.abspath(sys.executable):
        return "python"
    return shlex.quote(sys.executable)


def apt_command(*packages: str) -> str | None:
    """The apt-get line installing ``packages`` (with sudo when not root), or None without apt."""
    if shutil.which("apt-get") is None and not os.path.exists("/usr/bin/apt-get"):
        return None
    sudo = "" if os.geteuid() == 0 or shutil.which("sudo") is None else "sudo "
    return f"{sudo}apt-get install -y {' '.join(packages)}"


def find_r() -> RInstall:
    """Locate R on PATH and ask it for its version (via rsetup) and its R_HOME."""
    path = shutil.which("R")
    if path is None:
        return RInstall(None, None, None)
    version = rsetup.r_version()
    try:
        home = (
            subprocess.run(
                [path, "RHOME"], capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.TimeoutExpired):
        home = None
    return RInstall(path, version, home)


def check_r(r: RInstall) -> Check:
    """R on PATH, with a version we can read and an R_HOME."""
    if r.path is None:
        fix = apt_command("r-base-core", "r-base-dev") or "install R >= 4.2 from https://cloud.r-project.org"
        return Check(False, "R not found on PATH", fix)
    if r.version is None or r.home is None:
        return Check(
            False,
            f"R at {r.path} did not report its version and R_HOME (`R --version`, `R RHOME`)",
            apt_command("--reinstall", "r-base-core") or "reinstall R",
        )
    return Check(True, f"R {r.shown} at {r.path} (R_HOME {r.home})")


def check_rpy2(r: RInstall) -> Check:
    """rpy2 installed, in the release that fits this R (rsetup decides)."""
    installed = rsetup.rpy2_version()
    if r.version is None:
        shown = f"rpy2 {installed}" if installed else "rpy2 (not installed)"
        return Check(None, f"{shown}: fit not checked without R")
    fix = f"{python_command()} -m pip install '{rsetup.rpy2_requirement(r.version)}'"
    if installed is None:
        return Check(False, "rpy2 is not installed", fix)
    if not rsetup.rpy2_fits(r.version, installed):
        return Check(False, f"rpy2 {installed} does not fit R {r.shown} (rpy2 3.6 needs R >= 4.5)", fix)
    return Check(True, f"rpy2 {installed} fits R {r.shown}")


#: The child loads and starts R with the session's own code, then reports
#: which libR entry points this R exports (rmagic_ext._rapi decides).
RPY2_PROBE = (
    "import json; from rmagic_ext import _rapi, session; session.start_embedded_r(); "
    "print('rmagic_ext-features', json.dumps(_rapi.features()))"
)
FEATURES_TAG = "rmagic_ext-features "


def start_rpy2_probe() -> subprocess.Popen:
    """Start a child Python that loads R through rpy2 (a crash there cannot hurt us)."""
    return subprocess.Popen(
        [sys.executable, "-c", RPY2_PROBE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = PROBE_TIMEOUT) -> tuple[int | None, str, str]:
    """Wait for a probe; (returncode, stdout, stderr), returncode None when it timed out."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def check_rpy2_loads(proc: subprocess.Popen | None, r: RInstall) -> list[Check]:
    """Whether the probe started R as the session does, and what its libR
    offers; why not when it did not."""
    if proc is None:
        return [Check(None, "rpy2 loading R: not tried (fix R and rpy2 first)")]
    code, out, err = finish(proc)
    features = next(
        (json.loads(line[len(FEATURES_TAG) :]) for line in out.splitlines() if line.startswith(FEATURES_TAG)), None
    )
    if code == 0 and features is not None:
        loaded = Check(
            True,
            f"rpy2 loads R in a fresh Python, as the session does "
            f"(rpy2 {features['rpy2']}, cffi {features['cffi_mode']} mode, R_HOME {r.home})",
        )
        return [loaded, *check_libr(features, r)]
    fix = f"{python_command()} -m pip install --force-reinstall --no-cache-dir '{rsetup.rpy2_requirement(r.version)}'"
    if code is None:
        return [Check(False, f"rpy2 did not load R within {PROBE_TIMEOUT:.0f} s", fix)]
    if code < 0:
        return [Check(False, f"loading R through rpy2 crashed Python (signal {-code})", fix)]
    last = next((line for line in reversed(err.splitlines()) if line.strip()), "no message")
    return [Check(False, f"rpy2 cannot load R: {last.strip()}", fix)]


def check_libr(features: dict, r: RInstall) -> list[Check]:
    """libR's entry points: the ones the session needs, then one note per
    feature that is slower because R does not export an optional symbol."""
    missing = features["required_missing"]
    if missing:
        return [
            Check(
                False,
                f"R {r.shown}'s libR does not export {', '.join(missing)}, which rmagic_ext needs",
                "report this R version to rmagic_ext; meanwhile use an R from 4.2 to 4.6",
            )
        ]
    chosen = [f"{what} via {group}" for what, group in features["alternatives"].items() if group]
    checks = [
        Check(
            True,
            f"libR exports all {features['required']} entry points the session needs"
            + (f"; {'; '.join(chosen)}" if chosen else ""),
        )
    ]
    for what, group in features["alternatives"].items():
        if group is None:
            checks.append(Check(True, f"without {what}: R {r.shown} exports none of its symbols", note=True))
    by_feature: dict[str, list[str]] = {}
    for symbol, feature in features["missing"].items():
        by_feature.setdefault(feature, []).append(symbol)
    for feature, symbols in by_feature.items():
        checks.append(
            Check(True, f"slower or off: {feature} (R {r.shown} does not export {', '.join(symbols)})", note=True)
        )
    return checks


# One Rscript run answers every R-side question, one tab-separated line each.
R_PROBE = (
    "caps <- capabilities(c({caps})); "
    "for (n in names(caps)) cat('rmagic_ext', 'capability', n, caps[[n]], '\\n', sep = '\\t'); "
    "for (p in c({pkgs})) {{ "
    "ok <- suppressWarnings(suppressMessages(requireNamespace(p, quietly = TRUE))); "
    "v <- if (ok) as.character(utils::packageVersion(p)) else ''; "
    "cat('rmagic_ext', 'package', p, ok, v, '\\n', sep = '\\t') }}"
)


def r_probe_code(packages: Iterable[str] = ()) -> str:
    """The R code of the probe, for DEVICE_CAPABILITIES, NOTEBOOK_PACKAGES
    and ``packages`` (those the notebooks of the folder load)."""
    quote = lambda names: ", ".join(f"'{n}'" for n in names)  # noqa: E731
    names = list(dict.fromkeys([*NOTEBOOK_PACKAGES, *packages]))
    return R_PROBE.format(caps=quote(DEVICE_CAPABILITIES), pkgs=quote(names))


def start_r_probe(r: RInstall, packages: Iterable[str] = (), library: Path | None = None) -> subprocess.Popen | None:
    """Start the one Rscript that reports devices and packages (None without
    Rscript), with the project's R library first, as the session has it."""
    rscript = r.rscript()
    if rscript is None:
        return None
    env = dict(os.environ)
    if library is not None and library.is_dir():
        env["R_LIBS"] = os.pathsep.join(filter(None, [str(library), env.get("R_LIBS", "")]))
    return subprocess.Popen(
        [rscript, "-e", r_probe_code(packages)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def parse_r_probe(text: str) -> dict[tuple[str, str], list[str]]:
    """``{(kind, name): [values...]}`` from the probe's ``rmagic_ext``-tagged lines."""
    found = {}
    for line in text.splitlines():
        fields = line.rstrip("\n").split("\t")
        if len(fields) >= 4 and fields[0] == "rmagic_ext":
            found[(fields[1], fields[2])] = [f.strip() for f in fields[3:]]
    return found


def check_devices(probe: dict) -> Check:
    """The graphics devices %%R plots use: png and jpeg through cairo, svg (cairo)."""
    missing = [cap for cap in DEVICE_CAPABILITIES if probe.get(("capability", cap), ["FALSE"])[0] != "TRUE"]
    if not missing:
        return Check(True, "graphics devices: png, jpeg, svg (cairo)")
    fix = (
        apt_command("r-base-core", "libcairo2", "libpangocairo-1.0-0")
        or "install an R built with cairo support (capabilities('cairo') must be TRUE)"
    )
    return Check(False, f"graphics devices missing in R: {', '.join(missing)} (plots need cairo)", fix)


def check_package(probe: dict, package: str) -> Check:
    """One R package the notebooks use, loadable with requireNamespace."""
    values = probe.get(("package", package), ["FALSE"])
    if values[0] == "TRUE":
        version = values[1] if len(values) > 1 and values[1] else "?"
        return Check(True, f"R package {package} {version}")
    fix = apt_command(f"r-cran-{package.lower()}") or f"Rscript -e 'install.packages(\"{package}\")'"
    return Check(False, f"R package {package} is not installed", fix)


def check_r_side(
    proc: subprocess.Popen | None, used: dict[str, list[str]] | None = None, folder: Path | None = None
) -> list[Check]:
    """Devices and packages, from one Rscript run: those rmagic_ext's own
    notebooks use, and those the notebooks of ``folder`` load (``used``)."""
    if proc is None:
        return [Check(None, "graphics devices and R packages: not checked without R")]
    code, out, err = finish(proc)
    probe = parse_r_probe(out)
    if code != 0 or not probe:
        why = "timed out" if code is None else (err.strip().splitlines() or ["no output"])[-1]
        return [
            Check(
                False,
                f"Rscript could not check devices and packages: {why}",
                apt_command("--reinstall", "r-base-core") or "reinstall R",
            )
        ]
    checks = [check_devices(probe)] + [check_package(probe, p) for p in NOTEBOOK_PACKAGES]
    return checks + check_notebook_packages(probe, used or {}, folder or Path.cwd())


def check_project_library(folder: Path) -> Check:
    """The project's R library (RMagics.r_library), where install.packages() installs."""
    library = packages.library_path(folder=folder)
    if library is None:
        return Check(
            True, "no project R library (RMagics.r_library is empty): installs go to R's own library", note=True
        )
    if not library.is_dir():
        return Check(
            True, f"R library for this project: none yet; install.packages() in a notebook makes {library}", note=True
        )
    count = sum(1 for p in library.iterdir() if (p / "DESCRIPTION").is_file())
    return Check(True, f"R library for this project: {library} ({count} package{'s' if count != 1 else ''})")


def check_notebook_packages(probe: dict, used: dict[str, list[str]], folder: Path) -> list[Check]:
    """The R packages that the notebooks in ``folder`` load: one line for
    all of them when they are there, else one per missing package."""
    wanted = {p: nbs for p, nbs in used.items() if p not in NOTEBOOK_PACKAGES}
    if not wanted:
        return []
    missing = {p: nbs for p, nbs in wanted.items() if probe.get(("package", p), ["FALSE"])[0] != "TRUE"}
    if not missing:
        return [Check(True, f"R packages the notebooks in {folder} load: {', '.join(wanted)}")]
    library = packages.library_path(folder=folder)
    checks = []
    for package, notebooks in missing.items():
        shown = ", ".join(notebooks[:3]) + (" and more" if len(notebooks) > 3 else "")
        fix = (apt_command(f"r-cran-{package.lower()}") or "") + (
            f'  (or, in a notebook: install.packages("{package}"), into {library})' if library else ""
        )
        checks.append(Check(False, f"R package {package} is loaded by {shown} but is not installed", fix.strip()))
    return checks


def check_kernelspec(name: str = KERNEL_NAME) -> Check:
    """The "Python 3 + R" kernelspec is where Jupyter looks, and its Python exists."""
    fix = f"{python_command()} -m rmagic_ext install-kernel"
    if name != KERNEL_NAME:
        fix += f" --name {shlex.quote(name)}"
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check(False, "jupyter_client is not installed", f"{python_command()} -m pip install jupyter_client")
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return Check(False, f"kernel {name!r} is not installed", fix)
    if not spec.argv or not os.path.exists(spec.argv[0]):
        return Check(False, f"kernel {name!r} ({spec.resource_dir}) starts a Python that no longer exists", fix)
    if "rmagic_ext" not in " ".join(spec.argv):
        return Check(False, f"kernel {name!r} ({spec.resource_dir}) does not load rmagic_ext", fix)
    return Check(True, f"kernel {name!r} ({spec.display_name}) at {spec.resource_dir}")


def check_labextension() -> Check:
    """JupyterLab finds the extension that highlights R as R (pip installs
    it beside the package; see ARCHITECTURE.md)."""
    try:
        import jupyterlab  # noqa: F401
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return Check(True, "JupyterLab is not installed here: its R highlighting extension is not needed", note=True)
    for folder in jupyter_path("labextensions"):
        if (Path(folder) / "rmagic-ext" / "package.json").exists():
            return Check(True, f"JupyterLab extension rmagic-ext (R highlighting) at {Path(folder) / 'rmagic-ext'}")
    return Check(
        False,
        "JupyterLab extension rmagic-ext (R highlighting in %%R cells) is not installed",
        f"{python_command()} -m pip install --force-reinstall --no-deps rmagic_ext",
    )


# -- doctor: the report -----------------------------------------------------


def run_checks(folder: str | os.PathLike = ".") -> list[Check]:
    """Every check, in report order; the two slow probes run at the same
    time. ``folder``: the project whose notebooks and R library are checked."""
    folder = Path(folder).resolve()
    used = packages.packages_used(sorted(folder.glob("*.ipynb")))
    r = find_r()
    checks = [check_r(r), check_rpy2(r)]
    r_usable = checks[0].ok is True
    rpy2_proc = start_rpy2_probe() if r_usable and checks[1].ok else None
    r_proc = start_r_probe(r, used, packages.library_path(folder=folder)) if r_usable else None
    checks.extend(check_rpy2_loads(rpy2_proc, r))
    checks.extend(check_r_side(r_proc, used, folder))
    checks.append(check_project_library(folder))
    checks.append(check_kernelspec())
    checks.append(check_labextension())
    return checks


def doctor(out: TextIO | None = None, folder: str | os.PathLike = ".") -> int:
    """Print the report; return the exit status: 1 when anything is broken, else 0."""
    out = out or sys.stdout
    checks = run_checks(folder)
    for check in checks:
        print(check.render(), file=out)
    problems = sum(check.ok is False for check in checks)
    print(
        "All checks passed."
        if not problems
        else f"{problems} problem{'s' if problems > 1 else ''}: run the fix lines above, then this again.",
        file=out,
    )
    return 1 if problems else 0
