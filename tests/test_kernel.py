"""End to end: a real ipykernel, driven over jupyter_client like a notebook."""

from __future__ import annotations


def test_cell_output_reaches_the_notebook(kernel):
    run = kernel.execute("%%R\nx <- c(1, 2, 3)\nmean(x)")
    assert run.error is None
    assert run.text() == "[1] 2\n"


def test_text_streams_while_the_cell_runs(kernel):
    """Text printed before a long computation arrives as its own message,
    before the text printed after it (it is not collected for the end)."""
    run = kernel.execute('%%R\ncat("before\\n")\nSys.sleep(1.5)\ncat("after\\n")')
    stdout = [text for name, text in run.streams if name == "stdout"]
    assert stdout[0] == "before\n"
    assert "".join(stdout) == "before\nafter\n"


def test_messages_and_warnings_on_stderr(kernel):
    run = kernel.execute('%%R\nmessage("note")\nwarning("careful")')
    assert run.text("stderr") == "note\nWarning message:\ncareful\n"


def test_input_output_dataframe(kernel):
    run = kernel.execute("import pandas as pd\ndf = pd.DataFrame({'g': ['a', 'b', 'a'], 'v': [1.0, 2.0, 3.0]})\n")
    assert run.error is None
    run = kernel.execute("%%R -i df -o out\nout <- aggregate(v ~ g, data = df, FUN = sum)")
    assert run.error is None
    run = kernel.execute("print(out.to_dict('list'))")
    assert run.text() == "{'g': ['a', 'b'], 'v': [4.0, 2.0]}\n"


def test_r_error_shows_r_message_and_stack_not_python_frames(kernel):
    kernel.execute("%%R\ninner <- function() stop('boom')\nouter <- function() inner()")
    run = kernel.execute("%%R\nouter()")
    error = run.error
    assert error["ename"] == "RError"
    assert error["evalue"] == "Error in inner() : boom"
    shown = "\n".join(error["traceback"])
    assert "1: outer()" in shown and "2: inner()" in shown and "Error in inner() : boom" in shown
    assert "Traceback (most recent call last)" not in shown and ".py" not in shown


def test_kernel_survives_errors(kernel):
    kernel.execute("%R -i no_such_name 1")
    run = kernel.execute("%R 1L + 1L")
    assert run.error is None
    assert run.messages[-1]["content"]["data"]["text/plain"] == "array([2])"  # rpy2's shape
