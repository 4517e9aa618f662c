"""The documentation site builds without a warning, and its API reference
covers every public name and every setting.

The build here skips executing the notebooks (`make docs` executes them):
it checks the pages, their links and references (nitpicky), the docstrings
and the inventory, in a few seconds. A name added to ``rmagic_ext.__all__``
or a configurable trait added to RMagics fails this test until docs/api.md
documents it (RMagics' settings are listed by docs/_ext/rmagic_settings.py
from the class itself).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra (pip install -e '.[docs]') is not installed")
pytest.importorskip("myst_nb", reason="the docs extra (pip install -e '.[docs]') is not installed")

import rmagic_ext  # noqa: E402
from rmagic_ext.magics import RMagics  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs-html")
    doctrees = tmp_path_factory.mktemp("docs-doctrees")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-D",
            "nb_execution_mode=off",
            "-W",
            "--keep-going",
            "-n",
            "-q",
            "-d",
            str(doctrees),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"the docs build failed or warned:\n{run.stderr}{run.stdout}"
    return out


@pytest.fixture(scope="module")
def inventory(built) -> set[str]:
    from sphinx.util.inventory import InventoryFile

    with open(built / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda base, uri: uri)
    names = set()
    for kind, objects in inv.items():
        if kind.startswith("py:"):
            names.update(objects)
    return names


def test_every_public_name_is_in_the_api_reference(inventory):
    missing = sorted(name for name in rmagic_ext.__all__ if f"rmagic_ext.{name}" not in inventory)
    assert not missing, (
        "names in rmagic_ext.__all__ that docs/api.md does not document "
        f"(add an autofunction/autoclass/autodata for each): {', '.join(missing)}"
    )


def test_every_setting_is_in_the_api_reference(inventory):
    settings = sorted(RMagics.class_traits(config=True))
    assert settings
    missing = [name for name in settings if f"rmagic_ext.magics.RMagics.{name}" not in inventory]
    assert not missing, f"RMagics settings missing from the docs' inventory: {', '.join(missing)}"


def test_the_examples_and_the_speed_chart_are_in_the_site(built):
    examples = sorted(p.stem for p in (built / "examples").glob("*.html"))
    assert "tour" in examples and "getting_started" in examples, examples
    assert (built / "_images" / "speed.png").exists() or any(built.glob("_images/speed*.png"))
