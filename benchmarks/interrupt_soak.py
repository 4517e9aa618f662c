"""Interrupt a real kernel again and again while it pushes a large frame.

    .venv/bin/python benchmarks/interrupt_soak.py [ROUNDS]

Each round runs `%Rpush big` in a loop (1M rows, a string and a float
column) and interrupts it after 0.4, 0.9 and 1.6 s. Every interrupt must be
answered within 8 s with an error reply; the script stops with the round
that hung or the kernel that died, and prints "no hang" otherwise. (It found
the garbage-collector longjmp that a SIGINT during a conversion used to
cause; the test suite runs three of these moments, this runs many.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from kernel_helpers import Kernel  # noqa: E402

SETUP = (
    "import numpy as np, pandas as pd\n"
    "big = pd.DataFrame({'s': np.arange(1_000_000).astype(str), 'f': np.arange(1_000_000.0)})"
)
PUSHES = "for _ in range(60):\n    %Rpush big"


def main(rounds: int) -> int:
    kernel = Kernel()
    try:
        assert kernel.execute("%load_ext rmagic_ext").error is None
        assert kernel.execute(SETUP, timeout=120).error is None
        for round_ in range(rounds):
            for after in (0.4, 0.9, 1.6):
                msg_id = kernel.client.execute(PUSHES, allow_stdin=False)
                time.sleep(after)
                kernel.manager.interrupt_kernel()
                try:
                    reply = kernel.reply_to(msg_id, 8)
                except Exception:
                    alive = kernel.manager.is_alive()
                    print(
                        f"round {round_}, interrupt after {after} s: no reply in 8 s "
                        f"(kernel {'alive' if alive else 'dead'})"
                    )
                    return 1
                kernel.iopub_until_idle(msg_id, 60)
                assert reply["content"]["status"] == "error", reply["content"]
        print(f"no hang in {rounds * 3} interrupts")
        return 0
    finally:
        kernel.shutdown()


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
