"""The notebook's conversion choices, in one place.

Four choices shape what a conversion gives: what data.frames become in
Python (``frames``: pandas, polars or pyarrow), what R arrays with dimnames
become (``arrays``: numpy, their names dropped with a warning; xarray
DataArrays; or pandas for one and two dimensions), how integers beyond R's
range go to R (``int64``: double or bit64) and how R's atomic vectors come
back (``shape``: Python scalars and Series, or rpy2's arrays). ``frames``,
``arrays`` and ``int64`` are the notebook's (``%config RMagics.frames`` and
friends); the shape is the surface's (the magics shape as arrays, the
bridge as Python).

Each can be overridden for a block of code in this thread or task only
(:func:`using`): an R function called in a worker process converts with the
choices of the notebook that sent it, whatever other tasks in that worker do.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

FRAME_KINDS = ("pandas", "polars", "pyarrow")
ARRAY_KINDS = ("numpy", "xarray", "pandas")
INT64_MODES = ("double", "bit64")
SHAPES = ("python", "arrays")

_notebook = {"frames": "pandas", "arrays": "numpy", "int64": "double"}
_frames: contextvars.ContextVar[str | None] = contextvars.ContextVar("rmagic_ext_frames", default=None)
_arrays: contextvars.ContextVar[str | None] = contextvars.ContextVar("rmagic_ext_arrays", default=None)
_int64: contextvars.ContextVar[str | None] = contextvars.ContextVar("rmagic_ext_int64", default=None)
_shape: contextvars.ContextVar[str] = contextvars.ContextVar("rmagic_ext_vector_shape", default="python")


def _checked(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed} (got {value!r})")
    return value


def use_frames(kind: str) -> None:
    """What data.frames become in Python from now on: pandas (the default), polars or pyarrow."""
    _notebook["frames"] = _checked("frames", kind, FRAME_KINDS)


def use_arrays(kind: str) -> None:
    """What R arrays with dimnames become from now on: numpy, xarray or pandas."""
    _notebook["arrays"] = _checked("arrays", kind, ARRAY_KINDS)


def use_int64(mode: str) -> None:
    """How integers beyond R's integer range go to R from now on."""
    _notebook["int64"] = _checked("int64", mode, INT64_MODES)


def frames_kind() -> str:
    return _frames.get() or _notebook["frames"]


def arrays_kind() -> str:
    return _arrays.get() or _notebook["arrays"]


def int64_mode() -> str:
    return _int64.get() or _notebook["int64"]


def vector_shape() -> str:
    return _shape.get()


def current() -> dict[str, str]:
    """All four choices as they apply here and now (what travels with an R
    function to another process)."""
    return {"frames": frames_kind(), "arrays": arrays_kind(), "int64": int64_mode(), "shape": vector_shape()}


@contextlib.contextmanager
def using(
    frames: str | None = None, arrays: str | None = None, int64: str | None = None, shape: str | None = None
) -> Iterator[None]:
    """Convert with these choices inside the block (None keeps the one in force)."""
    tokens: list[tuple[Any, Any]] = []
    for var, name, value, allowed in (
        (_frames, "frames", frames, FRAME_KINDS),
        (_arrays, "arrays", arrays, ARRAY_KINDS),
        (_int64, "int64", int64, INT64_MODES),
        (_shape, "vector shape", shape, SHAPES),
    ):
        if value is not None:
            tokens.append((var, var.set(_checked(name, value, allowed))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
