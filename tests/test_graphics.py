"""Plots through a real kernel: order, sizes, formats, pages, ggplot2 and
lattice, errors, hygiene; and the settings shared with matplotlib."""

from __future__ import annotations

import base64
import re
import contextlib
import struct

import pytest

from kernel_helpers import images, outputs


@contextlib.contextmanager
def device(kernel, name: str):
    """%Rdevice ``name`` for the duration, then back to the default."""
    kernel.execute(f"%Rdevice {name}")
    try:
        yield
    finally:
        kernel.execute("%Rdevice")


def png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def test_text_and_plots_keep_their_order(kernel):
    run = kernel.execute('%%R\ncat("A\\n"); plot(1:10); cat("B\\n"); plot(1:5)')
    assert run.error is None
    kinds = [(o[0], o[1] if o[0] == "text" else o[1]) for o in outputs(run)]
    assert kinds == [("text", "A\n"), ("image", "image/png"), ("text", "B\n"), ("image", "image/png")]


def test_additions_to_a_plot_give_one_image(kernel):
    run = kernel.execute("%%R\nplot(1:10)\nlines(1:10)\nabline(h = 5)\nlegend('topleft', legend = 'x')")
    assert len(images(run)) == 1


def test_additions_after_text_update_the_same_image(kernel):
    run = kernel.execute('%%R\nplot(1:10)\ncat("between\\n")\nlines(1:10)')
    seen = outputs(run)
    assert [o[0] for o in seen] == ["image", "text", "update"]
    assert seen[0][2] == seen[2][2] and seen[0][3] != seen[2][3]


def test_size_in_pixels_as_in_rpy2(kernel):
    run = kernel.execute("%%R -w 400 -h 300 -u px\nplot(1:10)")
    (image,) = images(run)
    assert png_size(image[3]) == (400, 300)
    run = kernel.execute("%%R -w 400 -h 300\nplot(1:10)")  # px when -u is not given, as in rpy2
    assert png_size(images(run)[0][3]) == (400, 300)
    run = kernel.execute("%%R -w 5 -h 4 -u in -r 50\nplot(1:10)")
    assert png_size(images(run)[0][3]) == (250, 200)


def test_multiple_pages(kernel):
    run = kernel.execute("%%R\nfor (i in 1:3) plot(i)")
    pages = images(run)
    assert len(pages) == 3 and len({o[2] for o in pages}) == 3


def test_svg_isolated_and_noisolation(kernel):
    with device(kernel, "svg"):
        run = kernel.execute("%%R\nplot(1:10)")
        (image,) = images(run)
        assert image[1] == "image/svg+xml" and "<svg" in image[3] and image[4] == {"isolated": True}
        run = kernel.execute("%%R --noisolation\nplot(1:10)")
        assert images(run)[0][4] == {}


def test_retina_has_twice_the_pixels_and_its_display_size(kernel):
    with device(kernel, "retina"):
        run = kernel.execute("%%R -w 300 -h 200 -u px\nplot(1:10)")
        (image,) = images(run)
        assert png_size(image[3]) == (600, 400)
        assert image[4] == {"width": 300, "height": 200}


def test_jpeg(kernel):
    with device(kernel, "jpeg"):
        run = kernel.execute("%%R\nplot(1:10)")
        (image,) = images(run)
        assert image[1] == "image/jpeg" and base64.b64decode(image[3])[:2] == b"\xff\xd8"


def test_rdevice_refuses_unknown_formats(kernel):
    run = kernel.execute("%Rdevice pdfx")
    assert run.error["ename"] == "UsageError"


def test_visible_ggplot_and_lattice_objects_are_drawn(kernel):
    run = kernel.execute("%%R\nlibrary(ggplot2)\nggplot(mtcars, aes(wt, mpg)) + geom_point()")
    assert run.error is None and len(images(run)) == 1
    run = kernel.execute("%%R\nlibrary(lattice)\nxyplot(mpg ~ wt, data = mtcars)")
    assert run.error is None and len(images(run)) == 1


def test_plots_drawn_before_an_error_are_shown(kernel):
    run = kernel.execute("%%R\nplot(1:10)\nstop('after the plot')")
    assert run.error["ename"] == "RError"
    assert len(images(run)) == 1
    assert kernel.execute("%R as.integer(dev.cur())").messages[-1]["content"]["data"]["text/plain"] == "array([1])"


def test_no_files_left_behind(kernel):
    kernel.execute("%%R\nplot(1:3)\nplot(2:4)")
    kernel.execute("%%R\nplot(1:3)\nstop('x')")
    run = kernel.execute(
        "from rmagic_ext.session import get_session\n"
        "print([p for p in get_session().tmpdir.rglob('*') if p.is_file() and p.name != 'r-tempdir'])"
    )
    assert run.text() == "[]\n"


def test_a_cell_without_plots_opens_no_device(kernel):
    run = kernel.execute("%%R\nx <- 1\ndev.cur()")
    assert run.text() == "null device \n          1 \n"
    assert [o for o in outputs(run) if o[0] != "text"] == []


def test_config_traits_set_defaults(kernel):
    kernel.execute("%config RMagics.units = 'px'\n%config RMagics.width = 200.0\n%config RMagics.height = 100.0")
    try:
        run = kernel.execute("%%R\nplot(1:10)")
        assert png_size(images(run)[0][3]) == (200, 100)
    finally:
        kernel.execute("%config RMagics.units = 'in'\n%config RMagics.width = None\n%config RMagics.height = None")


def test_sizes_follow_matplotlib(kernel):
    kernel.execute(
        "import matplotlib\nmatplotlib.rcParams['figure.figsize'] = (4, 3)\nmatplotlib.rcParams['figure.dpi'] = 50"
    )
    run = kernel.execute("%%R\nplot(1:10)")
    assert png_size(images(run)[0][3]) == (200, 150)
    kernel.execute("matplotlib.rcParams.update(matplotlib.rcParamsDefault)")


def test_format_follows_the_inline_backend(kernel):
    kernel.execute("%config InlineBackend.figure_formats = ['svg']")
    try:
        run = kernel.execute("%%R\nplot(1:10)")
        assert images(run)[0][1] == "image/svg+xml"
    finally:
        kernel.execute("%config InlineBackend.figure_formats = ['png']")


def plot_files(kernel) -> list[str]:
    run = kernel.execute(
        "from rmagic_ext.session import get_session\n"
        "print(sorted(p.name for p in (get_session().tmpdir / 'plots').iterdir()))"
    )
    return eval(run.text())  # noqa: S307 - our own list of names


def test_a_plot_drawn_outside_a_cell_does_not_break_later_cells(kernel):
    kernel.execute("from rmagic_ext import r\nr('plot(1:10)')")
    for _ in range(2):
        run = kernel.execute("%%R\nplot(1:3)")
        assert run.error is None and len(images(run)) == 1
    assert plot_files(kernel) == []


def test_dev_new_in_a_cell_starts_a_page_and_later_cells_still_plot(kernel):
    run = kernel.execute("%%R\nplot(1)\ndev.new()\nplot(2)")
    assert run.error is None and len(images(run)) == 2
    kernel.execute("%%R\nplot(1)\ndev.new()")
    run = kernel.execute("%%R\nplot(3)")
    assert len(images(run)) == 1
    assert plot_files(kernel) == []


def test_dev_off_in_a_cell_shows_its_pages_once_and_nothing_stale_later(kernel):
    run = kernel.execute("%%R\nplot(1)\ndev.off()\nplot(2)")
    assert run.error is None and len(images(run)) == 2
    run = kernel.execute("%%R\nplot(1)\ninvisible(dev.off())")
    assert len(images(run)) == 1
    run = kernel.execute("%%R\nplot(4)")
    assert len(images(run)) == 1
    assert plot_files(kernel) == []


@pytest.mark.parametrize("options", ["-u in -w 400 -h 400", "-w 30000 -h 10", "-w 12000 -h 12000"])
def test_absurd_plot_sizes_are_refused_with_the_limit(kernel, options):
    run = kernel.execute(f"%%R {options}\nplot(1)")
    assert run.error["ename"] == "UsageError" and "at most 20000 px" in run.error["evalue"]


def test_plot_cells_beside_a_thread_calling_r_show_each_image_once(kernel):
    kernel.execute(
        "import threading\nstop_loop = threading.Event()\n"
        "def loop():\n    while not stop_loop.is_set(): get_ipython().run_line_magic('R', '1')\n"
        "looping = threading.Thread(target=loop); looping.start()"
    )
    try:
        counts = [len(images(kernel.execute("%%R\nplot(1:3)"))) for _ in range(30)]
    finally:
        kernel.execute("stop_loop.set(); looping.join()")
    assert counts == [1] * 30


def test_rpy2_plot_options_keep_rpy2_s_meaning(kernel):
    run = kernel.execute("%%R -w 800 --type=cairo\nplot(1)")
    assert run.error is None and len(images(run)) == 1
    assert png_size(images(run)[0][3]) == (800, 480)  # the other side: the default, in the same units
    run = kernel.execute("%%R -w 150 -u mm\nplot(1)")  # used to be 7 mm high: "figure margins too large"
    assert run.error is None and len(images(run)) == 1
    with device(kernel, "svg"):
        run = kernel.execute("%%R -w 6 -h 4\nplot(1)")  # inches for svg, as in rpy2
        svg = images(run)[0][3]
        size = re.search(r'<svg[^>]*\bwidth="([\d.]+)(?:pt)?"[^>]*\bheight="([\d.]+)(?:pt)?"', svg)
        assert (float(size.group(1)), float(size.group(2))) == (432.0, 288.0)  # points, whatever cairo writes
    run = kernel.execute("%%R --type=Xlib\nplot(1)")
    assert run.error is None and len(images(run)) == 1  # no X display here: cairo, with a note
    assert "--type Xlib cannot draw here" in run.text("stderr")


def test_rdevice_x11_is_accepted_and_changes_nothing(kernel):
    run = kernel.execute("%Rdevice X11")
    assert run.error is None and "stay inline" in run.text()
    assert len(images(kernel.execute("%%R\nplot(1)"))) == 1
