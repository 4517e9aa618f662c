"""Rich display of R values and Tab completion, through a real kernel."""

from __future__ import annotations


def displayed(run) -> list[dict]:
    return [m["content"]["data"] for m in run.messages if m["msg_type"] == "display_data"]


def test_data_frame_is_an_html_table_with_text_beside(kernel):
    run = kernel.execute("%%R\nmtcars")
    (data,) = displayed(run)
    html = data["text/html"]
    assert "<table" in html and "A data.frame: 32 × 11" in html
    assert "<th>&lt;dbl&gt;</th>" in html and "<th>Mazda RX4</th>" in html
    assert "⋮" in html  # 32 rows: head and tail with an ellipsis between
    assert "<th>Volvo 142E</th>" in html  # the last row is there
    assert data["text/plain"].splitlines()[0].split()[:2] == ["mpg", "cyl"]
    assert "more rows" in data["text/plain"]


def test_wide_frames_elide_columns(kernel):
    run = kernel.execute("%%R\nas.data.frame(matrix(1:60, nrow = 2))")
    html = displayed(run)[0]["text/html"]
    assert "A data.frame: 2 × 30" in html and "⋯" in html and "<th>V30</th>" in html


def test_matrix_and_tibble(kernel):
    run = kernel.execute("%%R\nmatrix(1:6, nrow = 2, dimnames = list(NULL, c('a', 'b', 'c')))")
    html = displayed(run)[0]["text/html"]
    assert "A matrix: 2 × 3" in html and "<th>&lt;int&gt;</th>" in html
    run = kernel.execute("%%R\ntibble::tibble(x = 1:3, when = as.Date('2024-01-01') + 0:2)")
    html = displayed(run)[0]["text/html"]
    assert "A tibble: 3 × 2" in html and "&lt;date&gt;" in html and "2024-01-03" in html


def test_column_types_and_na(kernel):
    run = kernel.execute(
        "%%R\ndata.frame(f = factor(c('a', NA)), s = c('x', NA), l = c(TRUE, NA), stringsAsFactors = FALSE)"
    )
    html = displayed(run)[0]["text/html"]
    assert "&lt;fct&gt;" in html and "&lt;chr&gt;" in html and "&lt;lgl&gt;" in html
    assert "NA" in html


def test_names_are_escaped(kernel):
    run = kernel.execute("%%R\ndata.frame(`<b>x</b>` = 1, check.names = FALSE)")
    html = displayed(run)[0]["text/html"]
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html


def test_other_values_print_as_r_prints_them(kernel):
    run = kernel.execute("%%R\nsummary(c(1, 2, 3))\nlist(a = 1)")
    assert displayed(run) == []
    assert "Min. 1st Qu." in run.text() and "$a" in run.text()


def test_table_limits_are_traits(kernel):
    kernel.execute("%config RMagics.max_rows = 4")
    try:
        html = displayed(kernel.execute("%%R\nmtcars"))[0]["text/html"]
        assert html.count("<tr>") == 2 + 4 + 1  # two header rows, four rows, the ellipsis row
    finally:
        kernel.execute("%config RMagics.max_rows = 20")


def complete(kernel, code: str) -> list[str]:
    msg_id = kernel.client.complete(code, len(code))
    reply = kernel.client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"]["matches"]


def test_tab_completes_r_names_in_r_cells(kernel):
    kernel.execute("%R my_data <- data.frame(alpha = 1, beta = 2)")
    assert "my_data" in complete(kernel, "%%R\nsummary(my_da")
    assert "alpha" in complete(kernel, "%%R\nmy_data$al")
    assert "my_data" in complete(kernel, "%R my_da")
    assert "sd" in complete(kernel, "%%R\nstats::s")


def test_tab_after_r_dot_completes_r_globals(kernel):
    kernel.execute("from rmagic_ext import r\n%R tab_target <- 1")
    assert "r.tab_target" in complete(kernel, "r.tab_ta") or "tab_target" in complete(kernel, "r.tab_ta")


def test_python_completion_is_untouched(kernel):
    kernel.execute("python_only_name = 1")
    assert "python_only_name" in complete(kernel, "python_only_na")
