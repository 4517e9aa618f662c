"""Both languages on the same objects: py$ in R, r in Python, callables,
references and their lifetimes."""

from __future__ import annotations

import gc
import math
import os
import signal
import subprocess
import sys
import threading
import time
import types
import weakref

import numpy as np
import pandas as pd
import pytest

from helpers import R
from rmagic_ext import RError, RInterrupt, RObject, r

# R facts are checked as Python scalars; test_shapes.py checks the magics' arrays.
pytestmark = pytest.mark.usefixtures("python_shapes")


# -- py in R ------------------------------------------------------------------------


def test_py_reads_the_namespace_when_evaluated(ip, capsys):
    ip.user_ns["x"] = 1
    ip.run_cell_magic("R", "", "f <- function() py$x * 10")
    assert R(ip, "f()") == 10
    ip.user_ns["x"] = 5
    assert R(ip, "f()") == 50  # looked up at the moment of access, no -i needed


def test_py_assigns_into_the_namespace(ip):
    ip.run_cell_magic("R", "", "py$from_r <- data.frame(a = 1:3)\npy[['also']] <- 'x'")
    assert ip.user_ns["from_r"]["a"].tolist() == [1, 2, 3]
    assert ip.user_ns["also"] == "x"


def test_py_navigates_modules_and_objects(ip):
    ip.user_ns["math"] = math
    ip.user_ns["ns"] = types.SimpleNamespace(inner=types.SimpleNamespace(value=7))
    assert R(ip, "py$math$pi") == math.pi
    assert R(ip, "py$ns$inner$value") == 7


def test_py_calls_python_with_positional_and_named_arguments(ip):
    ip.user_ns["scale"] = lambda values, factor=1, offset=0: [v * factor + offset for v in values]
    assert R(ip, "py$scale(c(1, 2), factor = 10, offset = 1)").tolist() == [11.0, 21.0]


def test_names_of_py_list_the_user_namespace(ip):
    ip.user_ns["visible_name"] = 1
    names = R(ip, "names(py)").tolist()
    assert "visible_name" in names and "In" not in names and "get_ipython" not in names


def test_unknown_py_name_is_an_r_error_naming_it(ip):
    with pytest.raises(RError, match="no_such_thing"):
        R(ip, "py$no_such_thing")


# -- r in Python ----------------------------------------------------------------------


def test_r_reads_assigns_evaluates_lists_and_removes(ip):
    r.counts = pd.Series([1, 2, 3], index=["a", "b", "c"])
    assert R(ip, "sum(counts)") == 6
    r["label"] = "hi"
    assert r.label == "hi" and r["label"] == "hi"
    assert r("nchar(label) + 1L") == 3
    assert {"counts", "label"} <= set(dir(r))
    del r.label
    assert "label" not in dir(r)
    with pytest.raises(AttributeError):
        r.label
    with pytest.raises(KeyError):
        del r["label"]


def test_r_globals_complete_after_r_dot(ip):
    r.completion_target = 1
    ip.user_ns["r"] = r
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():  # the API ipykernel answers Tab with
        matches = [c.text for c in ip.Completer.completions("r.completion_t", 14)]
    assert "completion_target" in matches


# -- callables ------------------------------------------------------------------------


def test_python_function_is_an_r_function(ip):
    def fit(x, y, degree=1):
        return np.polyfit(x, y, degree)

    r.fit = fit
    assert R(ip, "is.function(fit)") is True
    coef = R(ip, "fit(c(0, 1, 2), c(1, 3, 5))")
    np.testing.assert_allclose(coef, [2.0, 1.0])
    assert r.fit is fit  # and it comes back as the same function


def test_python_exception_is_an_r_error_tryCatch_can_catch(ip):
    def fail(message):
        raise ValueError(message)

    r.fail = fail
    caught = R(ip, 'tryCatch(fail("bad input"), python.ValueError = function(e) conditionMessage(e))')
    assert caught == "ValueError: bad input"
    assert R(ip, 'tryCatch(fail("x"), python_error = function(e) class(e)[1])') == "python.ValueError"
    with pytest.raises(RError, match="ValueError: boom"):
        R(ip, 'fail("boom")')


def test_r_function_is_a_python_callable(ip):
    ip.run_cell_magic("R", "", "add <- function(a, b = 1) a + b\nfails <- function() stop('r side')")
    add = r.add
    assert add(1, b=2) == 3 and add(5) == 6
    with pytest.raises(RError, match="r side"):
        r.fails()


def test_calls_nest_r_python_r(ip):
    ip.run_cell_magic("R", "", "r_square <- function(v) v^2")
    r.py_twice_square = lambda v: 2 * r.r_square(v)
    assert R(ip, "py_twice_square(3)") == 18.0
    ip.user_ns["outer"] = lambda: r("py_twice_square(2) + 1")
    assert R(ip, "py$outer()") == 9.0


def test_interrupt_stops_a_python_callback(session, ip):
    ip.user_ns["time"] = time
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(RInterrupt):
        session.run("py$time$sleep(30)")
    assert time.monotonic() - started < 5
    assert R(ip, "1L") == 1


# -- references -----------------------------------------------------------------------


class Account:
    def __init__(self, balance):
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount
        return self.balance

    def __repr__(self):
        return f"Account({self.balance})"


def test_object_without_converter_is_a_reference_and_comes_back_identical(ip, capsys):
    account = Account(10)
    ip.user_ns["acct"] = account
    ip.run_cell_magic("R", "-i acct", "acct$deposit(5L)\nacct")
    assert capsys.readouterr().out == "[1] 15\n<Python Account(15)>\n"
    ip.run_cell_magic("R", "-o back", "back <- acct")
    assert ip.user_ns["back"] is account
    R(ip, "acct$balance <- 100")
    assert account.balance == 100  # edited in R, seen in Python


def test_r_object_proxy_goes_back_as_the_identical_object(ip):
    ip.run_cell_magic("R", "", "env <- new.env(); env$count <- 1")
    env = r.env
    assert isinstance(env, RObject)
    env.count = 5  # edited in Python, seen in R
    assert R(ip, "env$count") == 5
    r.same_env = env
    assert R(ip, "identical(env, same_env)") is True


def test_python_object_is_released_when_r_lets_go(ip):
    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    r.payload = payload
    del payload
    gc.collect()
    assert ref() is not None  # R still refers to it
    R(ip, "rm(payload); invisible(gc())")
    gc.collect()
    assert ref() is None


def test_r_object_is_released_when_python_lets_go(ip):
    R(ip, "collected <- FALSE; e <- new.env(); reg.finalizer(e, function(x) collected <<- TRUE); NULL")
    proxy = r.e
    R(ip, "rm(e); invisible(gc())")
    assert R(ip, "collected") is False  # the Python proxy keeps it alive
    del proxy
    gc.collect()
    R(ip, "invisible(gc())")
    assert R(ip, "collected") is True


def test_numeric_pull_is_a_read_only_view_of_r_memory(ip):
    R(ip, "big <- as.numeric(1:10)")
    view = r.big
    assert view.base is not None and not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 99
    copy = view.copy()
    copy[0] = 99  # a copy is the user's to change
    assert R(ip, "big[1]") == 1.0


def test_references_r_collects_at_exit_do_not_crash_python():
    """R's last garbage collection (at exit, after Python let go of the
    bridge) runs the finalizers of references R dropped."""
    code = "from rmagic_ext import r\nclass A: pass\nfor i in range(50): r[f'x{i}'] = A()\nr('rm(list = ls())')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "Fatal" not in done.stderr, done.stderr


def test_exit_is_quiet_when_rpy2_robjects_ended_r_first():
    """rpy2.robjects registers an exit handler that ends R before ours runs."""
    code = "from rmagic_ext import r\nr('x <- 1')\nimport rpy2.robjects\nclass A: pass\nr['ref'] = A()\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
