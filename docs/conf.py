"""Sphinx configuration of rmagic_ext's documentation site (`make docs`).

Pages are MyST markdown (readable on GitHub too); the notebooks of
notebooks/ are copied into docs/examples/ (generated, ignored by git) and
executed by myst-nb at every build; the API reference comes from the
docstrings (autodoc), RMagics' settings from its traitlets (_ext/rmagic_settings.py),
and the speed chart from benchmarks/results/transfer.json (_ext/speed_chart.py).
Nothing here touches the network.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import rmagic_ext  # noqa: E402

project = "rmagic_ext"
author = "rmagic_ext contributors"
copyright = "rmagic_ext contributors"
version = release = rmagic_ext.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "rmagic_settings",
    "speed_chart",
]

# -- the example notebooks ---------------------------------------------------
# notebooks/ is where users open them (`make lab`); the site executes copies.
# Left out: many_cores.ipynb (it starts a Dask LocalCluster of worker
# processes, slow to start and heavy on a 2-core machine, and its R output
# comes back from other processes).
EXAMPLES = [
    "getting_started",
    "tour",
    "both_languages_same_objects",
    "plots_in_both_languages",
    "arrow_polars_sparse",
    "cached_cells",
    "from_rpy2",
    "analysis",
]


def copy_examples() -> None:
    """notebooks/NAME.ipynb -> docs/examples/NAME.ipynb, only when changed
    (copy2 keeps the time stamp, so Sphinx rebuilds only what changed)."""
    target = DOCS / "examples"
    target.mkdir(exist_ok=True)
    for name in EXAMPLES:
        source, copy = REPO / "notebooks" / f"{name}.ipynb", target / f"{name}.ipynb"
        if not copy.exists() or not filecmp.cmp(source, copy, shallow=False):
            shutil.copy2(source, copy)
    for stale in target.glob("*.ipynb"):
        if stale.stem not in EXAMPLES:
            stale.unlink()


copy_examples()

# -- MyST and myst-nb ----------------------------------------------------------
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_in_temp = True  # cached_cells.ipynb's .rmagic_cache goes to a temporary folder
nb_execution_show_tb = True
nb_kernel_rgx_aliases = {".*": "python3"}  # the venv's own python3 kernel (the extension is loaded in the notebooks)


def use_curve_keys() -> None:
    """The kernels that execute the notebooks get CurveZMQ keys (one pair for
    this build, made here): ipykernel warns, on stderr, at every start over
    TCP without them, and myst-nb offers no way to pass them."""
    import zmq
    from jupyter_client.connect import ConnectionFileMixin

    public, secret = zmq.curve_keypair()
    traits = ConnectionFileMixin.class_traits()
    traits["curve_publickey"].default_value = public
    traits["curve_secretkey"].default_value = secret


use_curve_keys()

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "**/.rmagic_cache", "Thumbs.db", ".DS_Store"]

# -- autodoc -------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# nitpicky (-n) checks every reference; references into other libraries
# (pandas, numpy, rpy2, traitlets, IPython, typing) cannot resolve without
# intersphinx, which would touch the network: only those are let go.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!rmagic_ext\b).*"),
]

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"rmagic_ext {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []


def setup(app):
    # Code blocks marked python hold IPython with magics (`%R mean(x)`), and
    # blocks marked r may start with `%%R`: the package's own lexers read
    # both (R inside the magics), so the fences stay plain for GitHub.
    from rmagic_ext.highlighting import IPythonRLexer, RCellLexer

    app.add_lexer("python", IPythonRLexer)
    app.add_lexer("r", RCellLexer)
