"""Small helpers the test modules share."""

from __future__ import annotations

from rmagic_ext.session import get_session


def R(ip, code: str):
    """``%R code`` in the shell ``ip``: the converted value of the last
    expression, as a notebook line gets it."""
    return ip.run_line_magic("R", code)


def r_eval(code: str):
    """The R value (an rpy2 object, not converted) of the last expression."""
    return get_session().run(code, keep_last=True).value
