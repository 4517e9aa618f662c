"""RObject: R objects with no better conversion cross as proxies that print
like R, expose members, call R functions and go back to R unchanged."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

import helpers
import rmagic_ext
from rmagic_ext import RError, RObject, py2r, r2py

# Values are checked as Python scalars and Series; test_shapes.py checks rpy2's arrays.
pytestmark = pytest.mark.usefixtures("python_shapes")


@pytest.fixture
def R(ip):
    """``%R code`` from a test: the converted value of the last expression."""
    return functools.partial(helpers.R, ip)


@pytest.fixture
def r_true(R):
    """Evaluate an R condition that must come back as one TRUE or FALSE."""

    def check(code: str) -> bool:
        value = R(code)
        assert isinstance(value, bool), f"{code!r} gave {value!r}"
        return value

    return check


PERSON = """Person <- R6::R6Class("Person",
  public = list(
    name = NULL,
    initialize = function(name) self$name <- name,
    greet = function(greeting = "Hello") paste0(greeting, ", ", self$name, "!"),
    fail = function() stop("no greeting for ", self$name)))"""


def test_robject_is_public():
    assert rmagic_ext.RObject is RObject
    assert "RObject" in rmagic_ext.__all__


# -- environments: identity and shared state ------------------------------------


def test_environment_pushed_back_is_identical(ip, R, r_true):
    env = R("e1 <- new.env(); e1$a <- 1; e1")
    assert isinstance(env, RObject)
    assert env.typeof == "environment"
    ip.user_ns["env_proxy"] = env
    ip.run_line_magic("Rpush", "env_proxy")
    assert r_true("identical(env_proxy, e1)")
    assert r_true("-i e2=env_proxy identical(e2, e1)")


def test_environment_changes_are_seen_both_ways(ip, R, r_true):
    env = R("e1 <- new.env(); e1")
    ip.user_ns["env_proxy"] = env
    ip.run_line_magic("Rpush", "e2=env_proxy")
    R("e2$from_r <- 42L")  # through the pushed copy, seen by the proxy
    assert env.from_r == 42
    env.from_python = "hi"  # through the proxy, seen by R's original
    assert R("e1$from_python") == "hi"
    env["item"] = 2.5
    assert R("e1$item") == 2.5


def test_environment_lists_its_bindings_and_answers_in(R):
    env = R("e1 <- new.env(); e1$alpha <- 1; e1$beta <- 2; e1")
    assert env.names() == ["alpha", "beta"]
    assert {"alpha", "beta"} <= set(dir(env))
    assert "alpha" in env and "gamma" not in env


# -- S4 -------------------------------------------------------------------------


def test_s4_slots_and_show_based_repr(R):
    R('setClass("Pt", representation(name = "character", x = "numeric"))')
    R('setMethod("show", "Pt", function(object) cat("<Pt", object@name, object@x, ">\\n"))')
    point = R('new("Pt", name = "origin", x = 0.5)')
    assert isinstance(point, RObject) and point.typeof == "S4"
    assert repr(point) == "<Pt origin 0.5 >"
    assert point.name == "origin"
    assert point["x"] == 0.5
    assert {"name", "x"} <= set(dir(point))


def test_s4_object_is_a_value_not_assignable(R):
    R('setClass("Pt", representation(x = "numeric"))')
    point = R('new("Pt", x = 1)')
    with pytest.raises(AttributeError, match="not a reference"):
        point.x = 2
    with pytest.raises(TypeError, match="item assignment"):
        point["x"] = 2


# -- R6 -------------------------------------------------------------------------


def test_r6_fields_and_methods(R):
    R("library(R6)")
    R(PERSON)
    ann = R('Person$new("Ann")')
    assert isinstance(ann, RObject)
    assert ann.rclass == ("Person", "R6")
    assert ann.name == "Ann"
    assert ann.greet() == "Hello, Ann!"
    assert ann.greet(greeting="Hi") == "Hi, Ann!"
    assert "Public:" in repr(ann) and "greet" in repr(ann)
    assert {"greet", "name"} <= set(dir(ann))


def test_r6_object_is_shared_with_r(ip, R):
    R("library(R6)")
    R(PERSON)
    ann = R('ann <- Person$new("Ann"); ann')
    ann.name = "Bob"
    assert R("ann$greet()") == "Hello, Bob!"


def test_r6_method_error_names_the_method(R):
    R("library(R6)")
    R(PERSON)
    ann = R('Person$new("Ann")')
    with pytest.raises(RError) as caught:
        ann.fail()
    assert caught.value.message == "no greeting for Ann"
    assert caught.value.call == "fail()"


# -- model fits and formulas ---------------------------------------------------


def test_lm_fit_prints_like_r_and_exposes_coefficients(R):
    fit = R("lm(mpg ~ wt, data = mtcars)")
    assert isinstance(fit, RObject)  # not flattened into a dict
    assert fit.rclass == ("lm",)
    assert "Coefficients" in repr(fit)
    expected = R("unname(coef(lm(mpg ~ wt, data = mtcars)))")
    assert np.allclose(np.asarray(fit.coefficients, dtype=float), expected)
    assert np.allclose(np.asarray(fit["coefficients"], dtype=float), [37.285126, -5.344472])
    assert {"coefficients", "residuals", "call"} <= set(fit.names())


def test_lm_fit_pushed_back_is_identical(ip, R, r_true):
    ip.user_ns["fit_proxy"] = R("fit <- lm(mpg ~ wt, data = mtcars); fit")
    assert r_true("-i fit_proxy identical(fit_proxy, fit)")
    assert np.allclose(R("-i fit_proxy unname(predict(fit_proxy, data.frame(wt = 3)))"), 37.285126 - 3 * 5.344472)


def test_formula_round_trip(ip, R, r_true):
    formula = R("y ~ x + log(z)")
    assert isinstance(formula, RObject)
    assert formula.rclass == ("formula",)
    assert repr(formula) == "y ~ x + log(z)"
    ip.user_ns["formula_proxy"] = formula
    assert r_true("-i formula_proxy identical(formula_proxy, y ~ x + log(z))")


def test_language_objects_are_proxied_not_evaluated(R):
    call = R("quote(undefined_fn(undefined_var))")
    assert call.typeof == "language"
    assert repr(call) == "undefined_fn(undefined_var)"
    symbol = R("as.name('undefined_var')")
    assert symbol.typeof == "symbol" and repr(symbol) == "undefined_var"


def test_other_objects_fall_back_to_robject(R):
    value = R("expression(a, b + 1)")
    assert isinstance(value, RObject) and value.typeof == "expression"
    assert repr(value) == "expression(a, b + 1)"


# -- calling R functions ----------------------------------------------------------


def test_call_with_positional_and_named_arguments(R):
    f = R("function(x, k = 1, ...) x * k + length(list(...))")
    assert isinstance(f, RObject) and f.typeof == "closure"
    assert f(3) == 3
    assert f(3, k=2) == 6
    assert f(3, 1, 2, 3) == 5  # k = 1 positionally, two more in ...
    assert np.allclose(f(np.array([1.0, 2.0]), k=10.0), [10.0, 20.0])


def test_call_builtin_with_r_style_argument_name(R):
    total = R("sum")
    assert total.typeof == "builtin"
    assert total(1, [2, None], **{"na.rm": True}) == 3


def test_language_argument_arrives_unevaluated(R):
    identity = R("function(x) x")
    call = R("quote(undefined_fn(undefined_var))")
    back = identity(call)
    assert isinstance(back, RObject) and back.typeof == "language"
    assert repr(back) == "undefined_fn(undefined_var)"
    deparse = R("function(x) deparse(x)")
    assert deparse(R("y ~ x")) == "y ~ x"


def test_r_error_in_called_function_is_rerror(R):
    f = R("function(x) stop('bad input: ', x)")
    with pytest.raises(RError) as caught:
        f("zz")
    assert caught.value.message == "bad input: zz"
    assert "Error in" in str(caught.value) and "bad input: zz" in str(caught.value)


def test_r_is_usable_after_a_failed_call(R):
    f = R("function() stop('boom')")
    with pytest.raises(RError):
        f()
    assert R("1 + 1") == 2


def test_non_function_is_not_callable(R):
    env = R("new.env()")
    with pytest.raises(TypeError, match="not a function"):
        env()


# -- errors of access --------------------------------------------------------------


def test_missing_member_is_attribute_error_and_key_error(R):
    fit = R("lm(mpg ~ wt, data = mtcars)")
    with pytest.raises(AttributeError, match="no member 'nope'"):
        fit.nope
    assert not hasattr(fit, "nope")
    assert hasattr(fit, "qr")
    with pytest.raises(KeyError):
        fit["nope"]
    with pytest.raises(TypeError, match="by name"):
        fit[0]


def test_python_protocol_probes_do_not_reach_r(R):
    env = R("e <- new.env(); e")
    assert not hasattr(env, "_repr_html_")
    assert not hasattr(env, "__array__")


def test_repr_uses_s3_print_methods_defined_in_the_notebook(R):
    R('print.ticket <- function(x, ...) cat("ticket #", x$id, "\\n", sep = "")')
    ticket = R('t1 <- structure(new.env(), class = "ticket"); t1$id <- 7L; t1')
    assert repr(ticket) == "ticket #7"


def test_repr_never_raises(R):
    R('print.broken <- function(x, ...) stop("cannot print")')
    broken = R('structure(new.env(), class = "broken")')
    assert repr(broken) == "<RObject of class broken>"


# -- the registry ------------------------------------------------------------------


def test_py2r_gives_back_the_same_sexp(R):
    env = R("new.env()")
    assert py2r(env) is env.sexp
    assert isinstance(r2py(env.sexp), RObject)


def test_copy_of_a_proxy_is_the_same_r_object(ip, r_true, R):
    env = R("e1 <- new.env(); e1")
    ip.user_ns["env_copy"] = copy.copy(env)
    assert isinstance(ip.user_ns["env_copy"], RObject)
    assert r_true("-i env_copy identical(env_copy, e1)")


def test_classed_list_is_a_proxy_that_goes_back_unchanged(ip):
    ip.run_cell_magic("R", "", "pt <- structure(list(x = 1, y = 2), class = 'point')")
    ip.run_line_magic("Rpull", "pt")
    proxy = ip.user_ns["pt"]
    assert proxy.rclass == ("point",) and proxy.x == 1.0
    ip.run_line_magic("Rpush", "copy=pt")
    assert ip.run_line_magic("R", "identical(copy, pt)") is True


def test_user_s3_print_method_is_used_for_auto_print(ip, capsys):
    ip.run_cell_magic(
        "R",
        "",
        "print.point <- function(x, ...) cat('<point', x$x, x$y, '>\\n')\n"
        "structure(list(x = 1, y = 2), class = 'point')",
    )
    assert capsys.readouterr().out == "<point 1 2 >\n"


def test_a_ggplot_is_a_proxy_on_every_ggplot2(R):
    """ggplot2 4.x plots are S7 objects (typeof "object", not S4, not a list);
    3.x plots are classed lists. Both cross as proxies whose members read."""
    R("library(ggplot2); g <- ggplot(mtcars, aes(wt, mpg)) + geom_point()")
    g = R("g")
    assert isinstance(g, RObject) and "ggplot" in g.rclass
    assert g.data.shape == (32, 11)
    rmagic_ext.r.back = g
    assert R("identical(back, g)") is True


def test_a_called_function_sees_its_arguments_by_name_as_typed_in_r(R):
    f = R("function(data, n = 1, ...) stop('no rows')")
    with pytest.raises(RError) as caught:
        f([1.0, 2.0], 2, extra=3)
    assert caught.value.call == "FUN(data, n, extra = extra)"
    assert R("function(x) deparse(substitute(x))")(5) == "x"
    from rmagic_ext import r

    fit = r.lm("y ~ x", data={"x": [1.0, 2, 3], "y": [2.0, 4, 6]})
    assert repr(fit).splitlines()[2] == "lm(formula = formula, data = data)"


def test_functions_pulled_by_the_magics_carry_their_r_name(ip, R):
    R("g <- function(x) stop('nope')")
    ip.run_line_magic("Rpull", "g")
    pulled = {"-o": ip.user_ns["g"], "%Rget": ip.run_line_magic("Rget", "g")}
    ip.run_cell_magic("R", "-o h=g", "NULL")
    pulled["-o h=g"] = ip.user_ns["h"]
    for how, g in pulled.items():
        assert g.__name__ == "g", how
        with pytest.raises(RError, match=r"Error in g\(x\) : nope"):
            g(1)
