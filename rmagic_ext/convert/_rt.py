"""Access to the running R for conversion rules (started on first use)."""

from __future__ import annotations

from functools import cache


@cache
def ri():
    """``rpy2.rinterface``, with the embedded R started."""
    from ..session import get_session
    return get_session().ri


def attrs(sexp) -> set[str]:
    """The names of an R object's attributes."""
    names = sexp.list_attrs()
    return set(names) if names is not ri().NULL else set()


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


def strings(values) -> object:
    """A character vector from Python strings, None standing for NA."""
    r = ri()
    return r.StrSexpVector([r.NA_Character if v is None else v for v in values])
