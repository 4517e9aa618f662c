"""What IRkernel users do, in %%R cells: repr methods of their own classes,
IRkernel's plot and display options, completion of names R must quote,
Shift-Tab on literals. (tests/test_irkernel_suite.py runs IRkernel's own
kernel tests; these go through each method, mimetype and option.)"""

from __future__ import annotations

import base64
import io
import struct

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.utils.capture import capture_output

from rmagic_ext.completion import completions
from rmagic_ext.inspection import inspect


def rich(ip, code: str, line: str = ""):
    """The rich outputs and the stderr of a %%R cell."""
    with capture_output() as captured:
        ip.run_cell_magic("R", line, code)
    return [(o.data, o.metadata) for o in captured.outputs], captured.stderr


@pytest.fixture
def irkernel_options(ip):
    """IRkernel's options put back as they were after each test."""
    names = (
        "repr.plot.width",
        "repr.plot.height",
        "repr.plot.res",
        "repr.plot.pointsize",
        "repr.plot.bg",
        "repr.plot.family",
        "repr.plot.quality",
        "jupyter.plot_mimetypes",
        "jupyter.plot_scale",
        "jupyter.rich_display",
    )
    ip.run_cell_magic(
        "R", "", f".saved_options <- sapply(c({', '.join(repr(n) for n in names)}), getOption, simplify = FALSE)"
    )
    yield
    ip.run_cell_magic("R", "", "options(.saved_options)")


# -- repr methods ------------------------------------------------------------------------

PNG = "as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))"

METHODS = [
    ("repr_html", "'<b>mine</b>'", "text/html", "<b>mine</b>"),
    ("repr_markdown", "'**mine**'", "text/markdown", "**mine**"),
    ("repr_latex", "'\\\\textbf{mine}'", "text/latex", "\\textbf{mine}"),
    ("repr_json", "'{\"mine\": 1}'", "application/json", None),
    ("repr_javascript", "'console.log(1)'", "application/javascript", "console.log(1)"),
    ("repr_svg", "'<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>'", "image/svg+xml", None),
    ("repr_png", PNG, "image/png", base64.b64encode(bytes([0x89, 0x50, 0x4E, 0x47, 13, 10, 26, 10])).decode()),
    ("repr_jpg", "as.raw(c(0xff, 0xd8, 0xff))", "image/jpeg", base64.b64encode(bytes([0xFF, 0xD8, 0xFF])).decode()),
    ("repr_pdf", "charToRaw('%PDF-1.4')", "application/pdf", base64.b64encode(b"%PDF-1.4").decode()),
]


@pytest.mark.parametrize("generic, body, mime, expected", METHODS, ids=[m[0] for m in METHODS])
def test_a_repr_method_defined_in_a_cell_is_used(ip, generic, body, mime, expected):
    outputs, _ = rich(ip, f"{generic}.mine <- function(obj, ...) {body}\nstructure(1, class = 'mine')")
    ((data, _),) = outputs
    assert mime in data and "text/plain" in data
    if expected is not None:
        assert data[mime] == expected


def test_a_full_page_is_isolated(ip):
    outputs, _ = rich(
        ip, "repr_html.page <- function(obj, ...) '<html><body>x</body></html>'\nstructure(0, class = 'page')"
    )
    assert outputs == [
        (
            {"text/plain": '[1] 0\nattr(,"class")\n[1] "page"', "text/html": "<html><body>x</body></html>"},
            {"text/html": {"isolated": True}},
        )
    ]


def test_a_method_a_package_registers_is_used(ip):
    outputs, _ = rich(
        ip,
        "registerS3method('repr_markdown', 'registered', function(obj, ...) '*from a package*', "
        "envir = asNamespace('repr'))\nstructure(1, class = 'registered')",
    )
    assert outputs[0][0]["text/markdown"] == "*from a package*"


def test_a_failing_method_is_one_line_and_r_s_print(ip):
    with capture_output() as captured:
        ip.run_cell_magic(
            "R", "", "repr_html.broken <- function(obj, ...) stop('no html today')\nstructure(2, class = 'broken')"
        )
    assert not captured.outputs
    assert captured.stderr.strip().splitlines() == [
        "rmagic_ext: a repr method of class 'broken' failed (no html today): shown as R prints it"
    ]
    assert '[1] 2\nattr(,"class")\n[1] "broken"' in captured.stdout


def test_tables_carry_latex_and_markdown(ip):
    for code in ("data.frame(x = 1:3, y = c('a', 'b', 'c'))", "matrix(1:4, 2)", "tibble::tibble(x = 1:3)"):
        outputs, _ = rich(ip, code)
        data = outputs[0][0]
        assert set(data) == {"text/plain", "text/html", "text/latex", "text/markdown"}, code
        assert "\\begin{tabular}" in data["text/latex"] and "|" in data["text/markdown"]


def test_rich_display_off_sends_text_alone(ip, irkernel_options):
    outputs, _ = rich(ip, "options(jupyter.rich_display = FALSE)\ndata.frame(x = 1:3)")
    assert outputs == [({"text/plain": "  x\n1 1\n2 2\n3 3"}, {})]


def test_plain_vectors_print_as_r_prints_them_unless_asked(ip):
    with capture_output() as captured:
        ip.run_cell_magic("R", "", "1:3")
    assert captured.stdout == "[1] 1 2 3\n" and not captured.outputs
    magics = ip.magics_manager.registry["RMagics"]
    magics.rich_vectors = True
    try:
        outputs, _ = rich(ip, "c(a = 1, b = 2)")
    finally:
        magics.rich_vectors = False
    assert set(outputs[0][0]) == {"text/plain", "text/html", "text/latex", "text/markdown"}


# -- plot options ------------------------------------------------------------------------


def png_size(data: str) -> tuple[int, int]:
    return struct.unpack(">II", base64.b64decode(data)[16:24])


def first_pixel(data: str) -> tuple[int, ...]:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB").getpixel((0, 0))


def plot(ip, code: str = "plot(1:3)", line: str = ""):
    outputs, err = rich(ip, code, line)
    assert len(outputs) == 1, outputs
    return outputs[0][0], outputs[0][1], err


def test_repr_plot_size_and_resolution(ip, irkernel_options):
    data, _, _ = plot(ip, "options(repr.plot.width = 4, repr.plot.height = 3, repr.plot.res = 100)\nplot(1:3)")
    assert png_size(data["image/png"]) == (400, 300)
    data, _, _ = plot(ip)  # the next cell: the options still hold
    assert png_size(data["image/png"]) == (400, 300)


def test_cell_options_and_config_win(ip, irkernel_options):
    ip.run_cell_magic("R", "", "options(repr.plot.width = 4, repr.plot.height = 3, repr.plot.res = 100)")
    data, _, _ = plot(ip, line="-w 300 -h 200")
    assert png_size(data["image/png"]) == (300, 200)
    magics = ip.magics_manager.registry["RMagics"]
    magics.width, magics.height, magics.units = 500, 250, "px"
    try:
        data, _, _ = plot(ip)
    finally:
        magics.width = magics.height = None
        magics.units = "in"
    assert png_size(data["image/png"])[0] == 500 * 100 // 100 and png_size(data["image/png"])[1] == 250


def test_repr_plot_bg_pointsize_family_quality(ip, irkernel_options):
    data, _, _ = plot(ip, "options(repr.plot.bg = 'red')\nplot(1:3)")
    assert first_pixel(data["image/png"]) == (255, 0, 0)
    small, _, _ = plot(ip, "options(repr.plot.bg = NULL, repr.plot.pointsize = 6)\nplot(1:3, main = 'Title')")
    large, _, _ = plot(ip, "options(repr.plot.pointsize = 20)\nplot(1:3, main = 'Title')")
    assert small["image/png"] != large["image/png"]
    serif, _, _ = plot(ip, "options(repr.plot.pointsize = NULL, repr.plot.family = 'serif')\nplot(1:3, main = 'Title')")
    sans, _, _ = plot(ip, "options(repr.plot.family = 'sans')\nplot(1:3, main = 'Title')")
    assert serif["image/png"] != sans["image/png"]
    rough, _, _ = plot(ip, "options(jupyter.plot_mimetypes = 'image/jpeg', repr.plot.quality = 5)\nplot(1:3)")
    fine, _, _ = plot(ip, "options(repr.plot.quality = 100)\nplot(1:3)")
    assert len(rough["image/jpeg"]) < len(fine["image/jpeg"])


def test_several_plot_mimetypes_make_one_output(ip, irkernel_options):
    data, metadata, _ = plot(
        ip,
        "options(jupyter.plot_mimetypes = c('text/plain', 'image/png', 'image/svg+xml', "
        "'application/pdf'))\nplot(1:3, main = 'Three')",
    )
    assert set(data) == {"text/plain", "image/png", "image/svg+xml", "application/pdf"}
    assert data["text/plain"] == "Plot with title “Three”"
    assert "<svg" in data["image/svg+xml"] and base64.b64decode(data["application/pdf"]).startswith(b"%PDF")
    assert metadata == {"image/svg+xml": {"isolated": True}}


def test_each_page_gets_its_own_title(ip):
    outputs, _ = rich(ip, "plot(1, main = 'one'); plot(2, main = 'two'); plot(3)")
    assert [d["text/plain"] for d, _ in outputs] == [
        "Plot with title “one”",
        "Plot with title “two”",
        "plot without title",
    ]


def test_plot_scale_sets_the_shown_size(ip, irkernel_options):
    data, metadata, _ = plot(
        ip, "options(repr.plot.width = 4, repr.plot.height = 3, repr.plot.res = 100, jupyter.plot_scale = 2)\nplot(1:3)"
    )
    assert png_size(data["image/png"]) == (400, 300)
    assert metadata == {"image/png": {"width": 200, "height": 150}}


def test_bad_option_values_are_one_line_and_ignored(ip, irkernel_options):
    data, _, err = plot(ip, "options(repr.plot.width = 'wide', jupyter.plot_mimetypes = 'image/tiff')\nplot(1:3)")
    assert 'options(repr.plot.width = "wide") is not a positive number: ignored' in err
    assert "jupyter.plot_mimetypes: image/tiff cannot be drawn here" in err
    assert "image/png" in data


# -- completion and inspection --------------------------------------------------------------


@pytest.fixture
def iris_like(ip):
    ip.run_cell_magic(
        "R",
        "",
        "df <- data.frame(`Sepal Length` = 1, `2019` = 2, petal = 3, check.names = FALSE)\n"
        "l <- list(`b c` = 1, `abc+def` = 2, `2019` = 3, fine = 4)\n"
        "e <- new.env(); assign('b c', 1, envir = e)",
    )


def completed(ip, text: str) -> set[str]:
    """What the R line becomes with each completion IPython offers."""
    code = "%%R\n" + text
    with provisionalcompleter():
        found = list(ip.Completer.completions(code, len(code)))
    return {code[4 : c.start] + c.text for c in found}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("df$", {"df$`Sepal Length`", "df$`2019`", "df$petal"}),
        ("df$Se", {"df$`Sepal Length`"}),
        ("df$`Se", {"df$`Sepal Length`"}),
        ("l$", {"l$`b c`", "l$`abc+def`", "l$`2019`", "l$fine"}),
        ("e$", {"e$`b c`"}),
        ("df[['", {"df[['Sepal Length'", "df[['2019'", "df[['petal'"}),
        ('l[["ab', {'l[["abc+def"'}),
        ("base::.rowNamesD", {"base::`.rowNamesDF<-`"}),
        ("base::transform(", {"base::transform(`_data` = ", "base::transform(..."}),
        ("seq_len(", {"seq_len(length.out = "}),
    ],
)
def test_completion_inserts_valid_r(ip, iris_like, text, expected):
    assert completed(ip, text) == expected


def test_completion_of_replacement_functions_and_file_names(ip, iris_like, tmp_path):
    assert "`names<-`" in completions("names")[1]
    (tmp_path / "data file.csv").write_text("")
    token, found = completions(f'read.csv("{tmp_path}/da')
    assert found == [f"{tmp_path}/data file.csv"]


@pytest.mark.parametrize(
    "literal, first_line",
    [("1", "class: numeric"), ('"abc"', "class: character"), ("7L", "class: integer"), ("TRUE", "class: logical")],
)
def test_shift_tab_on_a_literal_shows_class_and_value(ip, literal, first_line):
    code = "%%R\nx <- " + literal
    reply = inspect(code, len(code))
    assert reply["found"] and reply["data"]["text/plain"].splitlines()[0] == first_line
