"""Cost of a cell: a trivial ``%%R x <- 1`` and a one-plot cell, rmagic_ext
against rpy2's rmagic in the same run (the quick subset of transfer.py).

    .venv/bin/python benchmarks/cell_overhead.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import report  # noqa: E402
from transfer import cell_cases  # noqa: E402

if __name__ == "__main__":
    report(cell_cases(), "Cells")
