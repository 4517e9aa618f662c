"""The project's fuzzer: generated magic lines, cell bodies, R code, names
and values, each run in a real IPython shell with the extension loaded.

Every case runs in a child process (tests/fuzz_worker.py), so a crash is
seen here, with the case that caused it, instead of taking the run down; a
case that does not answer within CASE_TIMEOUT seconds is a hang (the child
is then interrupted, or killed and started again). A case must end as "ok"
(a value that round-trips exactly where the conversion table promises it;
any other value that converts keeps its shape, numbers, times and missing
positions unless a ConversionWarning said otherwise) or "documented" (UsageError, RError, RParseError, ConversionError; KeyError and
NameError for names; IPython's SyntaxError for Python it cannot compile).
Anything else is a finding: "crash", "hang", "undocumented" (a Python
traceback from our code), "mismatch" (a value changed without a word),
"state" (the session left changed), "broken" (R stopped answering).

Two profiles. The short one runs in ``make test`` (a few hundred cases) and
fails at the first finding, which hypothesis then shrinks. The long one,
``make fuzz`` (RMAGIC_EXT_FUZZ=long), runs over 5,000 cases, carries on past
findings, prints how every case ended, by test and kind, and fails at the end
if anything was found. Each failure the fuzzer ever found stays below as a
regression test.
"""

from __future__ import annotations

import collections
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies import INT32, TEXT, frames

HERE = Path(__file__).resolve().parent
LONG = os.environ.get("RMAGIC_EXT_FUZZ", "short") == "long"
CASE_TIMEOUT = 60.0
#: Another seed gives other cases: RMAGIC_EXT_FUZZ_SEED=7 make fuzz.
SEED = int(os.environ.get("RMAGIC_EXT_FUZZ_SEED", "0"))
GOOD = ("ok", "documented")


class Worker:
    """The child process: send a case, get how it ended, see it die or hang."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "fuzz_worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("ab"),
            cwd=HERE,
        )

    def run(self, case: dict) -> tuple[str, str]:
        if self.proc.poll() is not None:
            self.start()
        data = pickle.dumps(case)
        try:
            self.proc.stdin.write(struct.pack("<I", len(data)) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._died()
        if not self._answers_within(CASE_TIMEOUT):
            self.proc.send_signal(signal.SIGINT)  # the kernel's Interrupt: does it come back?
            came_back = self._answers_within(10)
            if came_back:
                self._read()
            else:
                self.proc.kill()
                self.proc.wait()
            return "hang", (
                f"no answer in {CASE_TIMEOUT:.0f} s; "
                + ("it answered after a SIGINT" if came_back else "killed: not even a SIGINT ended it")
            )
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            return self._died()
        return pickle.loads(self.proc.stdout.read(struct.unpack("<I", header)[0]))

    def _answers_within(self, seconds: float) -> bool:
        ready, _, _ = select.select([self.proc.stdout], [], [], seconds)
        return bool(ready)

    def _read(self) -> None:
        header = self.proc.stdout.read(4)
        if len(header) == 4:
            self.proc.stdout.read(struct.unpack("<I", header)[0])

    def _died(self) -> tuple[str, str]:
        code = self.proc.wait(timeout=30)
        tail = self.log.read_bytes()[-2000:].decode(errors="replace")
        return "crash", f"the worker died (exit {code}):\n{tail}"

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=60)


class Outcomes:
    """How every case ended, by test and kind, with the first case of each
    finding (what ``make fuzz`` prints)."""

    def __init__(self) -> None:
        self.counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.findings: dict[tuple[str, str], tuple[dict, str]] = {}

    def record(self, test: str, case: dict, kind: str, detail: str) -> None:
        self.counts[test][kind] += 1
        if kind not in GOOD:
            self.findings.setdefault((test, kind), (case, detail))

    def summary(self) -> list[str]:
        kinds = sorted({kind for counter in self.counts.values() for kind in counter})
        total = collections.Counter()
        lines = [f"{'test':<46}" + "".join(f"{kind:>13}" for kind in kinds)]
        for test, counter in sorted(self.counts.items()):
            total.update(counter)
            lines.append(f"{test:<46}" + "".join(f"{counter[kind]:>13}" for kind in kinds))
        lines.append(f"{'all ' + str(sum(total.values())) + ' cases':<46}" + "".join(f"{total[k]:>13}" for k in kinds))
        for (test, kind), (case, detail) in sorted(self.findings.items()):
            lines.append(f"{kind} in {test}: {_shown(case)}\n    {detail}")
        return lines


def _shown(case: dict) -> str:
    text = repr(case)
    return text if len(text) < 400 else text[:400] + "..."


@pytest.fixture(scope="module")
def fuzz(request, tmp_path_factory):
    """The worker and the record of outcomes; at the end, the summary."""
    worker = Worker(tmp_path_factory.mktemp("fuzz") / "worker.log")
    outcomes = Outcomes()
    yield worker, outcomes
    exit_code = worker.close()
    lines = outcomes.summary()
    request.config.rmagic_ext_fuzz_summary = [f"fuzz outcomes ({'long' if LONG else 'short'} profile)", *lines]
    out = HERE.parent / "test-output"
    out.mkdir(exist_ok=True)
    (out / "fuzz-summary.json").write_text(
        json.dumps({test: dict(counter) for test, counter in outcomes.counts.items()}, indent=1)
    )
    assert exit_code == 0, worker.log.read_text(errors="replace")[-3000:]
    if LONG:
        assert not outcomes.findings, "\n".join(lines)


def check(fuzz, request, case: dict) -> None:
    worker, outcomes = fuzz
    texts = [v for v in case.values() if isinstance(v, str)]
    case["changes_state"] = any(code in text for code in STATEFUL for text in texts)
    kind, detail = worker.run(case)
    outcomes.record(request.node.originalname, case, kind, detail)
    if not LONG:
        assert kind in GOOD, f"{_shown(case)}: {kind}: {detail}"


def examples(short: int, long: int):
    """Hypothesis settings of one fuzz test: seeded, so a run can be repeated."""
    return settings(
        max_examples=long if LONG else short,
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# -- text of every kind -----------------------------------------------------------------------

CONTROL = st.characters(categories=["Cc"])  # NUL, \x01..\x1f, DEL, C1
ODD_TEXT = st.one_of(
    st.text(st.characters(), max_size=12),  # any code point, lone surrogates (invalid UTF-8) too
    st.text(CONTROL, min_size=1, max_size=4),
    st.sampled_from(["\x00", "a\x00b", "\udc80", "\udcff\udcfe", "\r", "\x1b[31m", "\u2028", "\ufeff", "\x7f"]),
)


def nested(opening: str, inner: str, closing: str):
    return st.integers(1, 20_000).map(lambda n: opening * n + inner + closing * n)


DEEP = st.one_of(
    nested("(", "1", ")"),
    nested("{", "", "}"),
    nested("f(", "", ")"),
    nested("list(", "1", ")"),
    nested("-", "1", ""),
    nested("!", "TRUE", ""),
    nested("c(", "1", ")"),
    st.integers(1, 5_000).map(lambda n: "1" + " + 1" * n),
)
LONG_LINES = st.integers(10_000, 300_000).map(lambda n: "x <- '" + "a" * n + "'") | st.integers(1_000, 50_000).map(
    lambda n: "c(" + ", ".join(["1"] * n) + ")"
)

R_CODE = st.sampled_from(
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
        "df$a",
        "plot(1:3)",
        "dev.off()",
        "dev.new()",
        "invokeRestart('abort')",
        "signalCondition(1)",
        "structure(1L, class = 'factor')",
        "as.Date(-1e6)",
        "x <- 'é'; Encoding(x) <- 'bytes'; x",
        "f <- function(n) f(n + 1); f(1)",
        "rm(list = ls())",
        "py$x",
        "py$nope",
        "py$ns$val",
        "message('m')",
        "library(nope)",
        "'\\udc80'",
        "rawToChar(as.raw(255))",
        "cat('\\x01\\x02\\x1b[0m')",
        "print(intToUtf8(c(0x1F600, 0x7F)))",
        "warning(strrep('w', 1e5))",
        "stop(strrep('e', 1e5))",
        "strrep('x', 1e6)",
        "matrix(1:4, 2)",
        "data.frame(a = 1:3, b = letters[1:3])",
        "new.env()",
        "quote(x)",
        "lm(mpg ~ wt, mtcars)",
        "Recall()",
        "on.exit(stop('late'))",
        "tryCatch(stop('a'), error = function(e) stop('b'))",
        "withCallingHandlers(warning('w'), warning = stop)",
        "repeat break",
        "while (FALSE) 1",
        "1:3 + 1:2",
        "as.integer(2^31)",
        "sqrt(-1)",
        "1e309",
        "-0",
        "NA_character_",
        "list(a = list(b = list()))",
    ]
)
#: Code that changes the session on purpose (an option, a sink, a device of
#: the user's own): cases holding it are not checked for a changed session,
#: only put back as they were; the rest of the case is checked as usual.
STATEFUL = [
    "options(digits = 3)",
    "sink(tempfile()); 1",
    "png(tempfile()); plot(1)",
    "Sys.setenv(FUZZ = 1)",
    "setTimeLimit(elapsed = 1); Sys.sleep(2)",
    "Sys.setlocale('LC_COLLATE', 'C')",
    "setwd(tempdir())",
]
CODE = st.one_of(R_CODE, st.sampled_from(STATEFUL), ODD_TEXT, DEEP, LONG_LINES)

# -- magic lines ------------------------------------------------------------------------------

OPTION = st.sampled_from(
    [
        "-i",
        "-o",
        "-n",
        "-c",
        "-d",
        "-w",
        "-h",
        "-u",
        "-r",
        "-p",
        "-b",
        "--type",
        "--noisolation",
        "--input",
        "--output=x",
        "--bogus",
        "-",
        "--",
        "-ix",
        "--units=px",
        "--width=NaN",
        "--height=inf",
        "-w=-inf",
        "--res=1e400",
        "--type=cairo",
        "--pointsize=-0",
    ]
)
NUMBER = st.one_of(
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "NaN",
            "Infinity",
            "1e400",
            "-0",
            "0",
            "1e-320",
            "0x10",
            "1_000",
            "٣",
            "1e9",
            "20000",
            "20001",
        ]
    ),
    st.integers(-(10**6), 10**6).map(str),
    st.floats().map(str),
)
VALUE = st.one_of(
    st.sampled_from(
        [
            "x",
            "df",
            "ns.val",
            "nope",
            "y=x",
            "px",
            "in",
            "mm",
            "cm",
            "red",
            "''",
            "a,b",
            "1x",
            "if",
            "é",
            "x" * 10_001,
            "a\x00b",
            "\x00",
            "x=\x00",
        ]
    ),
    NUMBER,
)
LINE = st.lists(
    st.one_of(OPTION, VALUE, R_CODE, st.sampled_from(STATEFUL), ODD_TEXT.filter(lambda t: "\n" not in t)), max_size=7
).map(" ".join)


@examples(short=100, long=900)
@seed(SEED + 14)
@given(magic=st.sampled_from(["R", "Rpush", "Rpull", "Rget", "Rdevice"]), line=LINE)
def test_fuzz_line_magics(fuzz, request, magic, line):
    check(fuzz, request, {"kind": "line", "magic": magic, "line": line})


@examples(short=100, long=1000)
@seed(SEED + 15)
@given(
    line=LINE.map(lambda t: t.replace("\n", " ").replace("\r", " ")),
    body=st.lists(CODE, min_size=1, max_size=4).map("\n".join),
)
def test_fuzz_cell_magic(fuzz, request, line, body):
    check(fuzz, request, {"kind": "cell", "source": f"%%R {line}\n{body}"})


@examples(short=60, long=700)
@seed(SEED + 16)
@given(code=CODE)
def test_fuzz_r_code_from_python(fuzz, request, code):
    check(fuzz, request, {"kind": "code", "code": code})


@examples(short=60, long=500)
@seed(SEED + 17)
@given(
    name=st.one_of(
        st.text(max_size=12),
        ODD_TEXT,
        st.sampled_from(["", "x\x00y", "a" * 10_001, "\udc80", ".x", "...", "if", "`", "..1"]),
    )
)
def test_fuzz_names(fuzz, request, name):
    check(fuzz, request, {"kind": "name", "name": name})


# -- values ----------------------------------------------------------------------------------

SCALARS = st.one_of(st.booleans(), INT32, st.floats(), TEXT)
EXACT = st.one_of(
    SCALARS,
    hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(np.int32, st.integers(2, 40), elements=INT32),
    hnp.arrays(np.bool_, st.integers(2, 40)),
    frames(),
)

NUMPY_DTYPES = st.one_of(
    hnp.scalar_dtypes(),
    hnp.datetime64_dtypes(),
    hnp.timedelta64_dtypes(),
    hnp.unicode_string_dtypes(),
    hnp.byte_string_dtypes(),
)
OBJECT_ARRAYS = hnp.arrays(
    np.dtype(object),
    hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
    elements=st.one_of(st.none(), st.integers(), st.floats(), TEXT, st.binary(max_size=3)),
)
EXTENSION_DTYPES = st.sampled_from(
    [
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "UInt8",
        "UInt32",
        "UInt64",
        "Float32",
        "Float64",
        "boolean",
        "string",
        "str",
        "category",
        "datetime64[ns, UTC]",
        "datetime64[us, Asia/Kolkata]",
        "timedelta64[ns]",
        "period[D]",
    ]
)
EXTREMES = st.sampled_from(
    [
        0,
        -1,
        2**31 - 1,
        -(2**31),
        2**31,
        2**53 + 1,
        2**63 - 1,
        -(2**63),
        2**64 - 1,
        float("inf"),
        float("-inf"),
        float("nan"),
        -0.0,
        5e-324,
        1.7976931348623157e308,
    ]
)


@st.composite
def odd_series(draw):
    """A Series of any pandas dtype with NA, extremes, and an odd index."""
    n = draw(st.integers(0, 6))
    dtype = draw(EXTENSION_DTYPES)
    raw = draw(st.lists(st.one_of(EXTREMES, st.none(), TEXT, st.integers(-5, 5)), min_size=n, max_size=n))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' own deprecations for odd inputs
            series = pd.Series(raw, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        series = pd.Series(raw, dtype=object)
    index = draw(st.sampled_from(["default", "str", "dup", "datetime", "multi", "float"]))
    if index == "str":
        series.index = [f"r{i}" for i in range(n)]
    elif index == "dup":
        series.index = [0] * n
    elif index == "datetime":
        series.index = pd.date_range("2020-01-01", periods=n, freq="h", tz="Europe/Paris")
    elif index == "multi" and n:
        series.index = pd.MultiIndex.from_arrays([range(n), ["a"] * n])
    elif index == "float":
        series.index = [i + 0.5 for i in range(n)]
    return series


def deep_list(depth: int):
    """[[[...[1]...]]]: deeper than conversion can go (about 200), within what
    pickle can send (about 1000)."""
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def deep_dict(depth: int):
    return {"k": deep_list(depth)}


ANYTHING = st.one_of(
    st.integers(),
    st.floats(),
    st.complex_numbers(),
    st.text(st.characters(), max_size=6),
    st.binary(max_size=6),
    st.none(),
    EXTREMES,
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats(), st.binary(max_size=2)), max_size=6),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), st.none()), max_size=4),
    hnp.arrays(NUMPY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
    OBJECT_ARRAYS,
    st.builds(
        lambda v, m: np.ma.masked_array(v, mask=m),
        st.lists(st.integers(-5, 5), min_size=3, max_size=3),
        st.lists(st.booleans(), min_size=3, max_size=3),
    ),
    odd_series(),
    odd_series().map(lambda s: s.to_frame("v")),
    st.integers(1, 900).map(deep_list),
    st.integers(1, 900).map(deep_dict),
)


@examples(short=80, long=900)
@seed(SEED + 18)
@given(value=EXACT)
def test_fuzz_values_that_must_round_trip_exactly(fuzz, request, value):
    check(fuzz, request, {"kind": "value", "value": value, "exact": True})


@examples(short=80, long=1000)
@seed(SEED + 19)
@given(value=ANYTHING)
def test_fuzz_any_value_converts_or_says_why_not(fuzz, request, value):
    check(fuzz, request, {"kind": "value", "value": value, "exact": False})


# -- what the fuzzer found, kept -------------------------------------------------------------

REGRESSIONS = [
    # NUL in text: R raised "embedded nul in string" from C, outside any R
    # context, and ended the process ("unable to initialize the JIT").
    ({"kind": "cell", "source": "%%R\nx <- 1\n\x00\n"}, "RParseError"),
    ({"kind": "cell", "source": "%%R\npaste('a\x00b')"}, "RParseError"),
    ({"kind": "line", "magic": "R", "line": 'paste("a\x00b")'}, "RParseError"),
    ({"kind": "code", "code": "1\x00"}, "RParseError"),
    ({"kind": "name", "name": "a\x00b"}, "ConversionError"),
    ({"kind": "line", "magic": "R", "line": "-i x\x00 1"}, "UsageError"),
    ({"kind": "line", "magic": "Rpush", "line": "x=\x00"}, "UsageError"),
    ({"kind": "value", "value": "a\x00b", "exact": False}, "ConversionError"),
    ({"kind": "value", "value": ["a\x00b"] * 70_000, "exact": False}, "ConversionError"),
    ({"kind": "value", "value": pd.Series(["a\x00b", "c"] * 40_000, dtype="str"), "exact": False}, "ConversionError"),
    # Times in coarse or fine units went through a cast that overflowed:
    # numpy 2.5 raised OverflowError, numpy 2.4 wrapped the value around
    # in silence (293 years became -106,488 days). Found on Debian 13.
    ({"kind": "value", "value": np.array(293, dtype="timedelta64[Y]"), "exact": False}, "ConversionError"),
    ({"kind": "value", "value": np.array([10**15], dtype="timedelta64[D]"), "exact": False}, "ConversionError"),
    ({"kind": "value", "value": np.array([10**18], dtype="datetime64[m]"), "exact": False}, "ConversionError"),
    # Plot sizes that no device can take raised OverflowError/ValueError.
    ({"kind": "line", "magic": "R", "line": "-h inf plot(1)"}, "UsageError"),
    ({"kind": "line", "magic": "R", "line": "--width=NaN plot(1)"}, "UsageError"),
    ({"kind": "line", "magic": "R", "line": "-w -inf plot(1)"}, "UsageError"),
    ({"kind": "line", "magic": "R", "line": "-r inf -u in -w 3 plot(1)"}, "UsageError"),
    ({"kind": "line", "magic": "R", "line": "-p nan plot(1)"}, "UsageError"),
    # A value nested deeper than conversion goes raised RecursionError.
    ({"kind": "value", "value": deep_list(400), "exact": False}, "ConversionError"),
    ({"kind": "value", "value": deep_dict(400), "exact": False}, "ConversionError"),
    # Matrices of times and durations came back flat, in R's column order
    # (found once the fuzzer compared the numbers of every value).
    (
        {"kind": "value", "value": np.array([["NaT", 587], [-124039, "NaT"]], dtype="timedelta64[us]"), "exact": False},
        None,
    ),
    ({"kind": "value", "value": np.array([[0, 1, 2], [3, "NaT", 5]], dtype="datetime64[s]"), "exact": False}, None),
    # pandas' UInt64 was read as int64: 2**64 - 1 reached R as -1.
    ({"kind": "value", "value": pd.Series([2**64 - 1], dtype="UInt64"), "exact": False}, "ConversionError"),
    ({"kind": "value", "value": pd.Series([2**63, None], dtype="UInt64"), "exact": False}, "ConversionError"),
    ({"kind": "value", "value": pd.Series([2**31, None], dtype="UInt64"), "exact": False}, None),
]


@pytest.mark.parametrize("case, error", REGRESSIONS, ids=[f"{c['kind']}-{i}" for i, (c, _) in enumerate(REGRESSIONS)])
def test_regression(fuzz, request, case, error):
    worker, outcomes = fuzz
    kind, detail = worker.run(case)
    outcomes.record("test_regression", case, kind, detail)
    expected = ("ok", "") if error is None else ("documented", error)
    assert (kind, detail) == expected, f"{_shown(case)}: {kind}: {detail}"
