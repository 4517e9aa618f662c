"""Putting Python values into R's global environment: every value is
converted before any is bound, so a value that cannot convert leaves all
names as they were.

A re-run cell pushes the same large arrays again. When the name already
holds a vector that R itself would overwrite in place, a 1-D numeric array
is written into it: one copy into memory that is already R's, with no new
vector and nothing left for R's garbage collector. Such arrays otherwise go
into a new vector made without an rpy2 wrapper, whose reference R would
count forever, so that the next push to that name can overwrite it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, cast

import numpy as np

from ..session import get_session
from . import _bulk
from .numpy import ndarray_to_r, plain_vector_type
from .registry import Converter


def assign(pairs: Iterable[tuple[str, Any]], converter: Converter) -> None:
    """Convert each ``(r_name, value)`` with ``converter``, then bind them all."""
    pairs = list(pairs)
    if not pairs:
        return
    session = get_session()
    may_overwrite = not session.inside_r()  # R code on the stack may hold the old vector uncounted
    with session.entered():
        plain = _plain_arrays(pairs, converter)
        converted = [(name, converter.py2r(value)) for name, value in pairs if name not in plain]
        views = {
            name: _bulk.overwritable_view(session.bound_value(name), r_type, len(array)) if may_overwrite else None
            for name, (array, r_type) in plain.items()
        }
        fresh = []
        try:
            for name, (array, r_type) in plain.items():
                if views[name] is None:
                    sexp, views[name] = _bulk.unwrapped_vector(r_type, len(array))
                    fresh.append((name, sexp))
            session.check_interrupt()  # all or nothing: a SIGINT so far binds no name
            for name, (array, _) in plain.items():
                np.copyto(cast(np.ndarray, views[name]), array, casting="unsafe")  # filled above
            for name, sexp in converted + fresh:
                session.assign(name, sexp)
        finally:
            _bulk.unprotect(len(fresh))


def _plain_arrays(pairs, converter: Converter) -> dict[str, tuple[np.ndarray, str]]:
    """The arrays that become plain R vectors by one copy under the default
    rule for numpy arrays (not under a rule of the user's), with their R type,
    by R name. A name given twice is left to the general path, which binds
    the last value."""
    counts = Counter(name for name, _ in pairs)
    plain = {}
    for name, value in pairs:
        if counts[name] == 1 and isinstance(value, np.ndarray) and converter.find_py2r(type(value)) is ndarray_to_r:
            r_type = plain_vector_type(value)
            if r_type is not None:
                plain[name] = (value, r_type)
    return plain
