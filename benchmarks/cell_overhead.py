"""Cost of a trivial ``%%R x <- 1`` cell: rmagic_ext against rpy2's rmagic.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/cell_overhead.py``).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import compare, report  # noqa: E402

if __name__ == "__main__":
    report([
        compare("trivial %%R cell: x <- 1", 'ip.run_cell_magic("R", "", "x <- 1")', number=2000),
        compare("%R line returning 1:10", 'ip.run_line_magic("R", "1:10")', number=2000),
    ])
