"""The child process of tests/test_fuzz.py: runs each case it is sent in a
real IPython shell with the extension loaded, and answers how it ended.

One pickled request per message on stdin, one pickled answer on stdout, both
length-prefixed. A crash of this process is what the fuzz test looks for: the
parent sees it as a closed pipe and reports the case that caused it; a hang
is an answer that does not come.

Each answer is (kind, detail). Kinds: "ok"; "documented" (one of the errors
docs/troubleshooting.md promises for bad input); "undocumented" (any other exception: a
Python traceback from our code); "mismatch" (a value came back changed
without a word); "state" (the session was left changed: locale, options,
devices, sinks, search path, SIGINT handler, temporary files, the console
streams, environment variables and working directory of R and of Python);
"broken" (R stopped answering).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython

sys.path.insert(0, str(Path(__file__).resolve().parent))
from strategies import same_numbers, same_value  # noqa: E402

from rmagic_ext import ConversionError, ConversionWarning, RError, RParseError, r  # noqa: E402
from rmagic_ext.session import get_session  # noqa: E402

#: What a bad input may end in: one of our documented exceptions (KeyError
#: for names R cannot have, NameError for Python names that do not exist,
#: as rpy2's magics raise; IPython's own SyntaxError for a Python cell it
#: cannot compile, before any magic runs).
DOCUMENTED = (UsageError, RError, RParseError, ConversionError, KeyError, NameError)

#: R's view of what a case must leave as it found it.
R_STATE = """list(
  locale = Sys.getlocale(),
  options = vapply(options(), function(o) paste(deparse(o, nlines = 5L), collapse = " "), ""),
  devices = names(dev.list()), sinks = c(sink.number(), sink.number(type = "message")),
  search = search(),
  files = sort(list.files(tempdir(), recursive = TRUE, all.files = TRUE)),
  wd = getwd(), env = as.list(Sys.getenv()))"""
#: Options that R changes as it runs, whatever the case (its random seed kind, say).
VOLATILE_OPTIONS = {"warning.length", "rmagic_ext.last"}


def state() -> dict:
    """The session's state that no case may change."""
    values = r(R_STATE)
    options = values["options"]
    session = get_session()
    files = sorted(str(p.relative_to(session.tmpdir)) for p in session.tmpdir.rglob("*") if p.is_file())
    return {
        "locale": values["locale"],
        "options": {k: v for k, v in dict(options).items() if k not in VOLATILE_OPTIONS},
        "devices": _listed(values["devices"]),
        "sinks": _listed(values["sinks"]),
        "search": _listed(values["search"]),
        "R tempdir files": _listed(values["files"]),
        "our files": files,
        "R's environment variables": dict(values["env"]),
        "R's working directory": values["wd"],
        "Python's environment variables": dict(os.environ),
        "Python's working directory": os.getcwd(),
        "SIGINT handler": signal.getsignal(signal.SIGINT),
        "console streams": (sys.stdout, sys.stderr),
    }


def _listed(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [value]
    return list(np.asarray(value).tolist())


def changes(before: dict, after: dict) -> str:
    """What differs, said briefly ("" when nothing)."""
    said = []
    for key, was in before.items():
        now = after[key]
        if key in ("options", "R's environment variables", "Python's environment variables") and now != was:
            differ = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k))
            said.append(f"{key} {differ[:5]}")
        elif now != was:
            said.append(f"{key}: {was!r} -> {now!r}"[:300])
    return "; ".join(said)


RESTORE = """
  while (sink.number() > 0) sink()
  while (sink.number(type = "message") > 2) sink(type = "message")
  while (!is.null(dev.list())) dev.off()
  setTimeLimit()
  Sys.unsetenv("FUZZ")
  setwd(.fuzz$wd)
  added <- setdiff(names(options()), names(.fuzz$options))
  options(c(.fuzz$options, stats::setNames(vector("list", length(added)), added)))
  for (part in strsplit(.fuzz$locale, ";", fixed = TRUE)[[1L]]) {
    kv <- strsplit(part, "=", fixed = TRUE)[[1L]]
    if (length(kv) == 2L && kv[1L] %in% c("LC_CTYPE", "LC_COLLATE", "LC_MONETARY", "LC_TIME", "LC_MESSAGES",
                                          "LC_PAPER", "LC_MEASUREMENT") && Sys.getlocale(kv[1L]) != kv[2L]) {
      suppressWarnings(Sys.setlocale(kv[1L], kv[2L]))
    }
  }
  unlink(setdiff(list.files(tempdir(), full.names = TRUE, all.files = TRUE, no.. = TRUE), .fuzz$files),
         recursive = TRUE)
"""


def keep_baseline() -> None:
    """What restore() puts back, kept in R where cells cannot reach it."""
    r("""assign(".fuzz", new.env(), envir = as.environment("rmagic_ext"))
         .fuzz$options <- options(); .fuzz$locale <- Sys.getlocale(); .fuzz$wd <- getwd()
         .fuzz$files <- list.files(tempdir(), full.names = TRUE, all.files = TRUE, no.. = TRUE)""")


def restore(before: dict) -> None:
    """Undo what a case left, so that one case's change is not the next's.
    (A time limit the case set fires at R's next check, once: then again.)"""
    try:
        r(RESTORE)
    except RError:
        r(RESTORE)
    signal.signal(signal.SIGINT, before["SIGINT handler"])
    sys.stdout, sys.stderr = before["console streams"]


#: Each kind of case as a notebook cell would run it (graphics and other
#: per-cell work happen at the cell's end, as in a notebook).
SOURCES = {
    "line": "get_ipython().run_line_magic(fuzz_case['magic'], fuzz_case['line'])",
    "code": "r(fuzz_case['code'])",
    "name": "r[fuzz_case['name']] = 1\nfuzz_back = r[fuzz_case['name']]",
    "value": (
        "r.fuzz_value = fuzz_case['value']\nfuzz_back = r.fuzz_value\nfuzz_in = fuzz_case['value']\n"
        "get_ipython().run_cell_magic('R', '-i fuzz_in -o fuzz_out', 'fuzz_out <- fuzz_in')"
    ),
}


def run_case(ip, case: dict) -> tuple[str, str]:
    """("ok" | "documented" | "undocumented" | "mismatch", detail)."""
    kind = case["kind"]
    source = case["source"] if kind == "cell" else SOURCES[kind]
    ip.user_ns.update(fuzz_case=case, r=r)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        result = ip.run_cell(source, store_history=False)
    if isinstance(result.error_before_exec, SyntaxError):
        return "documented", "SyntaxError (IPython's, before any magic ran)"
    error = result.error_before_exec or result.error_in_exec
    if isinstance(error, DOCUMENTED):
        return "documented", type(error).__name__
    if error is not None:  # anything else is a finding
        return "undocumented", f"{type(error).__module__}.{type(error).__name__}: {error}"[:500]
    if kind == "name" and ip.user_ns["fuzz_back"] != 1:
        return "mismatch", f"1 came back as {ip.user_ns['fuzz_back']!r}"
    if kind == "value":
        # Exact values come back as they went; any other value keeps its
        # numbers unless a ConversionWarning said what was lost.
        compare = same_value if case["exact"] else same_numbers
        warned = any(issubclass(w.category, ConversionWarning) for w in said)
        for how, got in (("r.x", ip.user_ns["fuzz_back"]), ("-i/-o", ip.user_ns["fuzz_out"])):
            why = "" if warned and not case["exact"] else compare(case["value"], got)
            if why:
                return "mismatch", f"through {how}: {why}"[:500]
    return "ok", ""


def main() -> None:
    ip = start_ipython()
    ip.run_line_magic("load_ext", "rmagic_ext")
    import io
    import types

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # what cells print must not corrupt the answers
    sys.stdin = io.StringIO()  # and what R asks must not read them (R's console reads come to input())
    # Warm up what the first use sets up once (the plot folder, R's device),
    # then take the state every case must leave as it found it.
    ip.run_cell("%%R\nplot(1)\nx <- 1", store_history=False)
    r("rm(list = ls())")
    keep_baseline()
    before = state()
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return
        case = pickle.loads(stdin.read(struct.unpack("<I", header)[0]))
        ip.user_ns.update(x=1, df=pd.DataFrame({"a": [1, 2]}), ns=types.SimpleNamespace(val=2))
        answer = run_case(ip, case)
        try:
            if case.get("changes_state"):  # on purpose: put back, not judged
                restore(before)
            if r("1L") != 1:
                answer = ("broken", f"R answers 1L with something else after {answer}")
            else:
                r("rm(list = ls())")
                changed = changes(before, state())
                if changed:
                    answer = ("state", changed + f" (the case itself ended {answer[0]})")
                    restore(before)
        except BaseException as exc:
            answer = ("broken", f"R no longer answers ({type(exc).__name__}: {exc}) after {answer}"[:500])
        data = pickle.dumps(answer)
        stdout.write(struct.pack("<I", len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    main()
