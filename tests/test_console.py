"""R that asks, in real kernels: console reads as input requests, nothing
that waits for input that cannot come, R's debugger through the front end,
progress bars that redraw in place.

A kernel driven over jupyter_client answers the input requests as a person
would (Kernel.converse); without stdin (allow_stdin=False, as nbclient,
papermill and nbconvert run notebooks) R runs as Rscript does.
"""

from __future__ import annotations

import time

import pytest


def stream_text(run, name: str = "stdout") -> str:
    return run.text(name)


# -- reading R's console ----------------------------------------------------------------------


def test_readline_asks_the_front_end_with_r_prompt(kernel):
    run, asked = kernel.converse("%%R\nname <- readline('Your name? ')\ncat('Hello,', name, '\\n')", ["Ada"])
    assert run.error is None, run.error
    assert [a["prompt"] for a in asked] == ["Your name? "] and not asked[0]["password"]
    assert "Hello, Ada" in stream_text(run)


def test_menu_shows_its_choices_before_asking(kernel):
    run, asked = kernel.converse("%%R\nchoice <- menu(c('linear', 'quadratic'), title = 'Which model?')\nchoice", ["2"])
    assert run.error is None, run.error
    assert asked[0]["prompt"] == "Selection: "
    shown = asked[0]["shown_before"]
    assert "Which model?" in shown and "1: linear" in shown and "2: quadratic" in shown  # before the question
    assert "[1] 2" in stream_text(run)


def test_ask_yes_no_and_scan_read_the_console(kernel):
    run, asked = kernel.converse("%%R\nok <- askYesNo('Go on?')\nx <- scan(n = 1)\nprint(c(ok, x))", ["n", "3.5"])
    assert run.error is None, run.error
    assert [a["prompt"] for a in asked] == ["Go on? (Yes/no/cancel) ", "1: "]
    assert "[1] 0.0 3.5" in stream_text(run)


def test_an_empty_answer_is_an_empty_line(kernel):
    run, asked = kernel.converse("%%R\nnchar(readline('? '))", [""])
    assert run.error is None and "[1] 0" in stream_text(run)


def test_password_prompts_ask_with_the_password_flag(kernel):
    run, asked = kernel.converse("%%R\ntoken <- askpass::askpass('Token: ')\nnchar(token)", ["s3cret"])
    assert run.error is None, run.error
    assert asked == [{"prompt": "Token: ", "password": True, "shown_before": asked[0]["shown_before"]}]
    assert "[1] 6" in stream_text(run)


def test_an_interrupt_while_r_waits_stops_the_cell_and_r_goes_on(kernel):
    run, asked = kernel.converse("%%R\nx <- readline('Waiting> ')\ncat('not reached\\n')", [None])
    assert run.error["ename"] == "RInterrupt", run.error
    assert "not reached" not in stream_text(run)
    run = kernel.execute("%R 40L + 2L")
    assert run.error is None and run.messages[-1]["content"]["data"]["text/plain"] == "array([42])"


# -- without stdin: as Rscript, never a hang, never a flood -------------------------------------


def test_without_stdin_menu_is_r_s_non_interactive_error_at_once(kernel):
    started = time.monotonic()
    run = kernel.execute("%%R\nmenu(c('a', 'b'))")
    assert run.error["ename"] == "RError"
    assert "menu() cannot be used non-interactively" in run.error["evalue"]
    assert time.monotonic() - started < 10


def test_without_stdin_readline_answers_empty_and_asknyesno_its_default(kernel):
    run = kernel.execute("%%R\nx <- readline('name? ')\nprint(nchar(x))\nprint(askYesNo('go?'))\ninteractive()")
    assert run.error is None, run.error
    assert "[1] 0\n" in stream_text(run) and "[1] TRUE\n" in stream_text(run) and "[1] FALSE\n" in stream_text(run)


def test_without_stdin_scan_and_the_debugger_carry_on_with_one_note(kernel):
    run = kernel.execute("%%R\nx <- scan(n = 1)\nlength(x)\nf <- function() { y <- 1; browser(); y + 1 }\nf()")
    assert run.error is None, run.error
    out, err = stream_text(run), stream_text(run, "stderr")
    assert "[1] 0\n" in out and "[1] 2\n" in out  # scan read nothing; the debugger did not stop
    assert err.count("nobody can answer here") == 1  # one note per cell, not one per read
    assert len(run.streams) < 12


def test_without_stdin_a_cell_that_keeps_asking_is_stopped(kernel):
    started = time.monotonic()
    run = kernel.execute("%%R\nrepeat { x <- scan(n = 1, quiet = TRUE); if (length(x)) break }")
    assert run.error["ename"] == "RInterrupt"
    assert "R kept asking for input that cannot come" in stream_text(run, "stderr")
    assert time.monotonic() - started < 15
    assert kernel.execute("%R 1").error is None


def test_without_stdin_options_error_recover_dumps_the_frames_as_r_does(kernel):
    """R's recover() where nobody can answer: a note, the frames dumped
    to last.dump for debugger(), and the cell ends with the error."""
    run = kernel.execute("%%R\noptions(error = recover)\nf <- function(k) stop('bad k: ', k)\nf(3)")
    kernel.execute("%R options(error = NULL)")
    assert run.error["ename"] == "RError" and "bad k: 3" in run.error["evalue"]
    assert "recover called non-interactively; frames dumped" in stream_text(run, "stderr")
    assert kernel.execute("%R exists('last.dump')").messages[-1]["content"]["data"]["text/plain"] == "array([ True])"


# -- the debugger ------------------------------------------------------------------------------

DEBUGGED = (
    "%%R\nscale_up <- function(v) {\n  total <- sum(v)\n  browser()\n  shares <- v / total\n  round(shares * 100)\n}\n"
)


def test_browser_steps_evaluates_and_continues(kernel):
    run, asked = kernel.converse(DEBUGGED + "scale_up(c(1, 3))", ["total", "where", "n", "shares <- 0", "c"])
    assert run.error is None, run.error
    assert len(asked) == 5 and all(a["prompt"].startswith("Browse[") for a in asked)  # its level: R's own
    out = stream_text(run)
    assert "Called from: scale_up(c(1, 3))" in out
    assert "[1] 4\n" in out  # `total`, evaluated in the function's frame
    assert "where 1: scale_up(c(1, 3))" in out and "where 2" not in out  # the user's calls only
    assert "debug at " in out and "[1] 25 75\n" in out


def test_debug_and_debugonce_stop_at_the_first_line(kernel):
    run, asked = kernel.converse(
        "%%R\nf <- function(x) {\n  y <- x * 2\n  y + 1\n}\ndebugonce(f)\nf(2)", ["n", "n", "y", "c"]
    )
    assert run.error is None, run.error
    assert "debugging in: f(2)" in stream_text(run) and "[1] 4\n" in stream_text(run)
    run, asked = kernel.converse("%%R\ndebug(f)\nf(1)\nf(2)\nundebug(f)", ["c", "c"])
    assert run.error is None and len(asked) == 2


def test_q_leaves_the_debugger_and_ends_the_cell_quietly(kernel):
    run, asked = kernel.converse(DEBUGGED + "scale_up(1:3)\ncat('not reached\\n')", ["Q"])
    assert run.error is None, run.error
    assert "not reached" not in stream_text(run)
    assert kernel.execute("%R scale_up").error is None


def test_an_interrupt_at_the_debugger_s_prompt_ends_debugging(kernel):
    run, asked = kernel.converse(DEBUGGED + "scale_up(1:3)", [None])
    assert run.error["ename"] == "RInterrupt"
    assert kernel.execute("%R 1").error is None


def test_options_error_recover_browses_the_user_s_frames(kernel):
    code = (
        "%%R\noptions(error = recover)\ninner <- function(k) stop('bad k: ', k)\nouter <- function() inner(7)\nouter()"
    )
    run, asked = kernel.converse(code, ["2", "k", "nope", "c", "0"])
    kernel.execute("%R options(error = NULL)")
    assert run.error["ename"] == "RError" and "bad k: 7" in run.error["evalue"]
    menu = asked[0]["shown_before"]
    assert "1: outer()" in menu and "2: inner(7)" in menu and "eval(" not in menu  # the user's frames only
    out = stream_text(run)
    assert "Called from: inner(7)" in out and "[1] 7\n" in out
    assert "object 'nope' not found" in stream_text(run, "stderr")  # an error at the prompt: back to it


# -- progress ---------------------------------------------------------------------------------


def test_a_tight_progress_loop_sends_a_few_redraws_ending_at_its_last_state(kernel):
    run = kernel.execute(
        "%%R\npb <- txtProgressBar(max = 5000, style = 3)\nfor (i in 1:5000) setTxtProgressBar(pb, i)\nclose(pb)"
    )
    text = stream_text(run)
    assert len(run.streams) < 10 and len(text) < 2000  # not 5,000 redraws
    assert text.rstrip("\n").split("\r")[-1].endswith("| 100%")


def test_a_slow_progress_bar_streams_each_state_as_a_redraw(kernel):
    run = kernel.execute(
        "%%R\npb <- txtProgressBar(max = 10, style = 3)\n"
        "for (i in 1:10) { Sys.sleep(0.15); setTxtProgressBar(pb, i) }\nclose(pb)"
    )
    pieces = [text for name, text in run.streams if name == "stdout"]
    assert len(pieces) >= 5  # live, not all at the end
    assert all(piece.startswith("\r") for piece in pieces[1:-1])  # each one redraws the line
    assert any("|  50%" in piece for piece in pieces)


@pytest.mark.parametrize(
    "code",
    [
        "library(progress)\npb <- progress_bar$new(total = 20, clear = FALSE)\nfor (i in 1:20) { Sys.sleep(0.05); pb$tick() }",
        "options(cli.progress_show_after = 0)\nf <- function() { cli::cli_progress_bar('Working', total = 20)\n"
        "for (i in 1:20) { Sys.sleep(0.05); cli::cli_progress_update() } }\nf()",
    ],
    ids=["progress", "cli"],
)
def test_the_progress_and_cli_packages_draw_their_bars(kernel, code):
    run = kernel.execute("%%R\n" + code)
    assert run.error is None, run.error
    drawn = [text for name, text in run.streams if name == "stderr"]
    assert len(drawn) >= 2 and any("\r" in text for text in drawn)


def test_s_steps_into_a_call_and_f_finishes_it(kernel):
    code = (
        "%%R\ninner <- function(v) {\n  w <- v * 2\n  w + 1\n}\n"
        "outer <- function(v) {\n  browser()\n  a <- inner(v)\n  a\n}\nouter(1)"
    )
    run, asked = kernel.converse(code, ["n", "s", "f", "c"])
    assert run.error is None, run.error
    out = stream_text(run)
    assert "debugging in: inner(v)" in out  # s: into the call
    assert out.rstrip().endswith("[1] 3")
    run, asked = kernel.converse("%%R\ndebugonce(inner)\nouter(2)", ["c", "where", "c"])
    where = [line for line in stream_text(run).splitlines() if line.startswith("where")]
    assert where[0].startswith("where 1") and "inner(v)" in where[0]
    assert where[1].startswith("where 2") and "outer(2)" in where[1] and len(where) == 2
