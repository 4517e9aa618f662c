"""Conversion between Python and R values (see registry.py for the design).

Importing this package registers the rules for builtins, numpy and pandas in
the default converter; none of it starts R.
"""

from . import builtins, numpy, pandas  # noqa: F401  (register their rules)
from .registry import Converter, active, default, py2r, r2py, to_py, to_r

__all__ = ["Converter", "active", "default", "py2r", "r2py", "to_py", "to_r"]
