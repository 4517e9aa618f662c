"""IRkernel's own kernel tests, run against the "Python 3 + R" kernel with
each R sample as a ``%%R`` cell.

Written here after IRkernel's ``tests/testthat/test_ir.py`` (its samples and
expectations, on ``jupyter_kernel_test``, as IRkernel runs them), not copied
from it. Where our kernel must answer otherwise because its language is
Python, the test says so and why (skipped with the reason). Plain vectors
print as R prints them by default here (rpy2's habit): these tests run with
``%config RMagics.rich_vectors = True``, IRkernel's way; warnings read as
R's console writes them unless ``%config RMagics.warnings = "irkernel"``,
which the warning test sets.

Completion is compared by what the line becomes: IRkernel replaces R's whole
token (``version$plat`` by ``version$platform``), IPython the part after the
last delimiter (``plat`` by ``platform``); both must leave the same R code.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unittest
from pathlib import Path

import pytest

jkt = pytest.importorskip("jupyter_kernel_test")
from jupyter_client.manager import start_new_kernel  # noqa: E402

from rmagic_ext.cli import KERNEL_NAME  # noqa: E402

TIMEOUT = 60
CELL = "%%R\n"

WITHOUT_RICH_DISPLAY = """\
options(jupyter.rich_display = FALSE)
{}
options(jupyter.rich_display = TRUE)
"""


def applied(text: str, match: str, start: int) -> str:
    return text[:start] + match


def irkernel_line(text: str, match: str) -> str:
    """The line IRkernel leaves: its match replaces R's token, the end of
    the line after the last space, parenthesis, comma, = or quote."""
    token = re.search(r"""[^\s(,="']*$""", text).group(0)
    return text[: len(text) - len(token)] + match


class RmagicIRkernelTests(jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "R"

    @classmethod
    def setUpClass(cls) -> None:
        # A folder holding the files IRkernel's file-name samples complete.
        cls.folder = tempfile.mkdtemp(prefix="rmagic_ext-irkernel-")
        for name in ("test_ir.py", "test_utils.r", "test_kernel.r"):
            Path(cls.folder, name).write_text("")
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, cwd=cls.folder)
        reply = cls.kc.execute_interactive("%config RMagics.rich_vectors = True", timeout=TIMEOUT)
        assert reply["content"]["status"] == "ok", reply

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def _run(self, code, **kwargs):
        return jkt.KernelTests.execute_helper(self, code, timeout=TIMEOUT, **kwargs)

    def execute_helper(self, code, timeout=TIMEOUT, silent=False, store_history=True, stop_on_error=True):
        """Each R sample runs as a %%R cell."""
        return jkt.KernelTests.execute_helper(
            self, CELL + code, timeout=timeout, silent=silent, store_history=store_history, stop_on_error=stop_on_error
        )

    def _execute_code(self, code, tests=True, silent=False, store_history=True):
        self.flush_channels()
        reply, output_msgs = self.execute_helper(code, silent=silent, store_history=store_history)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        if tests:
            self.assertGreaterEqual(len(output_msgs), 1)
            self.assertEqual(output_msgs[0]["msg_type"], "display_data")
        return reply, output_msgs

    # -- what must differ: the kernel's language is Python ------------------------------

    @unittest.skip("the kernel's language_info is Python's: R is a language of its cells, not of the kernel")
    def test_kernel_info(self):
        pass

    @unittest.skip("is_complete is IPython's for Python code: a %%R cell is complete as a cell, whatever its R")
    def test_is_complete(self):
        pass

    complete_code_samples = ["1", 'print("hello, world")', "f <- function(x) {\n  x*2\n}"]
    incomplete_code_samples = ['print("hello', "f <- function(x) {\n  x*2"]

    # -- execution ------------------------------------------------------------------------

    code_hello_world = 'print("hello, world")'

    code_display_data = [
        {"code": '"a"', "mime": "text/plain"},
        {"code": '"a"', "mime": "text/html"},
        {"code": '"a"', "mime": "text/latex"},
        {"code": "1:3", "mime": "text/plain"},
        {"code": "1:3", "mime": "text/html"},
        {"code": "1:3", "mime": "text/latex"},
        {"code": WITHOUT_RICH_DISPLAY.format('"a"'), "mime": "text/plain"},
        {"code": WITHOUT_RICH_DISPLAY.format("1:3"), "mime": "text/plain"},
    ]

    def test_display_vector(self):
        _, output_msgs = self._execute_code("1:3")
        data = output_msgs[0]["content"]["data"]
        self.assertEqual(set(data), {"text/plain", "text/html", "text/latex", "text/markdown"})
        self.assertEqual(data["text/plain"], "[1] 1 2 3")
        self.assertIn("</li>", data["text/html"])

    def test_display_vector_only_plaintext(self):
        _, output_msgs = self._execute_code(WITHOUT_RICH_DISPLAY.format("1:3"))
        data = output_msgs[0]["content"]["data"]
        self.assertEqual(data, {"text/plain": "[1] 1 2 3"})

    def test_irkernel_plots(self):
        _, output_msgs = self._execute_code("plot(1:3)")
        content = output_msgs[0]["content"]
        self.assertEqual(set(content["data"]), {"text/plain", "image/png"})
        self.assertEqual(content["data"]["text/plain"], "plot without title")
        self.assertEqual(content["metadata"], {})

    def test_irkernel_plots_only_PNG(self):
        _, output_msgs = self._execute_code(
            "old_options <- options(jupyter.plot_mimetypes = c('image/png'))\nplot(1:3)"
        )
        content = output_msgs[0]["content"]
        self.assertEqual(set(content["data"]), {"image/png"})
        self.assertEqual(content["metadata"], {})
        self._execute_code("options(old_options)", tests=False)

    def test_irkernel_plots_only_SVG(self):
        _, output_msgs = self._execute_code(
            "old_options <- options(jupyter.plot_mimetypes = c('image/svg+xml'))\nplot(1:3)"
        )
        content = output_msgs[0]["content"]
        self.assertEqual(set(content["data"]), {"image/svg+xml"})
        self.assertEqual(content["metadata"], {"image/svg+xml": {"isolated": True}})
        self._execute_code("options(old_options)", tests=False)

    def test_irkernel_plots_without_rich_display(self):
        _, output_msgs = self._execute_code("options(jupyter.rich_display = FALSE)\nplot(1:3)")
        data = output_msgs[0]["content"]["data"]
        self.assertEqual(set(data), {"text/plain", "image/png"})
        self.assertEqual(data["text/plain"], "plot without title")
        self._execute_code("options(jupyter.rich_display = TRUE)", tests=False)

    def test_irkernel_df_default_rich_output(self):
        _, output_msgs = self._execute_code("data.frame(x = 1:3)")
        self.assertEqual(
            set(output_msgs[0]["content"]["data"]), {"text/plain", "text/html", "text/latex", "text/markdown"}
        )

    def test_irkernel_df_no_rich_output(self):
        _, output_msgs = self._execute_code(WITHOUT_RICH_DISPLAY.format("data.frame(x = 1:3)"))
        self.assertEqual(set(output_msgs[0]["content"]["data"]), {"text/plain"})

    def test_html_isolated(self):
        _, output_msgs = self._execute_code(
            "repr_html.full_page <- function(obj) sprintf('<html><body>%s</body></html>', obj)\n"
            "structure(0, class = 'full_page')"
        )
        content = output_msgs[0]["content"]
        self.assertEqual(set(content["data"]), {"text/plain", "text/html"})
        self.assertEqual(content["data"]["text/html"], "<html><body>0</body></html>")
        self.assertEqual(content["metadata"], {"text/html": {"isolated": True}})

    def test_in_kernel_set(self):
        _, output_msgs = self._execute_code('getOption("jupyter.in_kernel")')
        self.assertEqual(output_msgs[0]["content"]["data"]["text/plain"], "[1] TRUE")

    #: IRkernel's two warning samples: a top-level warning, and one from f().
    WARNING_SAMPLES = (
        'options(warn=1); warning(simpleWarning("wmsg"))',
        'options(warn=1); f <- function() warning("wmsg"); f()',
    )

    def assert_warnings_read(self, expected: tuple[str, str]) -> None:
        """Each sample's warning reaches stderr as the first output, worded as expected."""
        try:
            for code, text in zip(self.WARNING_SAMPLES, expected):
                self.flush_channels()
                _, output_msgs = self.execute_helper(code)
                self.assertEqual(output_msgs[0]["msg_type"], "stream")
                self.assertEqual(output_msgs[0]["content"]["name"], "stderr")
                self.assertEqual(output_msgs[0]["content"]["text"].strip(), text)
        finally:
            self._execute_code("options(warn=0)", tests=False)

    def test_warning_message(self):
        """IRkernel's wording, with %config RMagics.warnings = "irkernel"
        (R's console wording is the default: the next test)."""
        self._run("%config RMagics.warnings = 'irkernel'")
        try:
            self.assert_warnings_read(("Warning message:\n“wmsg”", "Warning message in f():\n“wmsg”"))
        finally:
            self._run("%config RMagics.warnings = 'r'")

    def test_warnings_reach_stderr_as_r_prints_them(self):
        """The same samples, with R's own console wording (the default)."""
        self.assert_warnings_read(("Warning: wmsg", "Warning in f() : wmsg"))

    def test_should_increment_history(self):
        reply, _ = self._execute_code("data.frame(x = 1:3)")
        reply2, _ = self._execute_code("data.frame(x = 1:3)")
        self.assertEqual(reply["content"]["execution_count"] + 1, reply2["content"]["execution_count"])

    def test_should_not_increment_history(self):
        reply, _ = self._execute_code("data.frame(x = 1:3)", store_history=False)
        reply2, _ = self._execute_code("data.frame(x = 1:3)", store_history=False)
        reply3, _ = self._execute_code("data.frame(x = 1:3)", tests=False, silent=True)
        counts = {r["content"]["execution_count"] for r in (reply, reply2, reply3)}
        self.assertEqual(len(counts), 1)

    # -- inspection -------------------------------------------------------------------------

    irkernel_inspects = [
        {"name": "Numeric constant", "token": "1"},
        {"name": "Reserved word", "token": "NULL"},
        {"name": "Dataset with a help document", "token": "iris"},
        {"name": "Function with a help document", "token": "c"},
        {"name": "Function name with namespace", "token": "base::c"},
        {"name": "Function not exported from namespace", "token": "tools:::.Rd2pdf"},
        {"name": "User-defined variable", "token": "x", "vars": {"x": "1"}},
        {"name": "User-defined function", "token": "f", "vars": {"f": "function (x) x + x"}},
        {"name": "Object which masks other object in workspace", "token": "c", "vars": {"c": "function (x) x + x"}},
    ]

    def test_irkernel_inspects(self):
        self.flush_channels()
        for sample in self.irkernel_inspects:
            with self.subTest(text=sample["name"]):
                for name, code in sample.get("vars", {}).items():
                    self._execute_code(f"{name} <- {code}", tests=False)
                code = CELL + sample["token"]
                msg_id = self.kc.inspect(code, len(code))
                reply = self.kc.get_shell_msg(timeout=TIMEOUT)
                jkt.validate_message(reply, "inspect_reply", msg_id)
                self.assertEqual(reply["content"]["status"], "ok")
                self.assertTrue(reply["content"]["found"])
                self.assertGreaterEqual(len(reply["content"]["data"]), 1)
                for name in sample.get("vars", {}):
                    self._execute_code(f'rm("{name}")', tests=False)

    # -- completion ----------------------------------------------------------------------

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "seq_len(", "matches": {"length.out = "}},
        {"text": "base::transform(", "matches": {"`_data` = ", "..."}},
        {"text": "foo(R_system", "matches": {"R_system_version"}},
        {"text": "version$plat", "matches": {"version$platform"}},
        {"text": "stats4::AIC@def", "matches": {"stats4::AIC@default"}},
        {"text": "stats4::AIC@default@ta", "matches": {"stats4::AIC@default@target"}},
        {"text": "grDevice", "matches": {"grDevices::"}},
        {"text": "base::abbrev", "matches": {"base::abbreviate"}},
        {"text": "base::.rowNamesD", "matches": {"base::`.rowNamesDF<-`"}},
        {"text": "repr:::repr_png.def", "matches": {"repr:::repr_png.default"}},
        {"text": "repr::format2repr$mark", "matches": {"repr::format2repr$markdown"}},
        {"text": 'load("test_i', "matches": {"test_ir.py"}},
        {"text": 'load("./test_', "matches": {"./test_utils.r", "./test_kernel.r", "./test_ir.py"}},
        {"text": ".Last.v", "matches": {".Last.value"}},
    ]

    def lines_completed(self, text: str) -> set[str]:
        """What the R line becomes with each of the kernel's completions."""
        code = CELL + text
        msg_id = self.kc.complete(code, len(code))
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        jkt.validate_message(reply, "complete_reply", msg_id)
        start = reply["content"]["cursor_start"] - len(CELL)
        return {applied(text, match, start) for match in reply["content"]["matches"]}

    def check_completion(self, sample: dict) -> None:
        if any(m.startswith("repr") for m in sample["matches"]) and not self._has_r_package("repr"):
            self.skipTest("this Debian has no r-cran-repr")
        expected = {irkernel_line(sample["text"], m) for m in sample["matches"]}
        found = self.lines_completed(sample["text"])
        if sample.get("exact", True):
            self.assertEqual(found, expected)
        else:
            self.assertTrue(expected <= found, (expected, found))

    def _has_r_package(self, name: str) -> bool:
        reply, output = self._run(f"from rmagic_ext import r\nbool(r('requireNamespace(\"{name}\", quietly = TRUE)'))")
        return any("True" in m["content"].get("data", {}).get("text/plain", "") for m in output)

    def test_completion(self):
        for sample in self.completion_samples:
            with self.subTest(text=sample["text"]):
                # R's engine also offers zip's and version's relatives that IRkernel's filter drops
                self.check_completion({**sample, "exact": sample["text"] not in ("zi", "foo(R_system")})

    non_syntactic_completion_samples = [
        {
            "text": "xx$host[[1]]$h",
            "matches": ["xx$host[[1]]$h1", "xx$host[[1]]$h2"],
            "vars": {"xx": "list(host = list(list(h1 = 1, h2 = 2), list(h3 = 3, h4 = 4)))"},
        },
        {
            "text": "odd_named_list$a",
            "matches": ["odd_named_list$a"],
            "vars": {"odd_named_list": r"list(a = 1, b = 2, `b c` = 3, `\`\\\`` = 4, 5)"},
        },
        {
            "text": "odd_named_list$b",
            "matches": ["odd_named_list$b", "odd_named_list$`b c`"],
            "vars": {"odd_named_list": r"list(a = 1, b = 2, `b c` = 3, `\`\\\`` = 4, 5)"},
        },
        {
            "text": "odd_named_list$",
            "matches": [
                "odd_named_list$a",
                "odd_named_list$b",
                "odd_named_list$`b c`",
                r"odd_named_list$`\`\\\``",
                "odd_named_list$",
            ],
            "vars": {"odd_named_list": r"list(a = 1, b = 2, `b c` = 3, `\`\\\`` = 4, 5)"},
        },
        {
            "text": "arith_named_env$a",
            "matches": ["arith_named_env$`abc+def`", "arith_named_env$`abc-def`"],
            "vars": {"arith_named_env": "list2env(list(`abc+def` = 1, `def-abc` = 2, `abc-def` = 3, defabc = 4))"},
        },
        {
            "text": "arith_named_env$def",
            "matches": ["arith_named_env$`def-abc`", "arith_named_env$defabc"],
            "vars": {"arith_named_env": "list2env(list(`abc+def` = 1, `def-abc` = 2, `abc-def` = 3, defabc = 4))"},
        },
        {
            "text": "arith_named_env$",
            "matches": [
                "arith_named_env$`abc+def`",
                "arith_named_env$`def-abc`",
                "arith_named_env$`abc-def`",
                "arith_named_env$defabc",
            ],
            "vars": {"arith_named_env": "list2env(list(`abc+def` = 1, `def-abc` = 2, `abc-def` = 3, defabc = 4))"},
        },
    ]

    def test_non_syntactic_completions(self):
        for sample in self.non_syntactic_completion_samples:
            with self.subTest(text=sample["text"]):
                for name, value in sample["vars"].items():
                    self._execute_code(f"{name} <- {value}", tests=False)
                self.assertEqual(self.lines_completed(sample["text"]), set(sample["matches"]))
                for name in sample["vars"]:
                    self._execute_code(f"rm({name})", tests=False)
