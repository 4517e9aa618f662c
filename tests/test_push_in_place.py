"""Pushing a numeric array to a name that already holds a vector R would
modify in place overwrites that vector; everywhere R's value semantics could
tell the difference, a new vector is made instead."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import R
from rmagic_ext import ConversionError, RError, _rapi, r
from rmagic_ext.session import get_session


def address(name: str) -> int:
    """Where R keeps the vector bound to ``name`` (no rpy2 wrapper is made,
    which would itself count as a reference)."""
    return _rapi.address(get_session().bound_value(name))


def push(ip, **values) -> None:
    ip.user_ns.update(values)
    ip.run_line_magic("Rpush", " ".join(values))


@pytest.mark.parametrize(
    "first, second",
    [
        (np.arange(1000.0), np.arange(1000.0)[::-1] * 2.5),
        (np.arange(1000, dtype=np.int64), np.arange(1000, dtype=np.int32) * -3),
        (np.arange(1000) % 2 == 0, np.arange(1000) % 3 == 0),
        (np.arange(1000.0), np.arange(1000, dtype=np.float32) / 7),
    ],
)
def test_re_push_writes_into_the_same_vector(ip, first, second):
    push(ip, a=first)
    where = address("a")
    push(ip, a=second)
    assert address("a") == where
    np.testing.assert_array_equal(R(ip, "a"), second.astype(R(ip, "a").dtype))


def test_r_code_that_only_reads_the_vector_leaves_it_overwritable(ip):
    push(ip, a=np.arange(1000.0))
    where = address("a")
    ip.run_cell_magic("R", "", "s <- sum(a); m <- mean(a); f <- function(v) v[1]; x <- f(a)")
    push(ip, a=np.ones(1000))
    assert address("a") == where
    assert R(ip, "c(s, sum(a))").tolist() == [499500.0, 1000.0]


def test_a_copy_made_in_r_keeps_the_old_values(ip):
    push(ip, a=np.arange(1000.0))
    ip.run_cell_magic("R", "", "kept <- a; model <- lm(a ~ 1)")
    push(ip, a=np.zeros(1000))
    assert R(ip, "sum(kept)") == 499500.0
    assert R(ip, "coef(model)[[1]]") == 499.5
    assert R(ip, "sum(a)") == 0.0


def test_a_pulled_view_keeps_the_old_values(ip):
    push(ip, a=np.arange(1000.0))
    view = R(ip, "a")
    push(ip, a=np.zeros(1000))
    assert view.sum() == 499500.0
    assert R(ip, "sum(a)") == 0.0


@pytest.mark.parametrize(
    "setup",
    ["names(a) <- seq_along(a)", "dim(a) <- c(10L, 100L)", "a <- a[1:999]", "a <- as.integer(a)", "a <- seq(0, 999)"],
)
def test_only_a_plain_vector_of_the_same_type_and_length_is_overwritten(ip, setup):
    push(ip, a=np.arange(1000.0))
    ip.run_cell_magic("R", "", setup)
    push(ip, a=np.ones(1000))
    assert R(ip, "identical(a, rep(1, 1000))")


def test_a_failed_push_changes_nothing(ip):
    push(ip, a=np.arange(1000.0))
    ip.user_ns.update(a=np.zeros(1000), bad="nul\x00")
    with pytest.raises(ConversionError):
        ip.run_line_magic("Rpush", "a bad")
    assert R(ip, "sum(a)") == 499500.0


def test_python_callback_inside_r_code_never_overwrites_what_that_code_holds(ip):
    push(ip, a=np.arange(1000.0))

    def repush():
        r.a = np.zeros(1000)
        return 0.0

    ip.user_ns["repush"] = repush
    # byte code keeps the value of `a` on its stack, uncounted, while the callback runs
    ip.run_cell_magic("R", "", "f <- compiler::cmpfun(function() sum(a + py$repush()))")
    assert R(ip, "f()") == 499500.0
    assert R(ip, "sum(a)") == 0.0


def test_r_dot_name_assignment_overwrites_too(ip):
    r.a = np.arange(1000.0)
    where = address("a")
    r.a = np.ones(1000)
    assert address("a") == where
    assert r.a.sum() == 1000.0


def test_locked_binding_is_r_s_error_and_keeps_the_value(ip):
    push(ip, a=np.arange(1000.0))
    ip.run_cell_magic("R", "", "lockBinding('a', globalenv())")
    ip.user_ns["a"] = np.zeros(1000)
    with pytest.raises(RError, match="locked binding for 'a'"):
        ip.run_line_magic("Rpush", "a")
    assert R(ip, "sum(a)") == 499500.0


def test_active_binding_receives_the_value_as_in_r(ip):
    ip.run_cell_magic(
        "R",
        "",
        "store <- NULL\nmakeActiveBinding('a', function(v) if (missing(v)) store else store <<- v, globalenv())",
    )
    push(ip, a=np.arange(1000.0))
    push(ip, a=np.ones(1000))
    assert R(ip, "c(sum(store), bindingIsActive('a', globalenv()))").tolist() == [1000.0, 1.0]


def test_without_r_s_variable_lookup_every_push_makes_a_new_vector(ip, monkeypatch):
    push(ip, a=np.arange(1000.0))
    where = address("a")
    real = _rapi._optional
    monkeypatch.setattr(
        _rapi,
        "_optional",  # as where R no longer exports it
        lambda name: None if name == "Rf_findVarInFrame3" else real(name),
    )
    push(ip, a=np.ones(1000))
    monkeypatch.undo()
    assert address("a") != where
    assert R(ip, "sum(a)") == 1000.0
