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


def run_python(code: str, timeout: float = 120):
    """Run ``code`` in a fresh Python (this one's interpreter) and return the
    finished process; fails the test with its stderr when it exits non-zero."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return done
