"""Access to the running R for conversion rules (started on first use)."""

from __future__ import annotations

from functools import cache

from ..errors import ConversionError


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
    """A character vector from Python strings, None standing for NA.

    R's strings end at the first NUL byte, so a str holding one would arrive
    cut short: that is refused rather than done silently."""
    r = ri()
    items = [r.NA_Character if v is None else v for v in values]
    if any("\x00" in v for v in items if v is not r.NA_Character):
        raise ConversionError("R strings cannot contain NUL characters ('\\x00'); "
                              "send such data as bytes (R raw vectors) instead")
    return r.StrSexpVector(items)


def python_strings(sexp) -> list:
    """The strings of an R character vector (None for NA), or a clear error
    when R holds bytes that are not valid UTF-8."""
    try:
        return [None if type(v).__name__.startswith("NA") else v for v in sexp]
    except UnicodeDecodeError as exc:
        raise ConversionError(
            f"an R character vector holds text that is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start} of {exc.object[:40]!r}); convert it in R first, e.g. "
            "iconv(x, from = 'latin1', to = 'UTF-8')") from None
