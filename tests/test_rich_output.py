"""R in a notebook as IRkernel users know it (issue 16), in real kernels:
help as HTML, inspection, IRkernel's display protocol and widgets, plots from
Python code and from both languages in order, text in the order R wrote it."""

from __future__ import annotations

import base64
import re
import struct

import pytest
from IPython.core.error import UsageError

from kernel_helpers import Kernel, images, outputs


def merged_streams(run) -> list[tuple[str, str]]:
    """The cell's stream output as (stream, text) runs, consecutive chunks of
    one stream joined (how the front end shows them)."""
    runs: list[tuple[str, str]] = []
    for name, text in run.streams:
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + text)
        else:
            runs.append((name, text))
    return runs


def test_stdout_and_stderr_keep_the_order_r_wrote_them(kernel):
    run = kernel.execute('%%R\nfor (i in 1:3) { cat("out", i, "\\n"); message("msg ", i) }')
    assert run.error is None
    assert merged_streams(run) == [
        ("stdout", "out 1 \n"),
        ("stderr", "msg 1\n"),
        ("stdout", "out 2 \n"),
        ("stderr", "msg 2\n"),
        ("stdout", "out 3 \n"),
        ("stderr", "msg 3\n"),
    ]


def test_r_started_from_a_thread_gives_no_false_ctrl_c_warning():
    fresh = Kernel()
    try:
        run = fresh.execute(
            "import threading\n"
            "from rmagic_ext import r\n"
            "t = threading.Thread(target=lambda: r('1')); t.start(); t.join()\n"
            "print(r('2L'))"
        )
        assert run.error is None, run.error
        assert run.text() == "2\n"
        assert "Ctrl-C" not in run.text("stderr") and "main thread" not in run.text("stderr")
        assert fresh.execute("%load_ext rmagic_ext").error is None
        assert fresh.interrupt("%R while (TRUE) {}", after=1.0, reply_within=10)["ename"] == "RInterrupt"
    finally:
        fresh.shutdown()


# -- item 4: plots from Python code -------------------------------------------------


def png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    return struct.unpack(">II", raw[16:24])


def test_r_called_from_python_shows_its_plot(kernel):
    run = kernel.execute("from rmagic_ext import r\nr('plot(1:10)')\nprint('after')")
    assert run.error is None, run.error
    shown = outputs(run)
    assert [o[0] for o in shown] == ["image", "text"] and shown[1][1] == "after\n"  # in order with Python's output


def test_r_functions_called_from_python_draw_too(kernel):
    run = kernel.execute("from rmagic_ext import r\nh = r.hist([1, 2, 2, 3, 3, 3])")
    assert run.error is None, run.error
    assert len(images(run)) == 1


def test_later_calls_update_the_same_plot_in_place(kernel):
    run = kernel.execute("from rmagic_ext import r\nr('plot(1:10)')\nr('abline(h = 5)')\nr('plot(2:3)')")
    assert run.error is None, run.error
    kinds = [(o[0], o[2]) for o in outputs(run)]
    first, second = images(run)
    assert first[2] != second[2]  # two pages, two displays
    assert ("update", first[2]) in kinds  # abline changed the first page where it is shown


def test_python_plots_take_the_cells_default_size_and_format(kernel):
    kernel.execute("%config RMagics.width = 3\n%config RMagics.height = 2\n%config RMagics.res = 100")
    try:
        run = kernel.execute("from rmagic_ext import r\nr('plot(1)')")
        (image,) = images(run)
        assert image[1] == "image/png" and png_size(image[3]) == (300, 200)
    finally:
        kernel.execute("%config RMagics.width = None\n%config RMagics.height = None\n%config RMagics.res = None")


def test_python_drawing_then_a_magic_cell_in_one_cell_keeps_both(kernel):
    run = kernel.execute("from rmagic_ext import r\nr('plot(1:3)')\nget_ipython().run_cell_magic('R', '', 'plot(4:6)')")
    assert run.error is None, run.error
    assert len(images(run)) == 2
    nothing = kernel.execute("print(1)")
    assert images(nothing) == []  # the device Python drew on was closed with its cell


def test_session_run_draws_inline(kernel):
    run = kernel.execute("from rmagic_ext.session import get_session\n_ = get_session().run('barplot(1:3)')")
    assert run.error is None, run.error
    assert len(images(run)) == 1


# -- item 6: matplotlib figures made by Python that R called, in order ------------


def test_matplotlib_figures_from_r_callbacks_show_in_order(kernel):
    setup = kernel.execute(
        "%matplotlib inline\nimport matplotlib.pyplot as plt\ndef draw():\n    plt.figure(); plt.plot([1, 2]); return 1"
    )
    assert setup.error is None, setup.error
    run = kernel.execute('%%R\ncat("before\\n")\ninvisible(py$draw())\ncat("after\\n")')
    assert run.error is None, run.error
    kinds = [o[0] if o[0] != "text" else o[1] for o in outputs(run)]
    assert kinds == ["before\n", "image", "after\n"]


# -- item 1: help as HTML ------------------------------------------------------------


def page_payload(run) -> dict:
    (payload,) = [p for p in run.reply["content"].get("payload", []) if p["source"] == "page"]
    return payload["data"]


def test_help_is_an_html_page_in_the_pager(kernel):
    run = kernel.execute("%%R\n?mean")
    assert run.error is None, run.error
    data = page_payload(run)
    html, text = data["text/html"], data["text/plain"]
    assert "<h3>Description</h3>" in html and "arithmetic mean" in html
    assert not re.search(r'href="(?!https?:|#)', html)  # links to R's help server are inert, not broken
    assert "Arithmetic Mean" in text and "\b" not in text  # clean text, no overstrikes
    assert outputs(run) == []  # the page, not printed text


@pytest.mark.parametrize(
    "code, expected",
    [
        ("help(lm)", "Fitting Linear Models"),
        ("??regression", "regression"),
        ('help(package = "tools")', "Information on package"),
    ],
)
def test_every_kind_of_help_reaches_the_pager(kernel, code, expected):
    run = kernel.execute(f"%%R\n{code}")
    assert run.error is None, run.error
    text = page_payload(run)["text/plain"]
    assert expected in text and "\b" not in text


def test_missing_help_says_so_in_one_line(kernel):
    run = kernel.execute("%%R\n?no_such_topic_anywhere")
    assert run.error is None
    assert "No documentation for" in run.text()


def test_help_in_terminal_ipython_is_clean_text(ip, capsys):
    ip.run_cell_magic("R", "", "?median")
    out = capsys.readouterr().out
    assert "Median Value" in out and "\b" not in out and "<h3>" not in out


# -- item 3: IRkernel's display protocol ---------------------------------------------


def r_has(package: str) -> bool:
    import rmagic_ext

    return bool(rmagic_ext.r(f'requireNamespace("{package}", quietly = TRUE)'))


def displays(run) -> list[dict]:
    return [m["content"] for m in run.messages if m["msg_type"] == "display_data"]


def test_irdisplay_functions_display_inline(kernel):
    if not r_has("IRdisplay"):
        pytest.skip("r-cran-irdisplay is not in this Debian release")
    run = kernel.execute(
        '%%R\nIRdisplay::display_html("<b>bold</b>")\n'
        'f <- tempfile(fileext = ".png"); png(f); plot(1); invisible(dev.off())\n'
        "IRdisplay::display_png(file = f)\n"
        'IRdisplay::publish_mimebundle(list("text/markdown" = "*md*"), list("text/markdown" = list(k = 1L)))'
    )
    assert run.error is None, run.error
    shown = displays(run)
    assert shown[0]["data"] == {"text/html": "<b>bold</b>"}
    assert base64.b64decode(shown[1]["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert shown[2]["data"] == {"text/markdown": "*md*"} and shown[2]["metadata"] == {"text/markdown": {"k": 1}}


def test_clear_output_reaches_the_front_end(kernel):
    if not r_has("IRdisplay"):
        pytest.skip("r-cran-irdisplay is not in this Debian release")
    run = kernel.execute('%%R\ncat("gone\\n"); IRdisplay::clear_output(wait = FALSE); cat("kept\\n")')
    assert run.error is None, run.error
    kinds = [m["msg_type"] for m in run.messages]
    assert "clear_output" in kinds and kinds.index("clear_output") < len(kinds) - 1


def test_a_plotly_widget_renders_with_its_javascript_inline(kernel):
    if not r_has("plotly"):
        pytest.skip("r-cran-plotly is not in this Debian release")
    run = kernel.execute(
        "%%R\nsuppressPackageStartupMessages(library(plotly))\n"
        'plot_ly(x = 1:3, y = c(2, 1, 3), type = "scatter", mode = "markers")'
    )
    assert run.error is None, run.error
    (shown,) = displays(run)
    html = shown["data"]["text/html"]
    assert 'class="plotly html-widget' in html
    assert "plotly.js v" in html and not re.search(
        r'<script[^>]* src="https?:', html
    )  # its JavaScript inline: no network
    assert shown["metadata"].get("text/html", {}).get("isolated") is True  # its own document (an iframe)
    assert "text/plain" in shown["data"]


def test_a_dt_table_widget_renders(kernel):
    if not r_has("DT"):
        pytest.skip("r-cran-dt is not in this Debian release")
    run = kernel.execute("%%R\nDT::datatable(head(iris))")
    assert run.error is None, run.error
    (shown,) = displays(run)
    assert "datatables html-widget" in shown["data"]["text/html"]


def test_plain_values_still_print_as_r_prints_them(kernel):
    run = kernel.execute("%%R\nc(a = 1, b = 2)\nlist(x = 1)")
    assert run.error is None and displays(run) == []
    assert "a b \n1 2 \n" in run.text() and "$x" in run.text()


# -- item 8: View ---------------------------------------------------------------------


def test_view_shows_the_html_table(kernel):
    run = kernel.execute("%%R\nView(head(mtcars, 3))\ncat('after\\n')")
    assert run.error is None, run.error
    (shown,) = displays(run)
    assert "A data.frame: 3 × 11" in shown["data"]["text/html"]
    assert run.text() == "after\n"


# -- item 5: plot objects in Python ------------------------------------------------


def test_a_ggplot_in_python_shows_as_an_image(kernel):
    kernel.execute("%%R\nlibrary(ggplot2)\ngg <- ggplot(mtcars, aes(wt, mpg)) + geom_point()")
    run = kernel.execute("g = %Rget gg\ng")
    assert run.error is None, run.error
    (result,) = [m["content"] for m in run.messages if m["msg_type"] == "execute_result"]
    assert base64.b64decode(result["data"]["image/png"])[:4] == b"\x89PNG"
    shown = kernel.execute("display(g)")
    assert len(images(shown)) == 1


@pytest.mark.parametrize(
    "code",
    [
        "lattice::xyplot(mpg ~ wt, mtcars)",
        "grid::rectGrob()",
        "{plot(1:3); recordPlot()}",
        "ggplot2::ggplot(mtcars) + ggplot2::geom_bar(ggplot2::aes(cyl))",
    ],
)
def test_every_kind_of_plot_object_is_an_rplot(ip, code):
    import rmagic_ext

    value = rmagic_ext.r(code)
    assert isinstance(value, rmagic_ext.RPlot)
    data, _ = value._repr_mimebundle_()
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"


def test_an_rplot_follows_the_notebook_format(kernel):
    kernel.execute("%Rdevice svg")
    try:
        run = kernel.execute("g = %Rget gg\ng" if "gg" else "")
        (result,) = [m["content"] for m in run.messages if m["msg_type"] == "execute_result"]
        assert result["data"]["image/svg+xml"].lstrip().startswith("<?xml")
    finally:
        kernel.execute("%Rdevice")


def test_an_rplot_saves_as_png_svg_jpeg_and_pdf(ip, tmp_path):
    import rmagic_ext

    g = rmagic_ext.r("ggplot2::ggplot(mtcars, ggplot2::aes(wt, mpg)) + ggplot2::geom_point()")
    png = g.save(tmp_path / "a.png", width=300, height=200, units="px")
    assert struct.unpack(">II", png.read_bytes()[16:24]) == (300, 200)
    assert (g.save(tmp_path / "a.svg", width=4, height=3)).read_text().lstrip().startswith("<?xml")
    assert g.save(tmp_path / "a.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert g.save(tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="cannot tell the format"):
        g.save(tmp_path / "a.bmp")
    with pytest.raises(ValueError, match="a file path cannot hold NUL"):
        g.save(str(tmp_path / "a\x00.png"))
    with pytest.raises(UsageError, match="plot width must be a finite number above 0"):
        g.save(tmp_path / "b.png", width=float("inf"))
    assert rmagic_ext.r("identical(class(dev.cur()), 'integer')")  # the session's devices untouched


# -- item 2: inspection (Shift-Tab) ------------------------------------------------


def inspect(kernel, code: str, cursor_pos: int | None = None) -> dict:
    msg_id = kernel.client.inspect(code, len(code) if cursor_pos is None else cursor_pos)
    return kernel.reply_to(msg_id, 30)["content"]


def test_shift_tab_in_an_r_cell_shows_usage_and_help(kernel):
    reply = inspect(kernel, "%%R\nx <- 1:10\nquantile(")
    assert reply["status"] == "ok" and reply["found"]
    text = reply["data"]["text/plain"]
    assert text.startswith("quantile(x, ...)") and "Sample Quantiles" in text and "\b" not in text


def test_shift_tab_on_a_name_in_a_line_magic_and_inside_a_call(kernel):
    text = inspect(kernel, "m = %R mean(", None)["data"]["text/plain"]
    assert text.startswith("mean(x, ...)")
    code = "%%R\nsd(c(1, 2))"
    assert inspect(kernel, code, code.index("sd") + 1)["data"]["text/plain"].startswith("sd(x, na.rm = FALSE)")


def test_shift_tab_on_an_r_object_shows_its_structure(kernel):
    kernel.execute("%R inspected <- data.frame(a = 1:3)")
    assert "3 obs. of  1 variable" in inspect(kernel, "%R inspected")["data"]["text/plain"]


def test_shift_tab_after_r_dot_asks_r(kernel):
    text = inspect(kernel, "from rmagic_ext import r\nr.lm(")["data"]["text/plain"]
    assert text.startswith("lm(formula, data") and "Fitting Linear Models" in text


def test_shift_tab_on_unknown_r_names_finds_nothing(kernel):
    assert inspect(kernel, "%R no_such_name_here")["found"] is False


def test_python_inspection_is_unchanged(kernel):
    reply = inspect(kernel, "len(")
    assert reply["found"] and "Return the number of items" in reply["data"]["text/plain"]


def test_view_follows_the_table_limits(kernel):
    kernel.execute("%config RMagics.max_rows = 4")
    try:
        (shown,) = displays(kernel.execute("%%R\nView(mtcars)"))
        assert shown["data"]["text/html"].count("<tr>") == 2 + 4 + 1  # two header rows, four rows, the ellipsis
    finally:
        kernel.execute("%config RMagics.max_rows = 20")
