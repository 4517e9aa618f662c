"""The child process of tests/test_fuzz.py: runs each case it is sent in a
real IPython shell with the extension loaded, and answers how it ended.

One pickled request per message on stdin, one pickled answer on stdout, both
length-prefixed. A crash of this process is what the fuzz test looks for: the
parent sees it as a closed pipe and reports the case that caused it.
"""

from __future__ import annotations

import pickle
import struct
import sys
import warnings

import numpy as np
import pandas as pd
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython

from rmagic_ext import ConversionError, RError, RParseError, r

#: What a bad input may end in: one of our documented exceptions.
DOCUMENTED = (UsageError, RError, RParseError, ConversionError, KeyError)


def same(a, b) -> bool:
    """Equal values, equal missing positions, the same type family."""
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_dtype=False, check_index_type=False)
            return True
        except AssertionError:
            return False
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and \
            np.array_equal(a, np.asarray(b), equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) is type(b) and a == b


def run_case(ip, case: dict) -> tuple[str, str]:
    """("ok" | "mismatch" | "documented" | "undocumented", detail)."""
    kind = case["kind"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "cell":
                result = ip.run_cell(case["source"], store_history=False)
                error = result.error_before_exec or result.error_in_exec
                if error is not None:
                    raise error
                return "ok", ""
            if kind == "name":
                r[case["name"]] = 1
                return ("ok", "") if r[case["name"]] == 1 else ("mismatch", "1")
            if kind == "value":
                r.fuzz_value = case["value"]
                back = r.fuzz_value
                if case["exact"] and not same(case["value"], back):
                    return "mismatch", f"{case['value']!r} came back as {back!r}"[:500]
                return "ok", ""
    except DOCUMENTED as exc:
        return "documented", type(exc).__name__
    except Exception as exc:  # anything else is a finding
        return "undocumented", f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:500]
    raise ValueError(f"unknown case kind {kind!r}")


def main() -> None:
    ip = start_ipython()
    ip.run_line_magic("load_ext", "rmagic_ext")
    import types
    ip.user_ns.update(x=1, df=pd.DataFrame({"a": [1, 2]}), ns=types.SimpleNamespace(val=2))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # what cells print must not corrupt the answers
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return
        case = pickle.loads(stdin.read(struct.unpack("<I", header)[0]))
        answer = pickle.dumps(run_case(ip, case))
        stdout.write(struct.pack("<I", len(answer)) + answer)
        stdout.flush()


if __name__ == "__main__":
    main()
