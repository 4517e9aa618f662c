"""Access to the running R for conversion rules (started on first use)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from ..errors import ConversionError
from ..session import get_session
from . import _bulk


@cache
def ri():
    """``rpy2.rinterface``, with the embedded R started."""
    return get_session().ri


def attr(sexp, name: str):
    """An attribute of an R object, or None when it is not set."""
    try:
        return sexp.do_slot(name)
    except LookupError:
        return None


def set_attr(sexp, name: str, value) -> None:
    if name == "class":
        sexp.rclass = value  # Rf_setAttrib: also marks the object for S3 dispatch
    else:
        sexp.do_slot_assign(name, value)


def strings(values, na: np.ndarray | None = None):
    """A character vector from Python strings; None, NaN, pd.NA, or True in
    ``na``, is NA.

    Long vectors go in bulk (see _bulk). R's strings end at the first NUL
    byte, so a str holding one would arrive cut short: that is refused
    rather than done silently."""
    r = ri()
    array = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
    array = array.astype(object, copy=False)
    if na is None:
        _, na = _bulk.string_na(array)
    if len(array) >= _bulk.MIN_BULK_STRINGS:
        vector = _bulk.strings_to_r(array, na, r)
        if vector is not None:
            return vector
    items = array.tolist() if na is None else [None if m else v for v, m in zip(array.tolist(), na)]
    _check_text(items)
    return r.StrSexpVector([r.NA_Character if v is None else v for v in items])


def _check_text(items) -> None:
    """R's strings are UTF-8 text ending at the first NUL: a str holding NUL
    (it would arrive cut short) or a lone surrogate (not text) is refused.
    The bulk path checks the same on its joined buffer (_bulk._join)."""
    for item in items:
        if item is None:
            continue
        if "\x00" in item:
            _bulk.raise_nul()
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            _bulk.raise_surrogate(item, exc.start)


def python_strings(sexp) -> tuple[np.ndarray, np.ndarray]:
    """The strings of an R character vector as an object array (None for NA)
    and its NA mask, or a clear error when R holds bytes that are not valid
    UTF-8."""
    bulk = _bulk.strings_from_r(sexp)
    if bulk is not None:
        return bulk
    if _bulk.marked_as_bytes(sexp):  # reading one would make R raise from C (R >= 4.5), ending the process
        raise ConversionError(
            'an R character vector holds strings marked as bytes (Encoding(x) is "bytes"); '
            "convert them in R first, e.g. iconv(x, from = 'latin1', to = 'UTF-8'), "
            "or send them as raw vectors (charToRaw)"
        )
    try:
        values = np.array([None if type(v).__name__.startswith("NA") else v for v in sexp], dtype=object)
        return values, pd.isna(values)
    except UnicodeDecodeError as exc:
        raise ConversionError(
            f"an R character vector holds text that is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start} of {exc.object[:40]!r}); convert it in R first, e.g. "
            "iconv(x, from = 'latin1', to = 'UTF-8')"
        ) from None
