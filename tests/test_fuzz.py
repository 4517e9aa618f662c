"""Fuzzing the magics, names, R code and pushed values, seeded.

Every generated case runs in a child process (tests/fuzz_worker.py) holding a
real IPython shell and the embedded R, so a crash is seen here, with the case
that caused it, instead of taking the test run down. Each case must end as
a value that round-trips exactly (where the conversion table promises it) or
in one of the documented exceptions: UsageError, RError, RParseError,
ConversionError (KeyError for names R cannot have).
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra import pandas as hpd

HERE = Path(__file__).resolve().parent


class Worker:
    """The child process: send a case, get how it ended, see it die."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fuzz_worker.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log.open("wb"), cwd=HERE)

    def run(self, case: dict) -> tuple[str, str]:
        data = pickle.dumps(case)
        try:
            self.proc.stdin.write(struct.pack("<I", len(data)) + data)
            self.proc.stdin.flush()
            header = self.proc.stdout.read(4)
        except BrokenPipeError:
            header = b""
        if len(header) < 4:
            code = self.proc.wait(timeout=30)
            tail = self.log.read_bytes()[-3000:].decode(errors="replace")
            pytest.fail(f"the worker died (exit {code}) on {case!r}:\n{tail}")
        return pickle.loads(self.proc.stdout.read(struct.unpack("<I", header)[0]))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(tmp_path_factory.mktemp("fuzz") / "worker.log")
    yield w
    w.close()
    assert w.proc.returncode == 0, w.log.read_text(errors="replace")[-3000:]


def check(worker, case: dict) -> None:
    outcome, detail = worker.run(case)
    assert outcome in ("ok", "documented"), f"{case!r}: {outcome}: {detail}"


FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- magic lines and option values --------------------------------------------------------------

OPTION = st.sampled_from(["-i", "-o", "-n", "-c", "-d", "-w", "-h", "-u", "-r", "-p", "-b", "--noisolation",
                          "--input", "--output=x", "--bogus", "-", "--", "-ix", "--units=px"])
VALUE = st.one_of(st.sampled_from(["x", "df", "ns.val", "nope", "y=x", "0", "-1", "1e9", "nan", "px", "in",
                                   "mm", "cm", "red", "''", "a,b", "1x", "if", "é", "x" * 10_001]),
                  st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(str))
R_CODE = st.sampled_from(["1", "x", "stop('e')", "1 +", "c(1, 'a'", "paste('a;b')", "invisible(3)", "NULL",
                          "`a b` <- 2", "function(", "warning('w')", "q()", "'\\xff'", "#", "df$a",
                          "plot(1:3)", "dev.off()", "dev.new()", "invokeRestart('abort')", "signalCondition(1)",
                          "structure(1L, class = 'factor')", "as.Date(-1e6)", "x <- 'é'; Encoding(x) <- 'bytes'; x",
                          "f <- function(n) f(n + 1); f(1)", "Sys.setlocale('LC_ALL', 'C')", "rm(list = ls())",
                          "py$x", "py$nope", "py$ns$val", "message('m')", "library(nope)", "'\\udc80'"])
WORD = st.text(st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=8)
LINE = st.lists(st.one_of(OPTION, VALUE, R_CODE, WORD), max_size=7).map(" ".join)


@FUZZ
@seed(14)
@given(magic=st.sampled_from(["%R", "%Rpush", "%Rpull", "%Rget", "%Rdevice"]), line=LINE)
def test_fuzz_line_magics(worker, magic, line):
    check(worker, {"kind": "cell", "source": f"{magic} {line}"})


@FUZZ
@seed(15)
@given(line=LINE, body=st.lists(st.one_of(R_CODE, WORD), max_size=4).map("\n".join))
def test_fuzz_cell_magic(worker, line, body):
    check(worker, {"kind": "cell", "source": f"%%R {line}\n{body}"})


# -- names --------------------------------------------------------------------------------------

@FUZZ
@seed(16)
@given(name=st.one_of(st.text(max_size=12), st.text(st.characters(), max_size=4),
                      st.sampled_from(["", "x\x00y", "a" * 10_001, "\udc80", ".x", "...", "if", "`"])))
def test_fuzz_names(worker, name):
    check(worker, {"kind": "name", "name": name})


# -- pushed values ------------------------------------------------------------------------------

SCALARS = st.one_of(st.booleans(), st.integers(-(2**31) + 1, 2**31 - 1), st.floats(allow_nan=False),
                    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
EXACT = st.one_of(
    SCALARS,
    hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(np.int32, st.integers(2, 40), elements=st.integers(-(2**31) + 1, 2**31 - 1)),
    hnp.arrays(np.bool_, st.integers(2, 40)),
    hpd.data_frames([hpd.column("f", dtype=float), hpd.column("i", elements=st.integers(-1000, 1000)),
                     hpd.column("s", elements=st.text(st.characters(blacklist_characters="\x00",
                                                                    blacklist_categories=("Cs",)), max_size=5)),
                     hpd.column("b", dtype=bool)], index=hpd.range_indexes(min_size=1, max_size=20)),
)
ANYTHING = st.one_of(
    st.integers(), st.floats(), st.text(st.characters(), max_size=6), st.binary(max_size=6), st.none(),
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats()), max_size=6),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=4),
    hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(max_dims=3, max_side=4)),
    st.builds(lambda v, m: np.ma.masked_array(v, mask=m), st.lists(st.integers(-5, 5), min_size=3, max_size=3),
              st.lists(st.booleans(), min_size=3, max_size=3)),
)


@FUZZ
@seed(17)
@given(value=EXACT)
def test_fuzz_values_that_must_round_trip_exactly(worker, value):
    if isinstance(value, pd.DataFrame):
        value = value.astype({"s": object})
    check(worker, {"kind": "value", "value": value, "exact": True})


@FUZZ
@seed(18)
@given(value=ANYTHING)
def test_fuzz_any_value_converts_or_says_why_not(worker, value):
    check(worker, {"kind": "value", "value": value, "exact": False})
