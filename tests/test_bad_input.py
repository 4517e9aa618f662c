"""Bad input never breaks anything: random option strings, names, code and
values thrown at every magic end in a UsageError, an R error, a conversion
error or warning, or success; never an internal traceback, never a dead shell."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from rmagic_ext import ConversionError, RError, RParseError

ALLOWED = (UsageError, RError, RParseError, ConversionError)

NAMES = st.sampled_from(
    [
        "x",
        "df",
        "nope",
        "1x",
        "a.b",
        "ns.val",
        "ns.missing",
        "if",
        "TRUE",
        "y=x",
        "=x",
        "x=",
        "a,b",
        ",",
        "x,,y",
        "__class__",
        "é",
        "x-y",
        "''",
        '"',
    ]
)
FLAGS = st.sampled_from(
    [
        "-i",
        "-o",
        "-n",
        "-c",
        "-d",
        "--input",
        "--output",
        "--noreturn",
        "--converter",
        "--display",
        "-w",
        "--bogus",
        "-",
        "--",
        "-ix",
        "--input=x",
    ]
)
CODE = st.sampled_from(
    [
        "1",
        "x",
        "stop('e')",
        "1 +",
        "c(1, 'a'",
        "paste('a;b')",
        "invisible(3)",
        "NULL",
        "`a b` <- 2",
        "function(",
        "warning('w')",
        "q()",
        "'\\xff'",
        "#",
        "x <- y",
        "df$a",
        "list(a = 1)",
    ]
)
# One line as IPython sees it: no line or paragraph separators (they would
# make IPython split the cell before our magic is ever called).
WORD = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=6)
LINES = st.lists(st.one_of(FLAGS, NAMES, CODE, WORD), max_size=6).map(" ".join)


def run(ip, source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ip.run_cell(source, store_history=False)


def assert_clean(result):
    assert result.error_before_exec is None, repr(result.error_before_exec)
    error = result.error_in_exec
    assert error is None or isinstance(error, ALLOWED), f"{type(error).__name__}: {error}"


def seed_namespace(ip):
    import types

    import pandas as pd

    ip.user_ns.update(x=1, df=pd.DataFrame({"a": [1, 2]}), ns=types.SimpleNamespace(val=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(magic=st.sampled_from(["%R", "%Rpush", "%Rpull", "%Rget"]), line=LINES)
def test_line_magics_survive_any_line(ip, magic, line):
    seed_namespace(ip)
    assert_clean(run(ip, f"{magic} {line}"))
    assert ip.run_line_magic("R", "1L") == 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=LINES, body=st.lists(CODE, max_size=4).map("\n".join))
def test_cell_magic_survives_any_options_and_code(ip, line, body):
    seed_namespace(ip)
    assert_clean(run(ip, f"%%R {line}\n{body}"))
    assert ip.run_line_magic("R", "1L") == 1


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=8)
    | st.complex_numbers()
    | st.just(object())
    | st.just({1, 2})
    | st.just(len)
    | st.just(print),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES)
def test_any_value_pushes_cleanly_or_fails_clearly(ip, value):
    ip.user_ns["anything"] = value
    assert_clean(run(ip, "%Rpush anything"))
    assert_clean(run(ip, "%R -i anything -o anything_back anything_back <- anything"))


def test_a_vector_too_large_for_r_is_a_conversion_error_not_a_dead_process(ip):
    import numpy as np
    import rpy2.rinterface as ri

    from rmagic_ext.convert import _bulk

    ip.user_ns["huge"] = np.broadcast_to(np.float64(1.5), (2**47,))  # a petabyte in R, nothing in numpy
    for source in ("%Rpush huge", "%R -i huge 1"):
        result = run(ip, source)
        assert isinstance(result.error_in_exec, ConversionError)
        assert "cannot allocate" in str(result.error_in_exec)
    with pytest.raises(ConversionError, match="cannot allocate"):
        _bulk.new_vector(ri.IntSexpVector, 2**47)  # what every other rule allocates with
    assert ip.run_line_magic("R", "1L") == 1
