"""R plots in the notebook: one device per cell, pages shown in order.

A cell gets a device only if it draws (R opens it through ``options(device)``
and tells us), so a cell without plots pays nothing. After each top-level expression,
completed pages are shown where the cell's output has got to, and the page
in progress is shown as a snapshot that later expressions update in place
(``plot`` then ``lines`` gives one image, not two). At the end of the cell,
also after an error or an interrupt, the device is closed, the last pages
are shown and the cell's private folder is removed.

Sizes, resolution and format follow the notebook's matplotlib settings unless
set on the cell (``-w -h -u -r -p -b``, as in rpy2) or by ``%config RMagics``.

R code that Python runs outside a cell (``r("plot(1)")``, ``r.hist(x)``, an
``RObject`` function) draws the same way: its pages show after each call into
R, updated in place by later calls, until the IPython cell ends. Matplotlib
figures that Python code called from R makes are shown after the top-level R
expression that made them, in order with R's own.

A plot object that comes to Python (a ggplot, a lattice plot, a grob, a
recorded plot) is an :class:`RPlot`: an ``RObject`` that IPython shows as an
image in the notebook's format and size, and that saves itself as png, svg,
jpeg or pdf.
"""

from __future__ import annotations

import atexit
import base64
import dataclasses
import math
import re
import sys
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.display import display

from .convert import RObject, default
from .session import RCode, as_dict, get_session, is_null, on_start

_R = RCode("graphics.R")

FORMATS = ("png", "svg", "retina", "jpeg")
_MIME = {"png": "image/png", "retina": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
_PER_INCH = {"in": 1.0, "cm": 2.54, "mm": 25.4}
_MATPLOTLIB_DEFAULT = {"figsize": (6.4, 4.8), "dpi": 100.0}  # matplotlib's own defaults


@dataclass(frozen=True)
class DeviceSpec:
    """How the cell's pages look: the R device is opened from this."""

    format: str = "png"
    width: float = 6.4
    height: float = 4.8
    units: str = "in"
    res: float = 100.0
    pointsize: float = 12.0
    bg: str = "white"
    isolate_svg: bool = True
    type: str = "cairo"  # png()/jpeg()'s type (rpy2's --type)
    #: what the cell's options or %config set, which IRkernel's R options
    #: (repr.plot.*, jupyter.plot_mimetypes) do not override
    explicit: frozenset = frozenset()

    @property
    def inches(self) -> tuple[float, float]:
        if self.units == "px":
            return self.width / self.res, self.height / self.res
        per_inch = _PER_INCH[self.units]
        return self.width / per_inch, self.height / per_inch

    @property
    def pixels(self) -> tuple[int, int]:
        """The size the image is shown at, in CSS pixels."""
        w, h = self.inches
        return round(w * self.res), round(h * self.res)

    def for_r(self) -> dict:
        """The arguments of R's device function."""
        scale = 2 if self.format == "retina" else 1
        width, height, units = self.width, self.height, self.units
        if units == "px":
            width, height = width * scale, height * scale
        w_in, h_in = self.inches
        return {
            "format": "png" if self.format == "retina" else self.format,
            "ext": "svg" if self.format == "svg" else ("jpeg" if self.format == "jpeg" else "png"),
            "width": float(width),
            "height": float(height),
            "units": units,
            "res": float(self.res * scale),
            "pointsize": float(self.pointsize),
            "bg": self.bg,
            "type": self.type,
            "retina": self.format == "retina",
            "width_in": float(w_in),
            "height_in": float(h_in),
            **{f"explicit_{name}": name in self.explicit for name in ("size", "res", "pointsize", "bg", "format")},
        }


def matplotlib_defaults(shell) -> dict:
    """Figure size, dpi and format of the notebook's matplotlib inline figures,
    read only if matplotlib is already in use (never imported for R's sake)."""
    found = dict(_MATPLOTLIB_DEFAULT)
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        found["figsize"] = tuple(mpl.rcParams["figure.figsize"])
        found["dpi"] = float(mpl.rcParams["figure.dpi"])
    found["format"] = _inline_format(shell)
    return found


def _inline_format(shell) -> str | None:
    formats = None
    backend = sys.modules.get("matplotlib_inline.config")
    if backend is not None and backend.InlineBackend.initialized():
        formats = backend.InlineBackend.instance().figure_formats
    elif shell is not None and "InlineBackend" in shell.config:
        formats = shell.config.InlineBackend.get("figure_formats")
    for preferred in ("retina", "svg", "png", "jpeg"):
        if formats and preferred in formats:
            return preferred
    return None


@dataclass(frozen=True)
class PlotSettings:
    """Plot defaults (``%config RMagics``): None or "" follows matplotlib."""

    device: str = ""
    width: float | None = None
    height: float | None = None
    units: str = "in"
    res: float | None = None
    pointsize: float = 12.0
    bg: str = "white"


def resolve_spec(args, settings: PlotSettings, shell=None) -> DeviceSpec:
    """Cell options first (rpy2's meanings: -w/-h in px unless -u says
    otherwise, -r 72 when units are physical), then the ``settings``, then
    the notebook's matplotlib settings (of ``shell``)."""
    mpl = matplotlib_defaults(shell)
    fmt = settings.device or mpl["format"] or "png"
    if args.width is not None or args.height is not None or args.units is not None:
        units = args.units or ("in" if fmt == "svg" else "px")  # rpy2: svg sizes are inches
        res = args.res or (72 if units != "px" else mpl["dpi"])
    else:
        units = settings.units
        res = args.res or settings.res or mpl["dpi"]
    default_w, default_h = (_in_units(inches, units, res) for inches in _default_inches(settings, mpl))
    width = args.width if args.width is not None else default_w  # the other side: the default, same units
    height = args.height if args.height is not None else default_h
    explicit = {
        name
        for name, given in (
            (
                "size",
                args.width is not None
                or args.height is not None
                or args.units is not None
                or settings.width is not None
                or settings.height is not None,
            ),
            ("res", args.res is not None or settings.res is not None),
            ("pointsize", args.pointsize is not None or settings.pointsize != PlotSettings.pointsize),
            ("bg", args.bg is not None or settings.bg != PlotSettings.bg),
            ("format", bool(settings.device)),
        )
        if given
    }
    spec = DeviceSpec(
        format=fmt,
        width=float(width),
        height=float(height),
        units=units,
        res=float(res),
        pointsize=float(args.pointsize or settings.pointsize),
        bg=args.bg or settings.bg,
        isolate_svg=args.isolate_svgs,
        type=getattr(args, "type", None) or "cairo",
        explicit=frozenset(explicit),
    )
    check_size(spec)
    return spec


#: What a cell with no plot options asks for (what Python's own drawing uses).
_NO_OPTIONS = SimpleNamespace(
    width=None, height=None, units=None, res=None, pointsize=None, bg=None, isolate_svgs=True, type=None
)
_settings_source: Callable[[], PlotSettings] = PlotSettings


def follow_settings(source: Callable[[], PlotSettings] | None) -> None:
    """Where the plot defaults come from for drawing outside a cell (the
    magics' ``%config RMagics`` traits while the extension is loaded)."""
    global _settings_source
    _settings_source = source or PlotSettings


def python_spec() -> DeviceSpec:
    """How plots drawn by Python's calls into R look: as a cell with no options."""
    return resolve_spec(_NO_OPTIONS, _settings_source(), get_ipython())


def _default_inches(settings: PlotSettings, mpl: dict) -> tuple[float, float]:
    """The configured plot size (``%config RMagics``), else matplotlib's figure size, in inches."""
    fig_w, fig_h = mpl["figsize"]
    per_unit = (settings.res or mpl["dpi"]) if settings.units == "px" else _PER_INCH[settings.units]
    return (
        settings.width / per_unit if settings.width else fig_w,
        settings.height / per_unit if settings.height else fig_h,
    )


def _in_units(inches: float, units: str, res: float) -> float:
    return inches * res if units == "px" else inches * _PER_INCH[units]


#: The largest image a cell may draw: a side, and the whole (pixels, after
#: retina's doubling). Beyond, R's device would need gigabytes and minutes.
MAX_SIDE = 20_000
MAX_PIXELS = 100_000_000


def check_size(spec: DeviceSpec) -> None:
    """Refuse sizes no notebook can show, with the limit, before R draws."""
    for name, value in (
        ("width", spec.width),
        ("height", spec.height),
        ("res", spec.res),
        ("pointsize", spec.pointsize),
    ):
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"plot {name} must be a finite number above 0 (got {value!r})")
    if spec.pointsize > MAX_POINTSIZE:
        raise UsageError(f"-p/--pointsize: {spec.pointsize:g} is out of bounds (at most {MAX_POINTSIZE})")
    scale = 2 if spec.format == "retina" else 1
    w_in, h_in = spec.inches
    width, height = w_in * spec.res * scale, h_in * spec.res * scale  # floats: inf where they overflow
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS or round(width) <= 0 or round(height) <= 0:
        shown = (
            f"{width:.4g} x {height:.4g} px"
            if math.isfinite(width * height)
            else f"{w_in:.4g} x {h_in:.4g} in at {spec.res:.4g} dpi, not a pixel count"
        )
        raise UsageError(
            f"{_culprit(spec, w_in, h_in)}: the plot would be {shown}: each side at most "
            f"{MAX_SIDE} px, at most {MAX_PIXELS // 1_000_000} megapixels"
        )


MAX_POINTSIZE = 10_000


def _culprit(spec: DeviceSpec, w_in: float, h_in: float) -> str:
    """The option that makes a plot too large (or too small) to draw."""
    if spec.res > MAX_SIDE or spec.res * min(w_in, h_in) * 2 < 1:
        return "-r/--res"
    if not (0 < w_in * spec.res <= MAX_SIDE):
        return "-w/--width"
    if not (0 < h_in * spec.res <= MAX_SIDE):
        return "-h/--height"
    return "-w/-h"


class Plots:
    """The session's plotting: R's device option points at a device of ours,
    which tells us when a cell opens it; only then does a cell pay for
    graphics (polls after its expressions, closing, showing pages)."""

    def __init__(self, session):
        self.session = session
        self.dir = session.tmpdir / "plots"
        self.dir.mkdir(exist_ok=True)
        self.spec: DeviceSpec | None = None
        self.opened = False
        self.active: CellGraphics | None = None  # the magic cell running now
        self.python: CellGraphics | None = None  # what Python's own calls into R drew this IPython cell
        self._callback = session.ri.rternalize(self._device_opened)  # kept: rpy2 needs it alive
        _R("graphics_install", str(self.dir), self._callback)
        session.on_leave(self._after_python_call)
        self.shell = get_ipython()
        if self.shell is not None:
            self.shell.events.register("post_run_cell", self.end_python_drawing)

    def _device_opened(self):
        """R opens our device: in a magic cell, with the cell's spec (already
        R's); otherwise Python code is drawing, with the defaults, which R
        takes from what this returns."""
        self.opened = True
        if self.active is not None:
            return self.session.ri.BoolSexpVector([True])  # not a list: R keeps the cell's spec
        self.spec = python_spec()
        self.python = CellGraphics(self)
        return _r_list(self.session, self.spec.for_r())

    def _after_python_call(self) -> None:
        """After each call from Python into R: show what it drew (finished
        pages, and the page in progress as a snapshot later calls update)."""
        if self.python is None or self.active is not None:
            return
        if self.shell is None:  # plain Python: nowhere to show it (RPlot.save writes files)
            self.python, self.opened = None, False
            _R("graphics_discard")
            return
        self.python.after_expression(last=False)

    def end_python_drawing(self, *_) -> None:
        """The IPython cell ended (or a magic cell starts): close the device
        Python's calls drew on and show its last pages."""
        drawing, self.python = self.python, None
        if drawing is not None:
            with self.session.entered():
                drawing.__exit__(None, None, None)

    def uninstall(self) -> None:
        self.end_python_drawing()
        self.session.forget_leave_hook(self._after_python_call)
        if self.shell is not None:
            try:
                self.shell.events.unregister("post_run_cell", self.end_python_drawing)
            except ValueError:
                pass
        with self.session.entered():
            _R("graphics_uninstall")

    def cell(self, spec: DeviceSpec) -> "CellGraphics":
        if spec != self.spec:
            with self.session.entered():
                _R("graphics_spec", _r_list(self.session, spec.for_r()))
            self.spec = spec
        return CellGraphics(self)


class CellGraphics:
    """The graphics of one cell: a context around running it."""

    def __init__(self, plots: Plots):
        self.plots, self.session, self.spec = plots, plots.session, plots.spec
        self.handles: dict[tuple[int, int], object] = {}  # (device, page) -> its display

    def __enter__(self) -> "CellGraphics":
        self.plots.end_python_drawing()  # Python's plots so far go out before the cell's
        if self.plots.opened:  # our device is open from elsewhere (a device R opened on its own)
            with self.session.entered():
                _R("graphics_discard")
        self.plots.opened = False
        self.plots.active = self
        return self

    def after_expression(self, last: bool) -> None:
        """Show what the expression drew, matplotlib's figures (from Python
        that R called) first; the last expression's page is shown when the
        device closes (one rendering instead of two)."""
        _flush_matplotlib()
        if last or not self.plots.opened:
            return  # what the last expression drew is shown when the cell ends
        with self.session.entered():
            res = as_dict(_R("graphics_poll", True))
            completed = [Path(path) for path in res["completed"]]
            closed = [Path(path) for path, page in zip(res["completed"], res["pages"]) if not page]
            snapshot = None if is_null(res["snapshot"]) else Path(res["snapshot"][0])
        for path in completed + ([snapshot] if snapshot else []):
            self._show(_key(path), path)
        for path in closed:  # pages of a device closed by dev.off(): shown, and gone
            path.unlink(missing_ok=True)

    def __exit__(self, *exc) -> None:
        if self.plots.active is self:
            self.plots.active = None
        if not self.plots.opened:
            return
        try:
            with self.session.entered():
                res = as_dict(_R("graphics_end"))
                published, same = int(res["published"][0]), int(res["same"][0])
                closed, pages = [Path(p) for p in res["closed"]], [Path(p) for p in res["pages"]]
            for path in closed:
                self._show(_key(path), path)
            for page, path in enumerate(pages[published:], start=published + 1):
                if page != same:
                    self._show(_key(path), path)
        finally:
            self.plots.opened = False
            for path in self.plots.dir.iterdir():
                path.unlink(missing_ok=True)

    def _show(self, key, path: Path) -> None:
        with self.session.entered():
            info = as_dict(_R("graphics_page_info", key[1]))
            extras = [Path(p) for p in _R("graphics_extras", key[1])]
        data, metadata = page_bundle(info, self.spec, path, extras)
        sys.stdout.flush()  # text printed before the plot goes out before it
        sys.stderr.flush()
        if key in self.handles:
            self.handles[key].update(data, raw=True, metadata=metadata)
        else:
            self.handles[key] = display(data, raw=True, metadata=metadata, display_id=True)


_FORMAT_MIME = {**_MIME, "pdf": "application/pdf"}


def page_bundle(info: dict, spec: DeviceSpec, path: Path, extras: list[Path]) -> tuple[dict, dict]:
    """A page as IRkernel sends it: the image drawn (with the spec in force
    when the device opened, IRkernel's options applied), the other formats
    jupyter.plot_mimetypes asks for, and the plot's text/plain line."""
    fmt = str(info["format"][0])
    shown = DeviceSpec(
        format="retina" if fmt == "png" and bool(info["retina"][0]) else fmt,
        width=float(info["width_in"][0]),
        height=float(info["height_in"][0]),
        units="in",
        res=float(info["res"][0]),
        isolate_svg=spec.isolate_svg,
    )
    data, metadata = {}, {}
    for file in [path, *extras]:
        kind = shown.format if file is path else file.suffix.lstrip(".")
        one, meta = image_bundle(replace(shown, format=kind) if kind != shown.format else shown, file)
        data.update(one)
        metadata.update({mime: m for mime, m in meta.items() if m})
    scale = float(info["shown_scale"][0])
    if scale > 0:
        width, height = shown.pixels
        for mime in data:
            if mime.startswith("image/") and mime != "image/svg+xml":
                metadata[mime] = {
                    **metadata.get(mime, {}),
                    "width": round(width / scale),
                    "height": round(height / scale),
                }
    text = info.get("text")
    if text is not None and not is_null(text):
        data["text/plain"] = str(text[0])
    return data, metadata


def image_bundle(spec: DeviceSpec, path: Path) -> tuple[dict, dict]:
    """The display data and metadata of an image file drawn with ``spec``."""
    fmt = spec.format
    mime = _FORMAT_MIME[fmt]
    if fmt == "svg":
        meta = {"isolated": True} if spec.isolate_svg else {}
        return {mime: path.read_text(encoding="utf-8")}, {mime: meta}
    width, height = spec.pixels
    meta = {"width": width, "height": height} if fmt == "retina" else {}
    return {mime: base64.b64encode(path.read_bytes()).decode("ascii")}, {mime: meta}


# -- plot objects in Python ---------------------------------------------------------

_SAVE_FORMATS = {".png": "png", ".svg": "svg", ".jpg": "jpeg", ".jpeg": "jpeg", ".pdf": "pdf"}


class RPlot(RObject):
    """An R plot object (ggplot2, lattice, grid grob, recorded plot) in
    Python: IPython shows it as an image, drawn as a cell with no plot
    options would draw it; :meth:`save` writes it to a file. Everything else
    is an ``RObject``'s: R's members, pushable back unchanged."""

    __slots__ = ()

    def __repr__(self) -> str:
        """A description: R's print of a plot object draws it instead."""
        return f"<RPlot of class {'/'.join(self.rclass)}: shown as an image; .save(path) writes it>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        spec = python_spec()
        path = self._draw(spec, "png" if spec.format == "retina" else spec.format)
        try:
            return image_bundle(spec, path)
        finally:
            path.unlink(missing_ok=True)

    def save(
        self,
        path,
        format: str | None = None,
        width: float | None = None,
        height: float | None = None,
        units: str = "in",
        res: float | None = None,
    ) -> Path:
        """Draw the plot into ``path`` (png, svg, jpeg or pdf, from ``format``
        or the file's suffix), at the notebook's default size unless
        ``width``/``height`` (in ``units``: in, cm, mm or px) say otherwise."""
        if "\x00" in str(path):
            raise ValueError(f"RPlot.save: a file path cannot hold NUL ({str(path)!r})")
        path = Path(path)
        fmt = format or _SAVE_FORMATS.get(path.suffix.lower())
        if fmt not in _SAVE_FORMATS.values():
            raise ValueError(
                f"RPlot.save: cannot tell the format of {str(path)!r}; "
                f"give format= one of {sorted(set(_SAVE_FORMATS.values()))}"
            )
        spec = python_spec()
        if units not in ("in", "cm", "mm", "px"):
            raise ValueError(f"RPlot.save: units must be in, cm, mm or px (got {units!r})")
        res = float(res or spec.res)
        w_in, h_in = spec.inches
        spec = dataclasses.replace(
            spec,
            format="png" if fmt == "pdf" else fmt,
            units=units,
            res=res,
            width=float(width) if width is not None else _in_units(w_in, units, res),
            height=float(height) if height is not None else _in_units(h_in, units, res),
        )
        check_size(spec)
        drawn = self._draw(spec, fmt)
        drawn.replace(path) if drawn.parent == path.parent else path.write_bytes(drawn.read_bytes())
        drawn.unlink(missing_ok=True)
        return path

    def _draw(self, spec: DeviceSpec, fmt: str) -> Path:
        session = get_session()
        folder = session.tmpdir / "objects"
        folder.mkdir(exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.{spec.for_r()['ext'] if fmt != 'pdf' else 'pdf'}"
        with session.entered():
            _R("draw_plot_object", self.sexp, _r_list(session, spec.for_r()), str(path), fmt)
        return path


@default.r2py.register("ggplot")
@default.r2py.register("trellis")
@default.r2py.register("grob")
@default.r2py.register("gtable")
@default.r2py.register("recordedplot")
def plot_object_to_py(sexp) -> RPlot:
    """Plot objects become RPlots (a graphics concern, so registered here)."""
    return RPlot(sexp)


def _flush_matplotlib() -> None:
    """Show the figures matplotlib's inline backend holds (as it does at the
    end of a cell); nothing when matplotlib is not in use."""
    pyplot, inline = sys.modules.get("matplotlib.pyplot"), sys.modules.get("matplotlib_inline.backend_inline")
    if pyplot is None or inline is None or not pyplot.get_fignums():
        return
    if "inline" not in str(pyplot.get_backend()).lower():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    inline.flush_figures()


_PAGE_FILE = re.compile(r"^d(\d+)-(?:page|snapshot)(\d+)")


def _key(path: Path) -> tuple[int, int]:
    """(device, page) of a page's file or snapshot (R names them so): a
    snapshot and the finished page are one display, updated in place."""
    found = _PAGE_FILE.match(path.name)
    return int(found.group(1)), int(found.group(2))


_plots: Plots | None = None


@on_start
def install(session) -> None:
    """Point R's device option at our per-cell device (again after
    :func:`uninstall`)."""
    global _plots
    if _plots is None:
        _plots = Plots(session)
        atexit.register(_let_go)


def _let_go() -> None:
    """At exit, while rpy2 can still free R's callback (at teardown it cannot)."""
    if _plots is not None:
        _plots._callback = None


def uninstall() -> None:
    """Give R its own device option and hooks back (``%unload_ext``)."""
    global _plots
    if _plots is not None:
        _plots.uninstall()
        _plots = None


def cell(spec: DeviceSpec) -> CellGraphics:
    """The graphics context for a cell drawn with ``spec``."""
    session = get_session()  # starts R (and with it our device) if needed
    if _plots is None:
        with session.entered():
            install(session)
    return _plots.cell(spec)


def _r_list(session, values: dict):
    ri = session.ri
    items = [
        ri.StrSexpVector([v])
        if isinstance(v, str)
        else ri.BoolSexpVector([v])
        if isinstance(v, bool)
        else ri.FloatSexpVector([v])
        for v in values.values()
    ]
    rlist = ri.ListSexpVector(items)
    rlist.do_slot_assign("names", ri.StrSexpVector(list(values)))
    return rlist
