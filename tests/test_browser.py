"""JupyterLab in a real browser: the extension's outputs as a person sees them.

A real ``jupyter lab`` server (a subprocess on a free localhost port, with its
own token and a temporary folder of notebooks) and Debian's headless Chromium,
driven by selenium through Debian's chromedriver (``make setup`` installs both;
selenium-manager is never used, so nothing is downloaded). The test opens a
notebook, runs every cell from the Run menu and waits for R's plot (an ``img``)
and for R's data.frame as an HTML table. A screenshot is saved to
``test-output/browser/jupyterlab.png`` (and the server's log beside it).

A missing browser, driver or selenium fails the test with a message saying what
to install: it never skips.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "test-output" / "browser"
SCREENSHOT = OUT / "jupyterlab.png"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NOTEBOOK = "browser_test.ipynb"
HIGHLIGHT_NOTEBOOK = "highlight_test.ipynb"
HIGHLIGHT_SCREENSHOT = OUT / "r-highlighting.png"
ENVIRONMENT_NOTEBOOK = "environment_test.ipynb"
ENVIRONMENT_SCREENSHOT = OUT / "r-environment.png"

SERVER_START_TIMEOUT = 60  # until /api/status answers
PAGE_TIMEOUT = 60  # until the notebook's cells are in the page
OUTPUT_TIMEOUT = 90  # kernel start + R start + running the cells
HOW_TO_INSTALL = "run `make setup` (as root it installs Debian's chromium and chromium-driver and selenium into .venv)"


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def r_has(package: str) -> bool:
    """Whether this machine's R has ``package`` (Debian testing has no plotly now)."""
    import rmagic_ext

    return bool(rmagic_ext.r(f'requireNamespace("{package}", quietly = TRUE)'))


def plotly_js_major() -> int:
    """The major version of the plotly.js that R's plotly package includes."""
    import rmagic_ext

    return int(
        rmagic_ext.r(
            'f <- list.files(system.file("htmlwidgets/lib/plotlyjs", package = "plotly"), "[.]min[.]js$", '
            'full.names = TRUE)[1]; as.integer(sub(".*v([0-9]+)[.].*", "\\\\1", '
            'grep("plotly.js v", readLines(f, 5), value = TRUE)[1]))'
        )
    )


PLOTLY_CELL = (
    "%%R\nsuppressPackageStartupMessages(library(plotly))\n"
    'plot_ly(x = 1:3, y = c(2, 1, 3), type = "scatter", mode = "markers")'
)


def write_python_notebook(path: Path, sources: list[str], language_info: dict | None = None) -> None:
    """A notebook of the python3 kernel with one code cell per source (cell
    ids numbered, as nbformat 4.5 wants)."""
    cells = [_code(source) for source in sources]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": language_info or {"name": "python"},
        },
        "cells": cells,
    }
    path.write_text(json.dumps(nb, indent=1))


def write_notebook(path: Path) -> None:
    write_python_notebook(
        path,
        ["%load_ext rmagic_ext", "%%R\nplot(1:10)", "%%R\nhead(mtcars)", "%%R\n?mean"]
        + (["%%R\nDT::datatable(head(mtcars, 4))"] if r_has("DT") else [])
        + ([PLOTLY_CELL] if r_has("plotly") else []),
    )


def write_highlight_notebook(path: Path) -> None:
    """A Python cell, a Python cell with a %R line, and an empty cell, where
    the test types a %%R cell."""
    write_python_notebook(
        path,
        [
            "def shout(text):\n    return text.upper()  # a Python comment",
            "flags = %R -o n n <- c(TRUE, NA)\nshout('done')",
            "",
        ],
        language_info={"name": "python", "codemirror_mode": {"name": "ipython", "version": 3}},
    )


ENVIRONMENT_CELLS = [
    "%load_ext rmagic_ext",
    "%%R\nbig <- data.frame(id = seq_len(1e6), x = sqrt(seq_len(1e6)), g = rep(c('b', 'a'), 5e5))\n"
    "fit <- lm(mpg ~ wt + hp, data = mtcars)\nsquare <- function(x) x^2\n"
    "settings <- list(alpha = 0.5, label = 'run 1')",
    "%%R\nsummary(fit)$r.squared",
]


def write_environment_notebook(path: Path) -> None:
    write_python_notebook(path, ENVIRONMENT_CELLS)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def launch_environment() -> dict[str, str]:
    """The environment this process started with. Embedding R (the other
    tests' session fixture) changes os.environ: R's LD_LIBRARY_PATH puts
    /usr/lib/x86_64-linux-gnu first, where a child Python built with a shared
    libpython (pyenv's) would load the system's libpython and fail to import
    ssl. A fresh Jupyter server must not inherit that."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        env = dict(os.environ)
        for key in [k for k in env if k == "LD_LIBRARY_PATH" or k.startswith("R_")]:
            del env[key]
        return env
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def _end_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    """End a process started in its own session, and whatever it left in it
    (a kernel, chromium's helpers)."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy of notebooks/ plus the test's notebook:
    yields (base_url, token, notebook name)."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.fail(f"jupyterlab is not installed in {sys.prefix}: {HOW_TO_INSTALL}")

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    write_notebook(root / NOTEBOOK)
    write_highlight_notebook(root / HIGHLIGHT_NOTEBOOK)
    write_environment_notebook(root / ENVIRONMENT_NOTEBOOK)
    # No "official Jupyter news?" toast over the screenshot, no update check.
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )

    port, token = free_port(), secrets.token_hex(16)
    env = launch_environment()
    env.update(
        {
            # Nothing from the user's own Jupyter set-up, nothing left behind.
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    log_path = OUT / "jupyterlab.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with {proc.returncode} before answering; log {log_path}:\n{_tail(log_path)}"
                )
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer /api/status within "
                    f"{SERVER_START_TIMEOUT} s; log {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(0.2)
        yield base, token, NOTEBOOK
    finally:
        _end_group(proc)
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Debian Chromium through Debian's chromedriver."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"selenium is not installed in {sys.prefix}: {HOW_TO_INSTALL}")
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing (Debian package {pkg}): {HOW_TO_INSTALL}")

    OUT.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path_factory.getbasetemp())
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console, for failures
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    # Its own session, so that teardown can end chromedriver and every Chromium
    # process it started, even if quit() fails.
    service = Service(
        executable_path=CHROMEDRIVER, log_output=str(OUT / "chromedriver.log"), popen_kw={"start_new_session": True}
    )
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as exc:  # noqa: BLE001 - report whatever the driver says
        if service.process is not None:
            _end_group(service.process, timeout=5)
        pytest.fail(
            f"could not start headless Chromium ({CHROMIUM}) through {CHROMEDRIVER}: {type(exc).__name__}: {exc}"
        )
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        process = service.process
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - the group kill below still cleans up
            pass
        if process is not None:
            _end_group(process, timeout=5)


def waiter(driver):
    """wait_for(what, timeout, condition): the condition's value, or the test
    fails saying what never appeared (with a screenshot and the server's log)."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(what: str, timeout: float, condition):
        try:  # an element drawn again while the condition looked at it: look again
            return WebDriverWait(
                driver, timeout, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)
            ).until(condition)
        except TimeoutException:
            driver.save_screenshot(str(SCREENSHOT))
            pytest.fail(
                f"after {timeout} s: {what} never appeared in JupyterLab "
                f"(screenshot {SCREENSHOT}; server log {OUT / 'jupyterlab.log'}:\n"
                f"{_tail(OUT / 'jupyterlab.log', 20)})"
            )

    return wait_for


def wait_until_no_dialog(driver, wait_for) -> None:
    """A dialog JupyterLab shows for a while (a slow server, a kernel still
    starting) is waited out, as a person would; one that stays fails the
    test with its text."""
    from selenium.webdriver.common.by import By

    def dialogs(d):
        return [e.text.strip() for e in d.find_elements(By.CSS_SELECTOR, ".jp-Dialog")]

    if dialogs(driver):
        shown = " | ".join(dialogs(driver))
        wait_for(f"the end of JupyterLab's dialog ({shown!r})", 60, lambda d: not dialogs(d))


def open_and_run_all(driver, base: str, token: str, notebook: str, cells: int) -> None:
    """Open ``notebook`` and click Run > Run All Cells once the kernel is
    idle, as a person would."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait_for = waiter(driver)
    driver.get(f"{base}/lab/tree/{notebook}?reset&token={token}")  # this notebook alone
    wait_for(
        "the notebook's code cells",
        PAGE_TIMEOUT,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")) >= cells,
    )

    # A person waits for the notebook's own kernel to be ready (cells run
    # before that are lost; the status bar may still tell of another
    # notebook's kernel as this one opens).
    wait_for(
        "the notebook's kernel idle", OUTPUT_TIMEOUT, lambda d: d.execute_script(_NOTEBOOK_KERNEL_STATUS) == "idle"
    )

    for attempt in range(3):
        wait_until_no_dialog(driver, wait_for)
        # Run > Run All Cells, clicked as a person would.
        run_menu = wait_for(
            "the Run menu",
            30,
            EC.element_to_be_clickable(
                (
                    By.XPATH,
                    "//li[contains(@class,'lm-MenuBar-item')]"
                    "[.//div[contains(@class,'lm-MenuBar-itemLabel')][normalize-space()='Run']]",
                )
            ),
        )
        run_menu.click()
        wait_for(
            "Run All Cells in the Run menu",
            10,
            EC.element_to_be_clickable(
                (
                    By.XPATH,
                    "//li[contains(@class,'lm-Menu-item')]"
                    "[.//div[contains(@class,'lm-Menu-itemLabel')][normalize-space()='Run All Cells']]",
                )
            ),
        ).click()
        try:  # a person who sees nothing start clicks again
            WebDriverWait(driver, 20, poll_frequency=0.25).until(
                lambda d: any(
                    p.text.strip() not in ("[ ]:", "")
                    for p in d.find_elements(
                        By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt"
                    )
                )
            )
            return
        except TimeoutException:
            continue


# The status of the shown notebook's kernel, from its toolbar.
_NOTEBOOK_KERNEL_STATUS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
return indicator ? indicator.getAttribute('data-status') : null;
"""


@pytest.fixture(scope="module")
def ran(lab, browser):
    """The test notebook open in JupyterLab, every cell run: the browser,
    for the tests to look at."""
    base, token, notebook = lab
    open_and_run_all(browser, base, token, notebook, cells=4)
    return browser


def test_plot_and_table_in_jupyterlab(ran):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver = ran
    start = time.monotonic()
    wait_for = waiter(driver)

    # R's plot: an image in an output area (the kernel and R start first).
    img = wait_for(
        "an image output (R's plot)",
        OUTPUT_TIMEOUT,
        EC.visibility_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-OutputArea-output img")),
    )
    wait_for(
        "the plot image loaded",
        10,
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img),
    )

    # head(mtcars) ran: its rows are on the page, whatever the output's format.
    wait_for(
        "head(mtcars)'s output",
        OUTPUT_TIMEOUT,
        lambda d: any(
            "Mazda RX4" in el.text for el in d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-OutputArea-output")
        ),
    )
    # Every cell has run (an execution count in every prompt) and none failed.
    wait_for(
        "execution counts on all cells",
        30,
        lambda d: all(
            p.text.strip() not in ("[ ]:", "[*]:", "")
            for p in d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell .jp-InputPrompt")
        ),
    )
    errors = driver.find_elements(
        By.CSS_SELECTOR, ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
    )
    assert not errors, f"a cell failed: {errors[0].text[:2000]}"

    # R data.frames are displayed as text/html with a <table> (rich display of
    # data.frames, a separate feature). Without it, only this check fails: the
    # plot and the plain-text rows above still pass. The output is already in
    # the page, so a short wait is enough.
    try:
        WebDriverWait(driver, 10, poll_frequency=0.25).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-OutputArea .jp-RenderedHTMLCommon table")
        )
        table_found = True
    except TimeoutException:
        table_found = False

    # The screenshot a person would see: the table's cell at the bottom of the
    # window, the plot above it; saved before the table assertion so that it
    # exists either way.
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'end'})",
        driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[-1],
    )
    WebDriverWait(driver, 5, poll_frequency=0.1).until(
        lambda d: d.execute_script(
            "const r = arguments[0].getBoundingClientRect();return r.bottom <= window.innerHeight + 1;",
            d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[-1],
        )
    )
    driver.save_screenshot(str(SCREENSHOT))
    print(f"\nbrowser test: {time.monotonic() - start:.1f} s in the browser; screenshot {SCREENSHOT}")

    assert table_found, (
        "head(mtcars) was not displayed as an HTML table "
        "(.jp-RenderedHTMLCommon table): R data.frames need a text/html display"
    )


def test_help_page_in_jupyterlab(ran):
    """``?mean`` (run above) shows R's help as HTML where JupyterLab shows a
    pager's page: its sections as headings, its links inert."""
    from selenium.webdriver.common.by import By

    browser = ran
    page = waiter(browser)(
        "R's help page for mean as HTML",
        OUTPUT_TIMEOUT,
        lambda d: next(
            (
                el
                for el in d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-RenderedHTMLCommon")
                if "Arithmetic Mean" in el.text and el.find_elements(By.TAG_NAME, "h3")
            ),
            None,
        ),
    )
    assert "Description" in [h.text for h in page.find_elements(By.TAG_NAME, "h3")]
    relative = [
        a.get_attribute("href")
        for a in page.find_elements(By.CSS_SELECTOR, "a[href]")
        if not a.get_attribute("href").startswith(("http://127.0.0.1", "https://"))
    ]
    assert not relative, f"links that lead nowhere: {relative}"


def widget_texts(driver, cell_source: str, selector: str, what: str) -> list[str]:
    """The texts of the elements matching ``selector`` in the widget that
    the cell whose source contains ``cell_source`` shows. Widgets are
    isolated: each draws in a document of its own (an iframe), which
    JupyterLab attaches once the cell is scrolled into view."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    def look(d):
        try:
            cell = next(
                (c for c in d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell") if cell_source in c.text),
                None,
            )
            if cell is None:
                return None
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
            frame = next(iter(cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea iframe")), None)
            if frame is None:
                return None
            d.switch_to.frame(frame)
            try:
                return [el.text for el in d.find_elements(By.CSS_SELECTOR, selector)] or None
            finally:
                d.switch_to.default_content()
        except WebDriverException:  # the output was re-attached meanwhile: look again
            d.switch_to.default_content()
            return None

    return waiter(driver)(what, OUTPUT_TIMEOUT, look)


def test_plotly_widget_renders_in_jupyterlab(ran):
    """A plotly htmlwidget (run above) draws its plot with the JavaScript
    included in the output: the browser has no network."""
    if not r_has("plotly"):
        pytest.skip("r-cran-plotly is not in this Debian release")
    if plotly_js_major() < 2:
        pytest.skip(
            "this Debian's r-cran-plotly ships plotly.js 1.x, which cannot draw plotly 4.10's "
            "widgets (Debian 12's packaging; Debian 13 ships plotly.js 2)"
        )
    points = widget_texts(ran, "plot_ly(", ".js-plotly-plot .scatterlayer .point", "the plotly widget's points")
    assert len(points) == 3
    ran.save_screenshot(str(OUT / "plotly.png"))


def test_dt_widget_renders_in_jupyterlab(ran):
    """A DT htmlwidget (run above) draws its table with its own JavaScript."""
    if not r_has("DT"):
        pytest.skip("r-cran-dt is not in this Debian release")
    rows = widget_texts(ran, "DT::datatable", ".datatables table.dataTable tbody tr", "the DT widget's rows")
    assert len(rows) == 4 and "Mazda RX4" in rows[0]


# The colour of the span whose text is arguments[1] in the editor of cell
# arguments[0], and the colour JupyterLab's theme gives the CSS variable
# arguments[2] (what the editor's highlight style uses for that kind of
# token); null while there is no such span.
_TOKEN_COLOUR = """
const [cell, text, variable] = arguments;
const span = [...cell.querySelectorAll('.cm-content .cm-line span')].find(s => s.textContent === text);
if (!span) return null;
const probe = document.createElement('span');
probe.style.color = `var(${variable})`;
cell.appendChild(probe);
const themed = getComputedStyle(probe).color;
probe.remove();
return [getComputedStyle(span).color, themed];
"""


def test_percent_percent_r_cells_are_highlighted_as_r_as_one_types(lab, browser):
    """Typing a %%R cell switches its highlighting to R: `<-` is one token in
    the operator's colour, `#` starts a comment, TRUE is an R constant, and
    Ctrl-/ comments with `#`; the Python cell beside it stays Python, a %R
    line's code is R; removing the magic line makes the cell Python again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.action_chains import ActionChains

    base, token, _ = lab
    driver, wait_for = browser, waiter(browser)
    driver.get(f"{base}/lab/tree/{HIGHLIGHT_NOTEBOOK}?token={token}")

    def three_cells():
        return wait_for(
            "the notebook's three code cells",
            PAGE_TIMEOUT,
            lambda d: (
                lambda found: (
                    found
                    if len(found) == 3 and all(c.find_elements(By.CSS_SELECTOR, ".cm-content") for c in found)
                    else None
                )
            )(d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")),
        )

    three_cells()
    wait_for(
        "the notebook's kernel idle",
        OUTPUT_TIMEOUT,
        lambda d: "| Idle" in d.find_element(By.ID, "jp-main-statusbar").text,
    )
    typed = ["%%R", "x <- c(1, 2)  # an R comment", "ok <- TRUE"]
    # As the notebook finishes opening JupyterLab may still take the focus,
    # or draw the notebook again (what was typed into the old editor is
    # gone): type until the cell holds the text and keeps it for a second.
    for _ in range(3):
        editor = three_cells()[2].find_element(By.CSS_SELECTOR, ".cm-content")
        editor.click()
        editor.send_keys(Keys.CONTROL, "a")
        editor.send_keys(Keys.DELETE)
        for i, line in enumerate(typed):
            editor.send_keys(line)
            if i < len(typed) - 1:
                editor.send_keys(Keys.ENTER)
        time.sleep(1.0)
        if three_cells()[2].find_element(By.CSS_SELECTOR, ".cm-content").text == "\n".join(typed):
            break
    python_cell, line_cell, r_cell = three_cells()  # the notebook of this test: others may be open in hidden tabs
    editor = r_cell.find_element(By.CSS_SELECTOR, ".cm-content")
    assert editor.text == "\n".join(typed), f"the third cell holds {editor.text!r}, not what was typed"

    def colour(cell, text: str, variable: str, what: str):
        return wait_for(what, 15, lambda d: d.execute_script(_TOKEN_COLOUR, cell, text, variable))

    got, themed = colour(r_cell, "<-", "--jp-mirror-editor-operator-color", "`<-` as one token")
    assert got == themed, f"`<-` is coloured {got}, not as an operator ({themed})"
    got, themed = colour(r_cell, "# an R comment", "--jp-mirror-editor-comment-color", "the R comment as one token")
    assert got == themed, f"the R comment is coloured {got}, not as a comment ({themed})"
    got, themed = colour(r_cell, "TRUE", "--jp-mirror-editor-atom-color", "TRUE as a token")
    assert got == themed, f"R's TRUE is coloured {got}, not as a constant ({themed})"

    got, themed = colour(python_cell, "def", "--jp-mirror-editor-keyword-color", "Python's def as a token")
    assert got == themed, f"the Python cell's def is coloured {got}, not as a keyword ({themed})"
    got, themed = colour(
        python_cell, "# a Python comment", "--jp-mirror-editor-comment-color", "the Python comment as one token"
    )
    assert got == themed

    # A %R line: its code is R (TRUE a constant), the rest of the cell Python.
    got, themed = colour(line_cell, "TRUE", "--jp-mirror-editor-atom-color", "the %R line's TRUE as a token")
    assert got == themed, f"TRUE on the %R line is coloured {got}, not as R's constant ({themed})"
    got, themed = colour(line_cell, "'done'", "--jp-mirror-editor-string-color", "the Python string as a token")
    assert got == themed
    OUT.mkdir(parents=True, exist_ok=True)  # the docs' picture (notebooks/images/r-highlighting.png)
    driver.execute_script(
        "return arguments[0].closest('.jp-WindowedPanel-viewport') || arguments[0].closest('.jp-Notebook')", r_cell
    ).screenshot(str(HIGHLIGHT_SCREENSHOT))

    # Ctrl-/ comments the line with R's "#", and again uncomments it.
    def toggle():
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("/").key_up(Keys.CONTROL).perform()

    toggle()
    wait_for("Ctrl-/ commenting the R line", 10, lambda d: "# ok <- TRUE" in editor.text)
    toggle()
    wait_for("Ctrl-/ uncommenting it", 10, lambda d: "# ok" not in editor.text and "ok <- TRUE" in editor.text)

    # Removing the magic line: Python again (TRUE is then just a name).
    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.HOME).key_up(Keys.CONTROL).key_down(
        Keys.SHIFT
    ).send_keys(Keys.DOWN).key_up(Keys.SHIFT).send_keys(Keys.DELETE).perform()
    wait_for("the magic line removed", 10, lambda d: editor.text.startswith("x <- c(1, 2)"))
    wait_for(
        "TRUE no longer coloured as R's constant",
        15,
        lambda d: (lambda found: found is None or found[0] != found[1])(
            d.execute_script(_TOKEN_COLOUR, r_cell, "TRUE", "--jp-mirror-editor-atom-color")
        ),
    )
    assert "ok <- TRUE" in editor.text


def test_the_r_environment_pane_lists_opens_pulls_and_removes(lab, browser):
    """The "R environment" side panel beside a notebook: a 1M-row data
    frame, a model, a function and a list, each with its class and
    dimensions; the frame opens as a table whose first page arrives alone
    (its message's bytes are printed); Pull puts it in Python, where the
    pane lists it as py$; Remove takes an object out of the pane."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    base, token, _ = lab
    driver, wait_for = browser, waiter(browser)
    open_and_run_all(driver, base, token, ENVIRONMENT_NOTEBOOK, cells=len(ENVIRONMENT_CELLS))
    wait_for(
        "execution counts on all cells",
        OUTPUT_TIMEOUT,
        lambda d: all(
            p.text.strip() not in ("[ ]:", "[*]:", "")
            for p in d.find_elements(
                By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt"
            )
        ),
    )

    tab = wait_for(
        "the R environment tab in the right side bar",
        PAGE_TIMEOUT,
        lambda d: next(
            iter(d.find_elements(By.CSS_SELECTOR, ".jp-SideBar li[data-id='rmagic-ext-r-environment']")), None
        ),
    )
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    pane = wait_for(
        "the R environment pane",
        10,
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, "#rmagic-ext-r-environment:not(.lm-mod-hidden)")), None),
    )

    def row(name: str, attribute: str = "data-r-name"):
        found = pane.find_elements(By.CSS_SELECTOR, f"tr[{attribute}='{name}']")
        return found[0] if found else None

    def cells_of(name: str) -> dict:
        tr = row(name)
        return {
            key: tr.find_element(By.CSS_SELECTOR, f".rmagic-ext-env-{key}").text
            for key in ("name", "class", "dims", "summary")
        }

    for name in ("big", "fit", "square", "settings"):
        wait_for(f"{name} in the pane", OUTPUT_TIMEOUT, lambda d, name=name: row(name))
    assert cells_of("big") == {
        "name": "big",
        "class": "data.frame",
        "dims": "1,000,000 × 3",
        "summary": "1,000,000 obs. of 3 variables",
    }
    assert cells_of("fit")["class"] == "lm" and "mpg ~ wt + hp" in cells_of("fit")["summary"]
    assert cells_of("square")["class"] == "function" and cells_of("square")["summary"] == "function (x)"
    assert cells_of("settings")["class"] == "list" and cells_of("settings")["dims"] == "2"

    # Open the data frame: its first page, and only that, in a viewer.
    row("big").find_element(By.CSS_SELECTOR, ".rmagic-ext-action-open").click()
    viewer = wait_for(
        "the data frame's first page",
        OUTPUT_TIMEOUT,
        lambda d: next(
            iter(d.find_elements(By.CSS_SELECTOR, ".rmagic-ext-table-viewer[data-r-name='big'][data-page-bytes]")), None
        ),
    )
    body = viewer.find_elements(By.CSS_SELECTOR, "table.rmagic-ext-page tbody tr")
    assert len(body) == 100
    assert [td.text for td in body[0].find_elements(By.TAG_NAME, "td")] == ["1", "1.000000", "b"]
    assert viewer.find_element(By.CSS_SELECTOR, ".rmagic-ext-page-where").text == "rows 1–100 of 1,000,000"
    page_bytes = int(viewer.get_attribute("data-page-bytes"))
    print(f"\nR environment pane: the message opening the 1M-row data frame is {page_bytes:,} bytes")
    assert page_bytes < 20_000, f"{page_bytes} bytes: more than one page was sent"
    driver.save_screenshot(str(OUT / "r-environment-table.png"))

    # Sorted by x, descending, as a click on the heading twice.
    heading = viewer.find_element(By.CSS_SELECTOR, "th.rmagic-ext-page-column[data-column='1']")
    heading.click()
    wait_for(
        "sorted by x",
        30,
        lambda d: "▲" in viewer.find_element(By.CSS_SELECTOR, "th.rmagic-ext-page-column[data-column='1']").text,
    )
    viewer.find_element(By.CSS_SELECTOR, "th.rmagic-ext-page-column[data-column='1']").click()
    wait_for(
        "sorted by x, descending",
        30,
        lambda d: (
            viewer.find_elements(By.CSS_SELECTOR, "table.rmagic-ext-page tbody tr")[0]
            .find_elements(By.TAG_NAME, "td")[0]
            .text
            == "1000000"
        ),
    )

    # A function opens as its source: a double click on its row, as in RStudio's viewer.
    ActionChains(driver).double_click(row("square").find_element(By.CSS_SELECTOR, ".rmagic-ext-env-class")).perform()
    wait_for(
        "square's source in a viewer",
        30,
        lambda d: any(
            "x^2" in pre.text
            for pre in d.find_elements(
                By.CSS_SELECTOR, ".rmagic-ext-text-viewer[data-r-name='square'] pre.rmagic-ext-viewer-text"
            )
        ),
    )

    # Pull to Python: the name is in Python's namespace, listed as py$big.
    row("big").find_element(By.CSS_SELECTOR, ".rmagic-ext-action-pull").click()
    wait_for("py$big in the pane", OUTPUT_TIMEOUT, lambda d: row("big", "data-py-name"))
    assert (
        pane.find_element(By.CSS_SELECTOR, ".rmagic-ext-env-message").text
        == "Pulled big into Python as big (pandas.DataFrame)"
    )
    assert row("big", "data-py-name").find_element(By.CSS_SELECTOR, ".rmagic-ext-env-dims").text == "1,000,000 × 3"

    # The docs' picture (docs/environment-pane.md): the notebook and the pane, the file browser folded away.
    driver.find_element(
        By.XPATH,
        "//li[contains(@class,'lm-TabBar-tab')][.//div[contains(@class,"
        f"'lm-TabBar-tabLabel')][normalize-space()='{ENVIRONMENT_NOTEBOOK}']]",
    ).click()
    for tab in driver.find_elements(By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left li.lm-mod-current"):
        tab.click()
    time.sleep(0.5)
    driver.save_screenshot(str(ENVIRONMENT_SCREENSHOT))

    # Remove: gone from the pane.
    row("settings").find_element(By.CSS_SELECTOR, ".rmagic-ext-action-remove").click()
    wait_for("settings gone from the pane", 30, lambda d: row("settings") is None)
    assert row("square") is not None
