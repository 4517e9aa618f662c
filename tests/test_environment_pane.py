"""The R environment pane's comm protocol, in a real kernel over jupyter_client:
the messages a JupyterLab pane sends and gets (rmagic_ext/environment.py)."""

from __future__ import annotations

import base64
import json
import queue
import time
import uuid

import pytest

from kernel_helpers import Kernel

TARGET = "rmagic_ext.environment"


class Pane:
    """A front end's pane: one comm to the kernel's target, its messages read
    from iopub as they come (those sent while a cell runs come with the
    cell's messages: :func:`run` hands them over)."""

    live: list["Pane"] = []

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.comm_id = uuid.uuid4().hex
        self.inbox: list[dict] = []
        self.sizes: list[int] = []
        Pane.live.append(self)
        self._send("comm_open", {"comm_id": self.comm_id, "target_name": TARGET, "data": {}})

    def take(self, msg: dict) -> None:
        if msg["msg_type"] == "comm_msg" and msg["content"]["comm_id"] == self.comm_id:
            self.sizes.append(len(json.dumps(msg["content"]["data"]).encode()))
            self.inbox.append(msg["content"]["data"])

    def _send(self, msg_type: str, content: dict) -> str:
        client = self.kernel.client
        msg = client.session.msg(msg_type, content)
        client.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def request(self, data: dict) -> None:
        self._send("comm_msg", {"comm_id": self.comm_id, "data": data})

    def next(self, kind: str, timeout: float = 60) -> dict:
        """The next message of ``kind`` to this pane (earlier ones of other kinds are kept)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, data in enumerate(self.inbox):
                if data["type"] == kind:
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} message in {timeout} s; got {[d['type'] for d in self.inbox]}")
            try:
                msg = self.kernel.client.get_iopub_msg(timeout=min(left, 1))
            except queue.Empty:
                continue
            self.take(msg)

    def ask(self, data: dict, timeout: float = 60) -> dict:
        """Send a request; its reply (whatever its type)."""
        request = uuid.uuid4().hex
        self.request({**data, "request": request})
        deadline = time.monotonic() + timeout
        while True:
            for i, got in enumerate(self.inbox):
                if got.get("request") == request:
                    return self.inbox.pop(i)
            try:
                self.next("__none__", timeout=max(0.1, min(1, deadline - time.monotonic())))
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def updates(self, wait: float = 2) -> list[dict]:
        """Every update that arrives within ``wait`` seconds."""
        try:
            self.next("__none__", timeout=wait)
        except AssertionError:
            pass
        found = [d for d in self.inbox if d["type"] == "update"]
        self.inbox = [d for d in self.inbox if d["type"] != "update"]
        return found


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    assert not k.execute("%load_ext rmagic_ext").error
    yield k
    k.shutdown()


@pytest.fixture
def pane(kernel):
    Pane.live.clear()
    kernel.execute("%R rm(list = ls(all.names = TRUE))")
    p = Pane(kernel)
    p.snapshot = p.next("snapshot")
    return p


def rows(snapshot_or_update: dict, origin: str = "r") -> dict[str, dict]:
    part = snapshot_or_update[origin]
    listed = part if isinstance(part, list) else part["changed"]
    return {row["name"]: row for row in listed}


def run(kernel, code: str):
    """Run a cell; the panes get the messages sent to them meanwhile."""
    done = kernel.execute(code)
    assert not done.error, done.error
    for msg in done.messages:
        for pane in Pane.live:
            pane.take(msg)
    return done


def test_the_snapshot_lists_each_r_object_with_class_dims_size_and_summary(kernel):
    run(
        kernel,
        "%%R\nbig <- data.frame(id = seq_len(1e6), x = as.numeric(seq_len(1e6)), g = 'a')\n"
        "fit <- lm(mpg ~ wt + hp, data = mtcars)\nf <- function(x, y = 2) x + y\n"
        "l <- list(a = 1, b = 'two', c = list(3))\n.hidden <- 1\nv <- c(1.5, 2.5)",
    )
    pane = Pane(kernel)
    snapshot = pane.next("snapshot")
    listed = rows(snapshot)
    assert snapshot["r_started"] is True
    assert [name for name in listed] == sorted(listed)
    big = listed["big"]
    assert (big["class"], big["type"], big["dims"], big["kind"]) == ("data.frame", "list", "1,000,000 × 3", "table")
    assert big["summary"] == "1,000,000 obs. of 3 variables" and big["size"] > 16e6
    assert listed["fit"]["class"] == "lm" and "mpg ~ wt + hp" in listed["fit"]["summary"]
    assert listed["f"]["kind"] == "function" and listed["f"]["summary"] == "function (x, y = 2)"
    assert listed["l"]["class"] == "list" and listed["l"]["dims"] == "3" and "List of 3" in listed["l"]["summary"]
    assert listed["v"]["summary"].startswith("num [1:2] 1.5 2.5")
    assert ".hidden" in listed  # the front end hides it behind a toggle


def test_the_snapshot_lists_python_names_r_sees_as_py(kernel, pane):
    run(
        kernel,
        "import numpy as np, pandas as pd\npy_frame = pd.DataFrame({'a': [1, 2, 3]})\n"
        "arr = np.zeros((4, 5))\n_private = 1",
    )
    python = rows(pane.updates()[0], "python")
    assert python["py_frame"]["class"] == "pandas.DataFrame" and python["py_frame"]["dims"] == "3 × 1"
    assert python["py_frame"]["origin"] == "python" and python["arr"]["summary"] == "float64 array of shape (4, 5)"
    assert "_private" not in python and "np" not in python  # hidden names and modules are not listed
    listed = rows(Pane(kernel).next("snapshot"), "python")
    assert {"py_frame", "arr"} <= set(listed)


def test_an_update_follows_a_cell_that_changed_r_and_only_then(kernel, pane):
    run(kernel, "%R a <- 1; b <- 'x'")
    update = pane.updates()
    assert len(update) == 1 and set(rows(update[0])) == {"a", "b"} and update[0]["r"]["removed"] == []
    run(kernel, "%R a")  # R ran, nothing changed: no message
    run(kernel, "1 + 1")  # no R, nothing new in Python: no message
    assert pane.updates() == []
    run(kernel, "%R a <- c(a, 2); rm(b)")
    update = pane.updates()
    assert len(update) == 1 and set(rows(update[0])) == {"a"} and update[0]["r"]["removed"] == ["b"]
    run(kernel, "from rmagic_ext import r\nr.c = [1, 2, 3]")  # R entered from Python
    assert set(rows(pane.updates()[0])) == {"c"}


def test_an_in_place_change_is_seen(kernel, pane):
    run(kernel, "%R x <- c(1, 2, 3)")
    pane.updates()
    run(kernel, "%R x[2] <- 20")
    (update,) = pane.updates()
    assert "20" in rows(update)["x"]["summary"]


def test_promises_and_active_bindings_are_listed_not_run(kernel, pane):
    run(
        kernel,
        "%R delayedAssign('lazy', stop('forced')); makeActiveBinding('act', function() stop('ran'), globalenv())",
    )
    listed = rows(pane.updates()[0])
    assert listed["lazy"]["kind"] == "promise" and listed["act"]["kind"] == "active"
    assert not kernel.execute("%R stopifnot(exists('lazy'))").error


def test_ten_thousand_objects_update_in_a_small_message(kernel, pane):
    run(kernel, "%R for (i in 1:10000) assign(sprintf('o%05d', i), i); rm(i)")
    first = pane.updates()[0]
    assert len(first["r"]["changed"]) == 10000
    sizes_before = len(pane.sizes)
    run(kernel, "%R o00001 <- 'changed'")
    (update,) = pane.updates()
    assert [row["name"] for row in update["r"]["changed"]] == ["o00001"]
    assert pane.sizes[sizes_before] < 1000, pane.sizes[sizes_before:]


def test_a_page_of_a_million_row_frame_is_one_page_not_the_frame(kernel, pane):
    run(kernel, "%R big <- data.frame(id = seq_len(1e6), x = sqrt(seq_len(1e6)), g = rep(c('b', 'a'), 5e5))")
    page = pane.ask({"type": "page", "name": "big", "offset": 0, "limit": 50})
    assert page["type"] == "page" and page["total"] == 1_000_000 and page["columns"] == ["id", "x", "g"]
    assert page["types"] == ["integer", "numeric", "character"]
    assert page["rows"][:2] == ["1", "2"] and page["cells"][0][:3] == ["1", "2", "3"] and len(page["cells"][2]) == 50
    assert pane.sizes[-1] < 5000, f"the page's message is {pane.sizes[-1]} bytes"
    last = pane.ask({"type": "page", "name": "big", "offset": 999_990, "limit": 50})
    assert last["rows"][-1] == "1000000" and len(last["cells"][0]) == 10
    by_x = pane.ask({"type": "page", "name": "big", "offset": 0, "limit": 3, "sort": 1, "descending": True})
    assert by_x["cells"][0] == ["1000000", "999999", "999998"]
    by_g = pane.ask({"type": "page", "name": "big", "offset": 0, "limit": 2, "sort": 2})
    assert by_g["cells"][2] == ["a", "a"] and by_g["rows"] == ["2", "4"]


def test_matrices_tibbles_and_nas_page_as_r_prints_them(kernel, pane):
    run(
        kernel,
        "%R m <- matrix(c(1.5, NA, 3, 4), 2, dimnames = list(c('r1', 'r2'), NULL)); "
        "d <- data.frame(when = as.Date('2024-01-02') + 0:1, f = factor(c('u', NA)), row.names = c('p', 'q'))",
    )
    m = pane.ask({"type": "page", "name": "m", "offset": 0, "limit": 10})
    assert m["columns"] == ["[,1]", "[,2]"] and m["rows"] == ["r1", "r2"] and m["cells"][0] == ["1.5", "NA"]
    d = pane.ask({"type": "page", "name": "d", "offset": 0, "limit": 10})
    assert d["rows"] == ["p", "q"] and d["cells"] == [["2024-01-02", "2024-01-03"], ["u", "NA"]]
    assert d["types"] == ["Date", "factor"]
    run(kernel, "%R t <- tibble::tibble(a = 1:3)")
    t = pane.ask({"type": "page", "name": "t", "offset": 1, "limit": 10})
    assert t["cells"] == [["2", "3"]] and t["rows"] == ["2", "3"]


def test_opening_shows_source_structure_or_the_drawn_plot(kernel, pane):
    run(
        kernel,
        "%%R\nf <- function(x) {\n  # add one\n  x + 1\n}\nl <- list(a = 1:3, b = list(c = 'x'))\n"
        "library(ggplot2)\ng <- ggplot(mtcars, aes(wt, mpg)) + geom_point()",
    )
    source = pane.ask({"type": "open", "name": "f"})
    assert source["type"] == "text" and "# add one" in source["text"]
    structure = pane.ask({"type": "open", "name": "l"})
    assert structure["text"].startswith("List of 2") and '$ c: chr "x"' in structure["text"]
    run(kernel, "%%R\nlat <- lattice::xyplot(mpg ~ wt, mtcars)\nplot(1:3)\nrec <- recordPlot()")
    for name in ("g", "lat", "rec"):
        plot = pane.ask({"type": "open", "name": name})
        assert plot["type"] == "plot" and base64.b64decode(plot["png"])[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not kernel.execute("%R stopifnot(dev.cur() == 1L || names(dev.cur()) != 'png')").error


def test_pull_puts_the_converted_value_in_python(kernel, pane):
    run(kernel, "%R my.df <- data.frame(a = 1:3)")
    pane.updates(wait=0)
    pulled = pane.ask({"type": "pull", "name": "my.df"})
    assert pulled == {
        "type": "pulled",
        "name": "my.df",
        "python_name": "my_df",
        "python_type": "pandas.DataFrame",
        "request": pulled["request"],
    }
    assert "my_df" in rows(pane.next("update"), "python")
    assert run(kernel, "print(my_df['a'].tolist())").text() == "[1, 2, 3]\n"


def test_remove_takes_the_object_out_and_the_pane_hears_it(kernel, pane):
    run(kernel, "%R gone <- 1")
    pane.updates()
    assert pane.ask({"type": "remove", "name": "gone"})["type"] == "removed"
    assert pane.next("update")["r"]["removed"] == ["gone"]
    assert run(kernel, "found = %R exists('gone')\nprint(found)").text() == "[False]\n"


@pytest.mark.parametrize(
    "request_",
    [
        {"type": "page", "name": "vanished", "offset": 0, "limit": 10},
        {"type": "open", "name": "vanished"},
        {"type": "pull", "name": "vanished"},
        {"type": "remove", "name": "vanished"},
        {"type": "page", "name": "f", "offset": 0, "limit": 10},
        {"type": "page", "name": "a\0b"},
        {"type": "dance"},
        {"type": "page"},
    ],
)
def test_a_request_that_cannot_be_answered_is_a_one_line_error(kernel, pane, request_):
    run(kernel, "%R f <- function() 1")
    reply = pane.ask(request_)
    assert reply["type"] == "error" and "\n" not in reply["message"] and reply["message"]
    assert kernel.execute("%R 1").reply["content"]["status"] == "ok"


def test_no_pane_no_scan_and_the_extension_announces_itself():
    kernel = Kernel()
    try:
        first = kernel.execute("%load_ext rmagic_ext")
        opened = [m for m in first.messages if m["msg_type"] == "comm_open"]
        assert [m["content"]["target_name"] for m in opened] == [TARGET]
        run(kernel, "%R x <- 1")
        done = kernel.execute(
            "from rmagic_ext import environment\nprint(environment._pane.comms, "
            "list(environment._R.env['.seen']['names']))"
        )
        assert done.text() == "[] []\n"  # nobody subscribed: R was never scanned
    finally:
        kernel.shutdown()
