"""Conversion between Python and R values (see registry.py for the design).

Importing this package registers the rules for builtins, numpy and pandas in
the default converter, and the RObject proxy for every R object they do not
cover; none of it starts R.
"""

from . import arrow, builtins, labelled, numpy, pandas, robject, rpy2_converter, sparse  # noqa: F401  (register their rules)
from ._rt import attr, python_strings, strings
from .arrow import polars_frames, pyarrow_frames
from .registry import Converter, active, default, py2r, r2py, shaped, to_py, to_r
from .robject import RObject
from .settings import ARRAY_KINDS, FRAME_KINDS, INT64_MODES, SHAPES, use_arrays, use_frames, use_int64

__all__ = [
    "ARRAY_KINDS",
    "use_arrays",
    "FRAME_KINDS",
    "INT64_MODES",
    "SHAPES",
    "use_int64",
    "Converter",
    "polars_frames",
    "pyarrow_frames",
    "use_frames",
    "RObject",
    "active",
    "attr",
    "default",
    "py2r",
    "python_strings",
    "r2py",
    "shaped",
    "strings",
    "to_py",
    "to_r",
]
