"""rmagic_ext: R in the IPython kernel's own process.

``%load_ext rmagic_ext`` registers ``%R``, ``%%R``, ``%Rpush``, ``%Rpull``,
``%Rget`` and ``%Rdevice``. R itself starts on first use, not at import or load time.
"""

from . import display, graphics, packages  # noqa: F401  (their start-up work and rules, for r(...) too)
from .bridge import r
from . import convert
from .convert import Converter, RObject, py2r, r2py
from .errors import (
    ConversionError,
    ConversionWarning,
    GlobalsTooLarge,
    RemoteError,
    RError,
    RInterrupt,
    RPackageMissing,
    RParseError,
    RSetupError,
)
from .graphics import RPlot
from .remote import remote  # R values and functions pickle (the module's import makes them)

__all__ = [
    "Converter",
    "ConversionError",
    "ConversionWarning",
    "GlobalsTooLarge",
    "RError",
    "RInterrupt",
    "RPackageMissing",
    "RParseError",
    "RSetupError",
    "RemoteError",
    "RObject",
    "RPlot",
    "load_ipython_extension",
    "py2r",
    "r",
    "r2py",
    "remote",
    "unload_ipython_extension",
]
__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    from . import completion, environment, highlighting, inspection
    from .bridge import use_namespace
    from .magics import RMagics

    use_namespace(lambda: ipython.user_ns, lambda: ipython.user_ns_hidden)  # what py$ sees in R
    ipython.register_magics(RMagics)
    magics = ipython.magics_manager.registry["RMagics"]
    graphics.follow_settings(magics.plot_settings)  # r("plot(1)") too
    display.follow_table_limits(lambda: (magics.max_rows, magics.max_cols))  # View(df) too
    completion.install(ipython)
    inspection.install(ipython)
    highlighting.use_in_kernel(ipython)  # nbconvert's exports lex %%R and %R as R
    environment.install(ipython)  # JupyterLab's R environment pane


def _jupyter_labextension_paths() -> list[dict]:
    """The prebuilt JupyterLab extension (R highlighting), for JupyterLab's
    ``jupyter labextension develop``; ``pip install`` puts it in place itself."""
    return [{"src": "labextension/prebuilt", "dest": "rmagic-ext"}]


def unload_ipython_extension(ipython) -> None:
    """Remove what loading added: the magics, the completion matcher and
    R's device hooks. R itself keeps running (an embedded R cannot be
    restarted), with its objects; ``%load_ext`` again picks them up."""
    from . import completion, environment, highlighting, inspection

    magics = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        for name in ("R", "Rpush", "Rpull", "Rget", "Rdevice"):
            magics[kind].pop(name, None)
    completion.uninstall(ipython)
    inspection.uninstall(ipython)
    environment.uninstall(ipython)
    graphics.follow_settings(None)
    display.follow_table_limits(None)
    highlighting.use_in_kernel(ipython, use=False)
    convert.use_frames("pandas")
    convert.use_arrays("numpy")
    convert.use_int64("double")
    graphics.uninstall()
