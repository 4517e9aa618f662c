"""The IPython surface: %R, %%R, %Rpush, %Rpull, %Rget.

Each magic reads like a recipe: parse options, resolve names, convert and
assign, run, show, convert back. Everything that touches R lives in the
layers below.
"""

from __future__ import annotations

import hashlib
import math
import textwrap

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, argument_group, magic_arguments, parse_argstring
from traitlets import Bool, CaselessStrEnum, Float, Int, TraitError, Unicode, observe, validate

from .. import cache as cache_module, convert, display, graphics, packages
from ..relay import DEFAULT_LIMIT as DEFAULT_OUTPUT_LIMIT
from ..remote import DEFAULT_MAX_SIZE, configure as configure_remote
from ..convert import push
from ..convert.robject import named
from ..convert.rpy2_converter import Rpy2Converter, is_rpy2_converter
from ..session import get_session
from .options import (
    MissingRName,
    NotAConverter,
    check_r_name,
    colour,
    finite_positive,
    parse_pairs,
    resolve,
    split_names,
    split_options,
)


def _converter_option(f):
    return argument(
        "-c",
        "--converter",
        default=None,
        help="Name of a rmagic_ext.Converter (or an rpy2.robjects.conversion.Converter, "
        "as with rpy2's magics) in the Python namespace to use for this call "
        "instead of the default one.",
    )(f)


@magics_class
class RMagics(Magics):
    """Magics that run R in this process and move values across.

    Plot defaults are traits (``%config RMagics.device = 'svg'``); those left
    unset follow the notebook's matplotlib figure size, dpi and format.
    """

    device = CaselessStrEnum(
        ("",) + graphics.FORMATS,
        default_value="",
        help="Plot format: png, svg, retina or jpeg; empty to follow "
        "the matplotlib inline backend (png when it says nothing).",
    ).tag(config=True)
    width = Float(None, allow_none=True, help="Plot width in `units` (default: matplotlib's figure width).").tag(
        config=True
    )
    height = Float(None, allow_none=True, help="Plot height in `units` (default: matplotlib's figure height).").tag(
        config=True
    )
    units = CaselessStrEnum(("in", "px", "cm", "mm"), default_value="in", help="Units of width and height.").tag(
        config=True
    )
    res = Float(None, allow_none=True, help="Resolution in dpi (default: matplotlib's figure dpi).").tag(config=True)
    pointsize = Float(12.0, help="Point size of text in plots.").tag(config=True)
    bg = Unicode("white", help="Background colour of plots.").tag(config=True)
    max_rows = Int(20, help="Rows of a data.frame or matrix shown in its HTML table (first and last halves).").tag(
        config=True
    )
    max_cols = Int(20, help="Columns shown in a data.frame or matrix's HTML table.").tag(config=True)
    cache = CaselessStrEnum(
        cache_module.MODES,
        default_value="on",
        help=(
            "Cached cells (%%R --cache): 'on' serves them and stores them, 'off' runs every cell, 'refresh' "
            "runs and stores again, 'read-only' serves but never stores, 'strict' makes a cell that is not "
            "served from the cache an error (for CI). The environment variable RMAGIC_EXT_CACHE wins."
        ),
    ).tag(config=True)
    cache_dir = Unicode(
        ".rmagic_cache",
        help=("Where cached cells are stored (relative to the kernel's working directory, the notebook's folder)."),
    ).tag(config=True)
    cache_max_entry = Int(2 * 2**30, help="Bytes one cached cell may take; a larger one is not stored.").tag(
        config=True
    )
    cache_max_total = Int(
        10 * 2**30, help=("Bytes all cached cells may take; beyond it the least recently used are dropped.")
    ).tag(config=True)
    warnings = CaselessStrEnum(
        display.WARNING_STYLES,
        default_value="r",
        help=(
            "How R's warnings read: 'r' as R's console prints them (\"Warning in f() : msg\", rpy2's habit), "
            "'irkernel' as IRkernel shows them (\"Warning message in f():\" and the message quoted)."
        ),
    ).tag(config=True)
    rich_vectors = Bool(
        False,
        help=(
            "Show visible plain vectors, factors and lists as IRkernel does (HTML, LaTeX and markdown lists, "
            "as display data) instead of R's console print (rpy2's habit, the default)."
        ),
    ).tag(config=True)
    frames = CaselessStrEnum(
        convert.FRAME_KINDS,
        default_value="pandas",
        help=(
            "What R data.frames become in Python (-o, %Rpull, %Rget, %R's value and r.x): "
            "pandas DataFrames, polars DataFrames or pyarrow Tables (row names, unless automatic, "
            "as a first column 'rownames')."
        ),
    ).tag(config=True)
    arrays = CaselessStrEnum(
        convert.ARRAY_KINDS,
        default_value="numpy",
        help=(
            "What R arrays and matrices with dimnames become in Python (the magics and r.x): 'numpy' "
            "as rpy2's magics (the names dropped, with a warning), 'xarray' DataArrays with the dims and "
            "coordinates R named, or 'pandas' (a Series for one dimension, a DataFrame for two)."
        ),
    ).tag(config=True)
    int64 = CaselessStrEnum(
        convert.INT64_MODES,
        default_value="double",
        help=(
            "How integers beyond R's integer range go to R: 'double' (exact up to 2**53, an error "
            "beyond) or 'bit64' (bit64::integer64, exact, where R has the bit64 package)."
        ),
    ).tag(config=True)
    vectors = CaselessStrEnum(
        convert.SHAPES,
        default_value="arrays",
        help=(
            "Shape of the R vectors the magics return (%R's value, -o, %Rpull, %Rget, -d): "
            "'arrays' as rpy2's magics (numpy arrays, length 1 too, names dropped; factors "
            "pandas.Categorical); 'python' for scalars at length 1 and Series for named vectors, "
            "factors and dates."
        ),
    ).tag(config=True)

    remote_max_size = Int(
        DEFAULT_MAX_SIZE,
        help=(
            "Bytes an R function may take along from the notebook when it is pickled for another "
            "process (its globals, captured); above it pickling fails, naming the largest. 0: no limit."
        ),
    ).tag(config=True)
    remote_keep_source = Bool(
        False, help=("Keep source references (the text of the cell) in R functions pickled for other processes.")
    ).tag(config=True)
    remote_relay = Bool(
        True,
        help=(
            "What R prints, messages and warns while a function from the notebook runs in another process "
            "comes back to the notebook, each line marked with the function and process. False: the "
            "worker's own streams get it (for chatty functions over very many tasks)."
        ),
    ).tag(config=True)
    remote_output_limit = Int(
        DEFAULT_OUTPUT_LIMIT,
        help=(
            "Characters of one task's output relayed back from a worker: beyond it the middle is cut, "
            "with a line saying how much. 0: no limit."
        ),
    ).tag(config=True)

    r_library = Unicode(
        packages.DEFAULT_LIBRARY,
        help=(
            "The project's R library: install.packages() installs there, and it comes first on R's "
            ".libPaths() (relative to the kernel's working directory, the notebook's folder; '' for none)."
        ),
    ).tag(config=True)
    cran_mirror = Unicode(
        packages.DEFAULT_MIRROR,
        help=("The repository install.packages() uses where R has none set (instead of asking for a mirror)."),
    ).tag(config=True)

    @observe("r_library", "cran_mirror")
    def _packages_changed(self, change):
        packages.configure(library=self.r_library, mirror=self.cran_mirror)

    @validate("bg", "r_library", "cran_mirror")
    def _text_for_r(self, proposal):
        """Text that R reads ends at its first NUL: refused here, where it
        was set, instead of arriving cut short. (traitlets keeps one
        validator per trait: the mirror's own rule is here too.)"""
        name, value = proposal["trait"].name, proposal["value"]
        if "\x00" in value:
            raise TraitError(f"RMagics.{name} cannot hold a NUL byte")
        if name == "cran_mirror" and not value.strip():
            raise TraitError("RMagics.cran_mirror cannot be empty")
        return value

    @observe("remote_max_size", "remote_keep_source", "remote_relay", "remote_output_limit")
    def _remote_changed(self, change):
        configure_remote(
            max_size=self.remote_max_size,
            keep_source=self.remote_keep_source,
            relay=self.remote_relay,
            output_limit=self.remote_output_limit,
        )

    @validate("remote_max_size", "remote_output_limit")
    def _not_negative(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(
                f"RMagics.{proposal['trait'].name} must be 0 (no limit) or more (got {proposal['value']!r})"
            )
        return proposal["value"]

    @observe("warnings")
    def _warnings_changed(self, change):
        display.use_warning_style(change["new"])

    @observe("frames")
    def _frames_changed(self, change):
        convert.use_frames(change["new"])

    @observe("arrays")
    def _arrays_changed(self, change):
        convert.use_arrays(change["new"])

    @observe("int64")
    def _int64_changed(self, change):
        convert.use_int64(change["new"])

    @validate("width", "height", "res", "pointsize", "max_rows", "max_cols")
    def _positive(self, proposal):
        """Sizes and counts above zero: a zero or negative one would fail
        later, far from the %config line that set it."""
        value = proposal["value"]
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise TraitError(f"RMagics.{proposal['trait'].name} must be a finite number above 0 (got {value!r})")
        return value

    # -- %R / %%R -----------------------------------------------------------

    @magic_arguments()
    @argument(
        "-i",
        "--input",
        action="append",
        help=textwrap.dedent("""\
        Python values to assign in R before running: comma-separated names,
        dotted paths (ns.val) or rname=pyname. The caller's local scope is
        searched first."""),
    )
    @argument(
        "-o",
        "--output",
        action="append",
        help=textwrap.dedent("""\
        R objects to convert and assign in Python after running:
        comma-separated names or pyname=rname."""),
    )
    @argument(
        "-n",
        "--noreturn",
        action="store_true",
        default=False,
        help="In line mode, do not return the value of the last expression.",
    )
    @_converter_option
    @argument(
        "-d",
        "--display",
        default=None,
        help=textwrap.dedent("""\
        Name of a Python function called as f(value, args) for each visible
        value instead of R's print."""),
    )
    @argument_group("Plot", "Arguments to the plotting device (as in rpy2)")
    @argument("-w", "--width", type=finite_positive, help="Width of the plots (px unless -u says otherwise).")
    @argument("-h", "--height", type=finite_positive, help="Height of the plots (px unless -u says otherwise).")
    @argument("-p", "--pointsize", type=finite_positive, help="Point size of text in the plots.")
    @argument("-b", "--bg", type=colour, help="Background colour of the plots.")
    @argument("-u", "--units", choices=["px", "in", "cm", "mm"], help="Units of -w and -h.")
    @argument("-r", "--res", type=finite_positive, help="Resolution in dots per inch (72 with -u in/cm/mm).")
    @argument(
        "--type",
        choices=["cairo", "cairo-png", "Xlib", "quartz"],
        help="Type of the png/jpeg device (as in rpy2): passed to R's png().",
    )
    @argument(
        "--noisolation",
        action="store_false",
        default=True,
        dest="isolate_svgs",
        help="Do not isolate SVG plots (they may then share ids and CSS with each other).",
    )
    @argument_group("Cache", "Cached cells (%%R only; see docs/cached-cells.md)")
    @argument(
        "--cache",
        nargs="?",
        const="",
        default=None,
        metavar="NAME",
        help="Serve the cell from the cache when nothing it depends on changed, else run and store it "
        "(NAME: the notebook's cell id by default).",
    )
    @argument("--cache-rerun", action="store_true", default=False, help="Run the cached cell and store it again.")
    @argument("--cache-files", action="append", help="Files whose content the cell depends on (comma-separated).")
    @argument("--cache-extra", action="append", help="Python names whose values the cell depends on (comma-separated).")
    @needs_local_scope
    @no_var_expand
    @line_cell_magic
    def R(self, line, cell=None, local_ns=None):
        """Run R code in the embedded R.

        ``%R expr`` evaluates a line and returns the converted value of its
        last expression; ``%%R`` runs a cell like R's console, printing
        visible values as they come, and returns None.
        """
        args, code = split_options(self.R.parser, line)
        if cell is not None:
            code = f"{code}\n{cell}" if code else cell
        namespaces = (local_ns, self.shell.user_ns)
        converter = self._converter(args.converter, namespaces)
        inputs = self._resolve_inputs(split_names(args.input), "-i", namespaces)
        outputs = parse_pairs(split_names(args.output), "-o", python_first=True)
        spec = graphics.resolve_spec(args, self.plot_settings(), self.shell)
        show = self._show(session := get_session())
        with session.entered():  # the whole cell holds R: another thread's R calls wait, not interleave
            self._assign_in_r(inputs, converter)
            # -d after -i, in rpy2's order: a notebook whose -d fails (rpy2 2's
            # -d was --dataframe) still has its inputs in R for the next cells
            display_fn = self._display_function(args, namespaces)

            def run():
                with graphics.cell(spec) as plots, converter.activated():  # py$ in R converts with it too
                    done = session.run(
                        code,
                        name=self._source_name(),
                        show=show,
                        keep_last=cell is None or display_fn is not None,
                        after_each=plots.after_expression,
                    )
                    if display_fn is not None and done.visible:
                        self._call_display(display_fn, self._to_python(done.value, converter), args)
                return done

            outcome = self._cached(args, line, code, inputs, namespaces, run) if self._caching(args, cell) else run()
            self._pull_into_python(outputs, converter)
        if outcome is None:  # served from the cache
            return None
        if (
            cell is None
            and not args.noreturn
            and not outcome.printed
            and display_fn is None
            and not code.rstrip().endswith(";")
        ):  # rpy2: a line ending with ";" returns nothing
            return self._to_python(outcome.value, converter)
        return None

    # -- cached cells ---------------------------------------------------------------

    def _caching(self, args, cell) -> bool:
        wants = args.cache is not None or args.cache_rerun
        if wants and cell is None:
            raise UsageError("--cache caches %%R cells, not %R lines")
        return wants

    def cache_settings(self) -> cache_module.Settings:
        return cache_module.Settings(
            folder=self.cache_dir, mode=self.cache, max_entry=self.cache_max_entry, max_total=self.cache_max_total
        )

    def _cache_request(self, args, line, code, inputs, namespaces) -> cache_module.Request:
        extras = {name: resolve(name, namespaces, "--cache-extra") for name in split_names(args.cache_extra)}
        # the options that change what the cell shows: all but the cache's own and -i/-o (keyed by content)
        shown = {
            k: v for k, v in sorted(vars(args).items()) if not k.startswith("cache") and k not in ("input", "output")
        }
        return cache_module.Request(
            name=args.cache or self._cell_name(code),
            code=code,
            options=repr(shown),
            inputs=[r_name for r_name, _ in inputs],
            files=split_names(args.cache_files),
            extras=extras,
            rerun=args.cache_rerun,
        )

    def _cached(self, args, line, code, inputs, namespaces, run):
        request = self._cache_request(args, line, code, inputs, namespaces)
        return cache_module.cached_cell(self.shell, self.cache_settings(), request, self.shell.user_ns, run)

    def _cell_name(self, code: str) -> str:
        """The notebook's id of the running cell (front ends, nbclient and
        papermill send it), else a name from the cell's first line."""
        kernel = getattr(self.shell, "kernel", None)
        parent = kernel.get_parent() if kernel is not None and hasattr(kernel, "get_parent") else {}
        cell_id = (parent or {}).get("metadata", {}).get("cellId")
        if cell_id:
            return f"cell-{cell_id}"
        first = next((ln.strip() for ln in code.splitlines() if ln.strip()), "empty")
        return "cell-" + hashlib.blake2b(first.encode(), digest_size=6).hexdigest()

    @magic_arguments()
    @argument(
        "action",
        choices=["list", "why", "clear"],
        help="list the cached cells, say why NAME would not be served, or clear entries",
    )
    @argument("name", nargs="?", help="the cached cell's name")
    @argument("--all", action="store_true", default=False, help="clear: every entry")
    @argument("--older-than", default=None, help="clear: entries not used for this long (7d, 12h, 30m)")
    @line_magic
    def Rcache(self, line):
        """``%Rcache list``, ``%Rcache why NAME``, ``%Rcache clear [NAME | --all | --older-than 7d]``."""
        args = parse_argstring(self.Rcache, line)
        settings = self.cache_settings()
        if args.action == "list":
            print(cache_module.listing(settings))
        elif args.action == "why":
            if not args.name:
                raise UsageError("%Rcache why NAME: which cached cell?")
            print(cache_module.why(settings, args.name, self.shell.user_ns))
        else:
            if not (args.name or args.all or args.older_than):
                raise UsageError("%Rcache clear NAME, --all or --older-than AGE")
            older = cache_module.parse_age(args.older_than) if args.older_than else None
            removed = cache_module.clear(settings, args.name, args.all, older)
            print(f"cleared {len(removed)} cached cell(s)" + (f": {', '.join(removed)}" if removed else ""))

    @line_magic
    def Rdevice(self, line):
        """Set the format of R plots: ``%Rdevice png|svg|retina|jpeg``; with
        no argument, plots follow the matplotlib inline backend's format again.
        rpy2's ``X11`` (an on-screen window) is accepted and changes nothing."""
        choice = line.strip()
        if choice == "X11":
            print(
                f"%Rdevice X11: R's plots stay inline in a notebook ({self.device or 'following matplotlib'}); "
                "X11 would open windows outside it"
            )
            return
        if choice and choice not in graphics.FORMATS:
            raise UsageError(f"%Rdevice: choose one of {', '.join(graphics.FORMATS)} (got {choice!r})")
        self.device = choice

    # -- %Rpush / %Rpull / %Rget ------------------------------------------

    @magic_arguments()
    @_converter_option
    @argument("inputs", nargs="*", help="Python names (or rname=pyname) to assign in R.")
    @needs_local_scope
    @line_magic
    def Rpush(self, line, local_ns=None):
        """Convert Python values and assign them in R's global environment."""
        args, rest = split_options(self.Rpush.parser, line)
        namespaces = (local_ns, self.shell.user_ns)
        converter = self._converter(args.converter, namespaces)
        self._assign_in_r(self._resolve_inputs(split_names([rest]), "%Rpush", namespaces), converter)

    @magic_arguments()
    @_converter_option
    @argument("outputs", nargs="*", help="R names (or pyname=rname) to assign in Python.")
    @needs_local_scope
    @line_magic
    def Rpull(self, line, local_ns=None):
        """Convert R objects and assign them in the Python namespace."""
        args, rest = split_options(self.Rpull.parser, line)
        converter = self._converter(args.converter, (local_ns, self.shell.user_ns))
        self._pull_into_python(
            parse_pairs(split_names([rest]), "%Rpull", python_first=True), converter, check_first=True
        )

    @magic_arguments()
    @_converter_option
    @argument("output", nargs="?", help="The R name whose converted value is returned.")
    @needs_local_scope
    @line_magic
    def Rget(self, line, local_ns=None):
        """Return the converted value of one R object: ``x = %Rget x``."""
        args, rest = split_options(self.Rget.parser, line)
        names = split_names([rest])
        if len(names) != 1:
            raise UsageError("%Rget takes exactly one R name")
        converter = self._converter(args.converter, (local_ns, self.shell.user_ns))
        r_name = check_r_name(names[0], "%Rget")
        return named(self._to_python(self._r_object(r_name), converter), r_name)

    def pull(self, r_name: str, python_name: str) -> None:
        """``%Rpull python_name=r_name`` for callers other than a cell (the R
        environment pane's "Pull to Python"): the same conversion."""
        self._pull_into_python([(r_name, python_name)], convert.default, check_first=True)

    # -- steps --------------------------------------------------------------

    def _converter(self, name, namespaces) -> convert.Converter:
        if name is None:
            return convert.default
        found = resolve(name, namespaces, "-c")
        if is_rpy2_converter(found):
            return Rpy2Converter(found)
        if not isinstance(found, convert.Converter):
            raise NotAConverter(
                f"-c: {name!r} is a {type(found).__name__}, not a rmagic_ext.Converter (or an rpy2 one)"
            )
        return found

    def _resolve_inputs(self, names, option, namespaces):
        """(r_name, python value) pairs, every name checked before any is used."""
        pairs = parse_pairs(names, option, python_first=False)
        return [(r_name, resolve(path, namespaces, option)) for r_name, path in pairs]

    def _assign_in_r(self, inputs, converter) -> None:
        push.assign(inputs, converter)

    def _pull_into_python(self, outputs, converter, check_first=False) -> None:
        if check_first:
            for r_name, _ in outputs:
                self._r_object(r_name)
        values = {
            py_name: named(self._to_python(self._r_object(r_name), converter), r_name) for r_name, py_name in outputs
        }
        if values:
            assert self.shell is not None  # magics always run in a shell
            self.shell.push(values)

    def _to_python(self, sexp, converter):
        """A value the magics hand back, shaped as ``RMagics.vectors`` says."""
        with convert.shaped(self.vectors):
            return converter.r2py(sexp)

    def _r_object(self, r_name: str):
        found = get_session().lookup(r_name)
        if found is None:
            raise MissingRName(f"R has no object named {r_name!r}")
        return found

    def _show(self, session):
        return lambda value: display.show_value(session, value, self.max_rows, self.max_cols, self.rich_vectors)

    def _display_function(self, args, namespaces):
        """``-d FUNC``: called once, as in rpy2, with the converted value of the
        cell's last expression when it is visible (earlier values print as usual)."""
        if args.display is None:
            return None
        display_fn = resolve(args.display, namespaces, "-d")
        if not callable(display_fn):
            raise UsageError(
                f"-d: {args.display!r} is not callable: -d names a function shown each visible "
                "value (rpy2 2's -d, --dataframe, is gone); the -i values were assigned in R"
            )
        return display_fn

    @staticmethod
    def _call_display(display_fn, value, args) -> None:
        with get_session().user_code():  # the user's code: SIGINT stops it at once
            display_fn(value, args)

    def plot_settings(self) -> graphics.PlotSettings:
        """The plot defaults of ``%config RMagics`` (also for plots drawn from Python code)."""
        return graphics.PlotSettings(
            device=self.device,
            width=self.width,
            height=self.height,
            units=self.units,
            res=self.res,
            pointsize=self.pointsize,
            bg=self.bg,
        )

    def _source_name(self) -> str:
        assert self.shell is not None
        return f"In[{self.shell.execution_count}]"
