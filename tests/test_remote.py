"""R values and functions pickle, unpickle anywhere without R, and take
what they need from the notebook along (rmagic_ext.remote).

"Elsewhere" is a fresh Python process (the unpickled value must work where
the notebook's R globals do not exist); "here, after the notebook forgot" is
this process with R's global environment emptied after pickling, which
shows the same for captures at a fraction of the cost.
"""

from __future__ import annotations

import inspect
import operator
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import rmagic_ext
from rmagic_ext import GlobalsTooLarge, RError, RObject, RPackageMissing, RemoteError, r
from rmagic_ext.remote import DEFAULT_MAX_SIZE, FORMAT, Packed, restore, unpacked
from rmagic_ext.session import get_session


def elsewhere(code: str, env: dict | None = None, **values) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python whose ``values`` are those given,
    pickled here and unpickled there; what it prints is returned."""
    import os

    script = "import pickle, sys\nvalues = pickle.loads(sys.stdin.buffer.read())\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(values),
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def forget_the_notebook() -> None:
    """Empty R's global environment, as a worker's is."""
    get_session().run("rm(list = ls(all.names = TRUE, envir = globalenv()), envir = globalenv())")


def roundtrip(value):
    """Pickled and unpickled in this process, after R's globals are gone."""
    data = pickle.dumps(value)
    forget_the_notebook()
    unpacked.clear()
    return pickle.loads(data)


# -- pickle anywhere -----------------------------------------------------------


def test_a_function_unpickles_and_runs_in_a_fresh_process(session):
    r("k <- 10; helper <- function(x) x * k; f <- function(x) helper(x) + 1")
    done = elsewhere("print(values['f'](3))", f=r.f)
    assert done.returncode == 0, done.stderr  # rpy2's own Sexp pickling ends here with SIGSEGV (139)
    assert done.stdout.strip() == "31.0"


def test_unpickling_does_not_start_r(session):
    r("f <- function(x) x + 1")
    done = elsewhere(
        """
        from rmagic_ext import session
        print(session._session is None)
        print(values['f'](1))
        print(session._session is not None)
    """,
        f=r.f,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "2.0", "True"]


def test_unpickled_and_first_used_on_threads_that_are_not_main(session):
    r("f <- function(x) sum(x)")
    done = elsewhere(
        """
        import threading
        got = {}
        def load():
            got['f'] = pickle.loads(values['data'])
        def use():
            got['value'] = got['f']([1, 2, 3])
        for target in (load, use):
            thread = threading.Thread(target=target)
            thread.start()
            thread.join()
        print(got['value'], threading.main_thread().is_alive())
    """,
        data=pickle.dumps(r.f),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "True"]


def test_values_without_a_python_form_pickle(session):
    model = r("lm(mpg ~ wt, data = mtcars)")
    env = r("e <- new.env(); e$n <- 3L; e")
    back = roundtrip({"model": model, "env": env})
    assert isinstance(back["model"], RObject) and back["model"].rclass == ("lm",)
    assert back["model"]["coefficients"]["wt"] == pytest.approx(-5.344472)
    assert back["env"].n == 3


def test_a_plot_object_pickles_as_a_plot(session):
    from rmagic_ext import RPlot

    plot = r("lattice::xyplot(1:3 ~ 1:3)")
    back = roundtrip(plot)
    assert type(back) is RPlot and "trellis" in back.rclass


def test_the_same_bytes_are_unpacked_once_per_process(session):
    r("f <- function(x) x")
    data = pickle.dumps(r.f)
    unpacked.clear()
    first, second = pickle.loads(data), pickle.loads(data)
    assert first(1) == second(1) == 1
    assert len(unpacked._objects) == 1
    assert first.sexp.rid == second.sexp.rid


def test_pickling_again_without_r_running_in_between_packs_once(session):
    r("f <- function(x) x")
    f = r.f
    first = pickle.dumps(f)
    packed = f._packing[1]
    assert pickle.dumps(f) == first and f._packing[1] is packed
    r("1")  # R ran: the notebook may have changed, so the next pickle packs again
    pickle.dumps(f)
    assert f._packing[1] is not packed


def test_values_are_captured_when_pickled(session):
    r("k <- 1; f <- function() k")
    f = r.f
    before = pickle.dumps(f)
    r("k <- 2")
    after = pickle.dumps(f)
    forget_the_notebook()
    assert pickle.loads(before)() == 1
    assert pickle.loads(after)() == 2


def test_truncated_pickle_is_a_pickle_error(session):
    r("f <- function(x) x")
    data = pickle.dumps(r.f)
    with pytest.raises((pickle.UnpicklingError, EOFError)):
        pickle.loads(data[: len(data) // 2])


def test_damaged_payload_is_a_clear_error_and_r_goes_on(session):
    r("f <- function(x) x + 1")
    state = Packed.from_state(r.f.__reduce__()[1][2]).state()
    data = bytearray(state["data"])
    data[len(data) // 2] ^= 0xFF
    damaged = restore(RObject, FORMAT, {**state, "data": bytes(data)})
    with pytest.raises(RemoteError, match="damaged"):
        damaged(1)
    cut = restore(RObject, FORMAT, {**state, "data": state["data"][:20]})
    with pytest.raises(RemoteError, match="damaged"):
        cut(1)
    assert r("1 + 1") == 2


def test_bytes_that_r_cannot_read_are_a_clear_error(session):
    r("f <- function(x) x + 1")
    state = r.f.__reduce__()[1][2]
    garbage = b"not R's serialization at all"
    forged = restore(RObject, FORMAT, {**state, "data": garbage, "digest": b""})  # digest made anew
    with pytest.raises(RemoteError, match="cannot be unpacked here"):
        forged(1)
    assert r("1 + 1") == 2


@pytest.mark.parametrize(
    "fmt, state, message",
    [
        (FORMAT + 1, {}, "another rmagic_ext release"),
        (FORMAT, "not a dict", "not an R value pickled by rmagic_ext"),
        (FORMAT, {"data": b""}, "not an R value pickled by rmagic_ext"),
    ],
)
def test_what_is_not_ours_is_refused_when_unpickled(fmt, state, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        restore(RObject, fmt, state)


def test_r_pickles_as_itself_and_names_the_way_in_a_worker(session):
    r("f <- function(x) x")
    done = elsewhere(
        """
        from rmagic_ext import r
        assert values['r'] is r
        try:
            values['r'].f
        except AttributeError as exc:
            print(exc)
    """,
        r=r,
    )
    assert done.returncode == 0, done.stderr
    assert "take the object first, f = r.f" in done.stdout


# -- functions travel with what they need ------------------------------------------


def test_helpers_and_their_values_from_other_cells_travel(ip):
    ip.run_cell_magic("R", "", "rate <- 3")
    ip.run_cell_magic("R", "", "scale_by <- function(x) x * rate")
    ip.run_cell_magic("R", "", "twice <- function(x) scale_by(x) * 2")
    twice = roundtrip(r.twice)
    assert set(twice._packed.captured) == {"scale_by", "rate"}
    assert twice(1) == 6


def test_recursion_travels(session):
    r("fact <- function(n) if (n <= 1) 1 else n * fact(n - 1)")
    assert roundtrip(r.fact)(5) == 120


def test_a_local_shadowing_a_global_does_not_capture_the_global(session):
    r("y <- runif(1e5); f <- function(x) { y <- 1; x + y }")
    f = roundtrip(r.f)
    assert f._packed.captured == ()
    assert f(1) == 2


def test_namespaces_used_as_pkg_colon_colon_travel_by_name(session):
    r("f <- function(x) tools::file_ext(x)")
    f = roundtrip(r.f)
    assert "tools" in f._packed.namespaces
    assert f("a.csv") == "csv"


def test_the_package_of_an_s4_class_travels(session):
    r("m <- Matrix::Matrix(c(1, 0, 0, 2), 2, sparse = TRUE); f <- function() class(m * 2)[1]")
    f = r.f
    done = elsewhere(
        """
        print(values['f']())
        from rmagic_ext import r
        print('Matrix' in r('loadedNamespaces()'))
    """,
        f=f,
    )
    assert done.returncode == 0, done.stderr
    assert "Matrix" in pickle.loads(pickle.dumps(f))._packed.namespaces
    assert done.stdout.split() == ["ddiMatrix", "True"]


def test_builtins_and_package_functions_travel_by_name(session):
    total, median = roundtrip(r.sum), roundtrip(r("stats::median"))
    assert total([1, 2, 3]) == 6 and median([1, 5, 9]) == 5
    assert median._packed.namespaces == ("stats",) and median._packed.captured == ()


def test_a_formula_takes_its_variables_from_the_notebook(session):
    r("k <- 100; fml <- y ~ x + offset(rep(k, length(x))); fit <- function(d) coef(lm(fml, data = d))[['x']]")
    fit = roundtrip(r.fit)
    assert set(fit._packed.captured) == {"fml", "k"}
    assert fit(pd.DataFrame({"x": [1.0, 2, 3], "y": [102.0, 104, 106]})) == pytest.approx(2)


def test_closures_returned_by_closures_travel(session):
    r("offset <- 100; make_adder <- function(k) function(x) x + k + offset; add2 <- make_adder(2)")
    add2 = roundtrip(r.add2)
    assert add2._packed.captured == ("offset",)
    assert add2(1) == 103


def test_local_functions_that_call_each_other_travel(session):
    r("""base <- 10
         make <- function() {
           down <- function(n) if (n > 0) down(n - 1) + up(n) else base
           up <- function(n) n
           function(n) down(n)
         }
         f <- make()""")
    f = roundtrip(r.f)
    assert f._packed.captured == ("base",)
    assert f(3) == 16


def test_s3_methods_defined_in_the_notebook_travel(session):
    r("""area <- function(s) UseMethod("area")
         area.square <- function(s) s$side^2
         summary.square <- function(object, ...) "a square"
         f <- function(side) { s <- structure(list(side = side), class = "square"); c(area(s), summary(s)) }""")
    f = roundtrip(r.f)
    assert {"area", "area.square", "summary.square"} <= set(f._packed.captured)
    assert f(3).tolist() == ["9", "a square"]


def test_a_closure_keeps_its_own_state_per_process(session):
    r("counter <- local({ n <- 0; function() { n <<- n + 1; n } })")
    counter = roundtrip(r.counter)
    assert [counter(), counter()] == [1, 2]


def test_python_objects_that_r_holds_travel_as_python_objects(ip):
    ip.user_ns["add"] = operator.add
    ip.run_cell_magic("R", "-i add", "f <- function(a) add(a, 1L)")
    done = elsewhere("print(values['f'](41))", f=r.f)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_python_values_read_with_py_dollar_travel(ip):
    ip.user_ns.update(threshold=21, offset=0.5, unused=object())
    ip.run_cell_magic("R", "", "f <- function(x) py$threshold * x + py[['offset']]")
    f = r.f
    assert f._packed is None and pickle.loads(pickle.dumps(f))._packed.pynames == {"threshold": 21, "offset": 0.5}
    done = elsewhere("print(values['f'](2))", f=f)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42.5"


def test_attached_packages_are_attached_where_it_runs(session):
    r("library(tools); f <- function(x) file_path_sans_ext(x)")
    done = elsewhere(
        """
        print(values['f']('a.csv'))
        from rmagic_ext import r
        print('package:tools' in r('search()'))
    """,
        f=r.f,
    )
    r("detach('package:tools')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["a", "True"]


def test_a_package_missing_where_it_runs_is_an_error_that_names_it(session):
    r("f <- function() R6::R6Class('A')")
    done = elsewhere(
        """
        from rmagic_ext import RPackageMissing
        try:
            values['f']()
        except RPackageMissing as exc:
            print(exc.package, '|', exc)
    """,
        env={"R_LIBS_SITE": "/nonexistent", "R_LIBS_USER": "/nonexistent"},
        f=r.f,
    )
    assert done.returncode == 0, done.stderr
    package, message = done.stdout.split("|", 1)
    assert package.strip() == "R6"
    assert "R package 'R6' is needed by f but is not installed here" in message


def test_explicit_packages_that_are_missing_are_named(session):
    f = rmagic_ext.remote(r("function() 1"), packages=["surely.not.a.package"], label="job")
    forget_the_notebook()
    unpacked.clear()
    with pytest.raises(RPackageMissing, match="'surely.not.a.package' is needed by job"):
        pickle.loads(pickle.dumps(f))()


def test_source_references_are_dropped_unless_asked_for(ip):
    ip.run_cell_magic("R", "", "f <- function(x) {\n  # a comment only the source has\n  x\n}")
    dropped = roundtrip(r.f)
    assert "a comment only the source has" not in repr(dropped)
    ip.run_cell_magic("R", "", "f <- function(x) {\n  # a comment only the source has\n  x\n}")
    kept = rmagic_ext.remote(r.f, keep_source=True)
    assert "a comment only the source has" in repr(roundtrip(kept))


def test_a_capture_above_the_size_limit_is_refused_naming_the_largest(ip):
    ip.run_cell_magic("R", "", "big <- runif(2e5); small <- 1; f <- function() sum(big) + small")
    magics = ip.magics_manager.registry["RMagics"]
    magics.remote_max_size = 1_000_000
    try:
        with pytest.raises(
            GlobalsTooLarge,
            match=r"f would take 1\.5 MiB .* above the limit of 976\.6 KiB; "
            r"largest: big \(1\.5 MiB\)",
        ) as caught:
            pickle.dumps(r.f)
        assert list(caught.value.sizes)[0] == "big"
        assert pickle.loads(pickle.dumps(rmagic_ext.remote(r.f, max_size=0)))._packed is not None
    finally:
        magics.remote_max_size = DEFAULT_MAX_SIZE


# -- explicit control -----------------------------------------------------------------


def test_remote_takes_exactly_the_globals_named(session):
    r("a <- 1; b <- 2; f <- function() a + b")
    f = rmagic_ext.remote(r.f, globals=["a", "b"], label="add_ab")
    assert f.__name__ == "add_ab"
    assert set(f._packed.captured) == {"a", "b"}
    r("a <- 100")  # fixed when remote() was called
    assert roundtrip(f)() == 3


def test_remote_takes_python_values_as_globals(session):
    r("f <- function() threshold * 2")
    f = rmagic_ext.remote("f", globals={"threshold": 21})
    assert roundtrip(f)() == 42


def test_remote_with_no_globals_fails_where_a_global_is_missing(session):
    r("k <- 1; f <- function() k")
    f = roundtrip(rmagic_ext.remote(r.f, globals=False))
    with pytest.raises(RError, match="object 'k' not found"):
        f()


@pytest.mark.parametrize("fn, error", [(42, TypeError), ("no_such_function", NameError)])
def test_remote_needs_an_r_function(session, fn, error):
    with pytest.raises(error):
        rmagic_ext.remote(fn)


@pytest.mark.parametrize("spec", ["k", [1], {1: 2}])
def test_remote_refuses_globals_it_cannot_read(session, spec):
    r("f <- function() 1")
    with pytest.raises(TypeError, match="globals="):
        rmagic_ext.remote(r.f, globals=spec)


# -- conversions and errors as in the notebook -------------------------------------------


def test_frames_convert_in_the_worker_as_in_the_notebook(ip):
    ip.run_cell_magic("R", "", "f <- function(d) data.frame(n = nrow(d), total = sum(d$v))")
    magics = ip.magics_manager.registry["RMagics"]
    pickled = {"pandas": pickle.dumps(r.f)}
    magics.frames = "polars"
    try:
        pickled["polars"] = pickle.dumps(r.f)
    finally:
        magics.frames = "pandas"
    done = elsewhere(
        """
        import pandas as pd
        frame = pd.DataFrame({'v': [1.5, 2.5]})
        for kind, data in sorted(values.items()):
            out = pickle.loads(data)(frame)
            print(kind, type(out).__module__.split('.')[0], out['total'][0])
    """,
        **pickled,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["pandas pandas 4.0", "polars polars 4.0"]


def test_a_function_from_the_magics_returns_arrays_in_the_worker_as_in_the_notebook(ip):
    ip.run_cell_magic("R", "-o f", "f <- function(x) x * 2")
    from_magics = ip.user_ns["f"]
    assert isinstance(from_magics(2), np.ndarray)  # rpy2's shape, as -o gives values
    assert r.f(2) == 4  # Python's, as the bridge gives values
    back = roundtrip(from_magics)
    assert isinstance(back(2), np.ndarray) and back(2).tolist() == [4.0]


def test_an_r_error_crosses_with_message_call_and_worker(session):
    r("check <- function(x) if (x < 0) stop('negative input: ', x) else x")
    done = elsewhere(
        """
        try:
            values['check'](-1)
        except Exception as exc:
            print(pickle.dumps(exc).hex())
    """,
        check=r.check,
    )
    assert done.returncode == 0, done.stderr
    exc = pickle.loads(bytes.fromhex(done.stdout.strip()))
    assert isinstance(exc, RError)
    assert exc.message == "negative input: -1" and exc.call == "check(x)"
    assert exc.worker.startswith("process ") and "pid" in exc.worker
    assert str(exc).startswith("Error in check(x) : negative input: -1 [R in process ")


def test_an_r_error_here_names_no_worker(session):
    r("boom <- function() stop('here')")
    with pytest.raises(RError) as caught:
        r.boom()
    assert caught.value.worker is None and str(caught.value) == "Error in boom() : here"


def test_a_function_has_its_r_arguments_as_signature(session):
    sig = inspect.signature(r("function(data, n = 10, ..., na.rm = FALSE) NULL"))
    assert [(p.name, p.kind.name) for p in sig.parameters.values()] == [
        ("data", "POSITIONAL_OR_KEYWORD"),
        ("n", "POSITIONAL_OR_KEYWORD"),
        ("args", "VAR_POSITIONAL"),
        ("kwargs", "VAR_KEYWORD"),
    ]
    assert sig.parameters["n"].default is not inspect.Parameter.empty
    assert str(inspect.signature(r.sum)) == "(*args, **kwargs)"
    assert r("new.env()").__signature__ is None
