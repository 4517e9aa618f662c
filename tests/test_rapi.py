"""The R-interface layer: only rmagic_ext._rapi touches libR or rpy2's
private modules, and every libR symbol outside R's API has a fallback, so a
newer R that stops exporting one makes things slower, never broken."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rmagic_ext
from rmagic_ext import _rapi, cli

PACKAGE = Path(rmagic_ext.__file__).resolve().parent  # the checkout, or the installed wheel
#: Every symbol _rapi looks up at run time and can do without.
OPTIONAL = sorted(
    set(_rapi.OPTIONAL_FEATURES)
    | {name for groups in _rapi.ALTERNATIVES.values() for group in groups for name in group}
)
RAW_R = re.compile(
    r"\b(rlib|openrlib|_rinterface_capi|rinterface_lib|_cdata|initr\w*|ctypes\.CDLL\(rpy2)\b"
    r"|\bRf_\w+\(|\bR_\w+\("
)


def test_no_module_but_rapi_touches_libr_or_rpy2_internals():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_rapi.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW_R.search(line.split("#")[0]) and not line.strip().startswith(('"', "'"))
    ]
    assert offenders == []


def test_the_symbol_table_names_every_symbol_looked_up_at_run_time():
    table = _rapi.__doc__
    for name in [*_rapi._SIGNATURES, "R_interrupts_pending", "R_CStackLimit", "R_CStackStart", *_rapi.REQUIRED]:
        assert name in table, name


@pytest.fixture
def hide_symbols(monkeypatch):
    """Make _rapi see a libR that does not export the given symbols."""

    def caches_clear():
        _rapi._referenced_once.cache_clear()
        _rapi._has_no_attributes.cache_clear()

    def hide(*names: str) -> None:
        real_function, real_variable, real_exported = _rapi._optional, _rapi._variable, _rapi.exported
        monkeypatch.setattr(_rapi, "_optional", lambda n: None if n in names else real_function(n))
        monkeypatch.setattr(_rapi, "_variable", lambda n, t: None if n in names else real_variable(n, t))
        monkeypatch.setattr(_rapi, "exported", lambda n: n not in names and real_exported(n))
        caches_clear()

    yield hide
    monkeypatch.undo()
    caches_clear()


@pytest.mark.parametrize("name", OPTIONAL)
def test_without_an_optional_symbol_cells_pushes_and_pulls_still_work(ip, session, hide_symbols, name):
    hide_symbols(name)
    ip.user_ns.update(a=np.arange(5000.0), df=pd.DataFrame({"x": [1, 2], "s": ["a", None]}))
    ip.run_line_magic("Rpush", "a df")
    ip.user_ns["a"] = np.ones(5000)
    ip.run_line_magic("Rpush", "a")  # the in-place path, or its fallback
    assert ip.run_line_magic("R", "sum(a)") == 5000.0
    back = ip.run_line_magic("R", "df")
    assert back["x"].tolist() == [1, 2] and back["s"].iloc[0] == "a" and pd.isna(back["s"].iloc[1])
    ip.run_line_magic("R", "locked <- 1; lockBinding('locked', globalenv())")
    ip.user_ns["locked"] = 2
    with pytest.raises(Exception, match="locked"):
        ip.run_line_magic("Rpush", "locked")
    assert ip.run_line_magic("R", "locked") == 1.0


def test_in_place_re_push_uses_r_s_api_where_r_exports_it():
    features = _rapi.features()
    assert features["required_missing"] == []
    refs = features["alternatives"]["reference counts (in-place re-push)"]
    if _rapi.exported("MAYBE_SHARED"):  # R >= 4.5
        assert refs == "MAYBE_SHARED+NO_REFERENCES"
    else:
        assert refs == "REFCNT+TRACKREFS"


def test_doctor_names_each_feature_that_is_slower_without_a_symbol(hide_symbols):
    hide_symbols("Rf_findVarInFrame3", "MAYBE_SHARED", "REFCNT", "R_interrupts_pending")
    checks = cli.check_libr(_rapi.features(), cli.find_r())
    assert checks[0].ok is True and checks[0].status == "OK"
    notes = [c.render() for c in checks if c.status == "NOTE"]
    assert any("reference counts" in n for n in notes)
    assert any("in place" in n and "Rf_findVarInFrame3" in n for n in notes)
    assert any("Ctrl-C" in n and "R_interrupts_pending" in n for n in notes)
    assert all(c.ok is not False for c in checks)  # slower is not broken
