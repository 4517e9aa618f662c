"""No leaks: many push/pull cycles of a mixed frame leave memory flat and no
temp files behind. Runs benchmarks/soak.py in a fresh process (a smaller
load than the full soak, whose figure is quoted in the release notes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).parent.parent / "benchmarks" / "soak.py"


def test_push_pull_cycles_do_not_leak():
    out = subprocess.run(
        [sys.executable, str(SOAK), "300", "20000"], capture_output=True, text=True, check=True, timeout=600
    ).stdout
    match = re.search(r"growth ([+-][\d.]+) MB, temp files left (\d+)", out)
    assert match, out
    growth, temp_files = float(match.group(1)), int(match.group(2))
    assert growth < 50, out
    assert temp_files == 0, out
