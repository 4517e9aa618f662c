"""The embedded R session: console semantics, streams, errors, parse errors."""

from __future__ import annotations


import pytest

from rmagic_ext import RError, RParseError


def test_visible_values_print_like_the_console(session, capsys):
    session.run("x <- 1:3\nx\ninvisible(7)\ncat('done\\n')\nx * 2L")
    assert capsys.readouterr().out == "[1] 1 2 3\ndone\n[1] 2 4 6\n"


def test_each_top_level_expression_prints_not_just_the_last(session, capsys):
    session.run("1; 2\n3")
    assert capsys.readouterr().out == "[1] 1\n[1] 2\n[1] 3\n"


def test_s4_values_use_show(session, capsys):
    session.run(
        'setClass("P", representation(x = "numeric"))\n'
        'setMethod("show", "P", function(object) cat("<P", object@x, ">\\n"))\n'
        'new("P", x = 3)'
    )
    assert capsys.readouterr().out.endswith("<P 3 >\n")


def test_messages_and_warnings_go_to_stderr_after_their_expression(session, capsys):
    session.run("message('note'); as.integer('a'); cat('after\\n')")
    captured = capsys.readouterr()
    assert captured.out == "[1] NA\nafter\n"
    assert captured.err == "note\nWarning message:\nNAs introduced by coercion\n"


def test_warning_text_names_the_call_like_r(session, capsys):
    session.run("f <- function() warning('careful')\nf()")
    assert capsys.readouterr().err == "Warning message:\nIn f() : careful\n"


def test_output_streams_in_order_with_warnings(session, capsys):
    """Text and warnings interleave in the order R produced them."""
    outputs = []
    import sys

    class Recorder:
        def __init__(self, name):
            self.name = name

        def write(self, text):
            outputs.append((self.name, text))

        def flush(self):
            pass

    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Recorder("out"), Recorder("err")
    try:
        session.run("cat('a\\n')\nwarning('w')\ncat('b\\n')")
    finally:
        sys.stdout, sys.stderr = old
    merged = []  # R writes in chunks; join consecutive writes to the same stream
    for name, text in outputs:
        if merged and merged[-1][0] == name:
            merged[-1] = (name, merged[-1][1] + text)
        else:
            merged.append((name, text))
    assert merged == [("out", "a\n"), ("err", "Warning message:\nw\n"), ("out", "b\n")]


def test_r_error_carries_message_call_and_stack(session):
    session.run("f <- function(x) {\n  if (x > 1) stop('too big: ', x)\n}\ng <- function(y) f(y + 1)")
    with pytest.raises(RError) as info:
        session.run("g(5)", name="In[7]")
    err = info.value
    assert err.message == "too big: 6"
    assert err.call == "f(y + 1)"
    assert err.r_traceback[0] == "g(5)"
    assert err.r_traceback[1].startswith("f(y + 1) at ")
    assert err.r_traceback[-1].startswith('stop("too big: ", x)')
    rendered = "\n".join(err._render_traceback_())
    assert "Error in f(y + 1) : too big: 6" in rendered
    assert rendered.index("g(5)") < rendered.index("stop(")  # innermost last
    assert "site-packages" not in rendered and ".py" not in rendered


def test_error_stops_the_cell_and_keeps_earlier_work(session, capsys):
    with pytest.raises(RError):
        session.run("a <- 1\nstop('halt')\na <- 2")
    assert session.run("a", keep_last=True).value[0] == 1


def test_top_level_stop_has_no_call(session):
    with pytest.raises(RError) as info:
        session.run("stop('plain')")
    assert info.value.call == ""
    assert str(info.value) == "Error: plain"


def test_classed_conditions_keep_their_class(session):
    with pytest.raises(RError) as info:
        session.run(
            'stop(structure(class = c("my_error", "error", "condition"), list(message = "custom", call = NULL)))'
        )
    assert info.value.classes[0] == "my_error"
    assert info.value.message == "custom"


def test_warning_as_error_with_warn_2(session):
    try:
        with pytest.raises(RError) as info:
            session.run("options(warn = 2); as.integer('x')")
        assert "converted from warning" in info.value.message
    finally:
        session.run("options(warn = 0)")


def test_parse_error_reports_line_and_column_and_runs_nothing(session):
    with pytest.raises(RParseError) as info:
        session.run("ran <- TRUE\nx <- 1 +\ny y")
    err = info.value
    assert (err.line, err.column) == (3, 3)
    assert err.message == "unexpected symbol"
    assert session.lookup("ran") is None
    with pytest.raises(RParseError) as info:
        session.run("a <- 1\nb <- c(1, 2))")
    assert (info.value.line, info.value.column) == (2, 13)


def test_incomplete_input_is_a_parse_error(session):
    with pytest.raises(RParseError) as info:
        session.run("f <- function() {")
    assert "end of input" in info.value.message


def test_comment_only_and_empty_cells(session, capsys):
    assert session.run("# nothing\n").visible is False
    assert session.run("").visible is False
    assert capsys.readouterr().out == ""


def test_a_print_method_that_warns_then_fails_warns_once(session, capsys):
    session.run("print.careful <- function(x, ...) { warning('mind the step'); stop('broken print') }")
    with pytest.raises(RError, match="broken print"):
        session.run("structure(1, class = 'careful')")
    err = capsys.readouterr().err
    assert err.count("mind the step") == 1, err


@pytest.fixture
def direct_calls(monkeypatch) -> list[int]:
    """The number of arguments of each helper call made straight through R_tryEval."""
    from rmagic_ext import _rapi

    calls, real = [], _rapi.try_call
    monkeypatch.setattr(_rapi, "try_call", lambda function, args: calls.append(len(args)) or real(function, args))
    return calls


def test_cells_call_r_s_helpers_straight_through_r_tryeval(session, capsys, direct_calls):
    """run_first and show_toplevel report their own status: they are called
    without call_helper, and give the same console output and errors."""
    session.run("y <- 2\ny * 3")
    assert capsys.readouterr().out == "[1] 6\n"
    assert direct_calls == [3, 3, 1]  # run_first, eval_toplevel for the second expression, show_toplevel
    with pytest.raises(RError, match="boom"):
        session.run('stop("boom")')


def test_a_visible_symbol_or_call_is_printed_not_evaluated(session, capsys, direct_calls):
    """A value R would evaluate (a symbol, a call) cannot stand in a direct
    call: show_toplevel gets it through call_helper's argument list."""
    session.run("quote(undefined_name)")
    session.run("quote(f(x) + 1)")
    assert capsys.readouterr().out == "undefined_name\nf(x) + 1\n"
    assert direct_calls == [3, 3], "only run_first goes direct; show_toplevel of a symbol or call does not"
