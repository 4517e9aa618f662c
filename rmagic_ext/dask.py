"""Dask: a worker plugin that readies R on each worker.

Nothing here is needed for R functions to run on Dask (they pickle, and R
starts at a worker's first R task). The plugin starts R on every worker as
it joins (so the first task does not wait for it), attaches packages, and
checks that the workers run the R, rpy2 and rmagic_ext of the notebook::

    from rmagic_ext.dask import RWorkerPlugin
    client.register_plugin(RWorkerPlugin(packages=["stats"]))

A difference is an error raised by ``register_plugin`` that lists it (or,
with ``strict=False``, a warning in the worker's log).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable

from distributed import WorkerPlugin

from .errors import RemoteError
from .remote import start_r, versions

logger = logging.getLogger("distributed.worker")


class RWorkerPlugin(WorkerPlugin):
    """Start R on each worker as it joins; compare its versions with ours."""

    name = "rmagic_ext"

    def __init__(self, packages: Iterable[str] = (), strict: bool = True, expected: dict | None = None) -> None:
        self.packages = tuple(packages)
        self.strict = strict
        self.expected = dict(expected) if expected is not None else versions()  # the notebook's

    async def setup(self, worker) -> None:
        """R starts on a thread of its own: the worker's event loop goes on."""
        found = await asyncio.get_running_loop().run_in_executor(None, start_r, self.packages)
        differ = {key: (want, found.get(key)) for key, want in self.expected.items() if found.get(key) != want}
        if not differ:
            return
        listed = "; ".join(f"{key}: notebook {want}, worker {got}" for key, (want, got) in differ.items())
        message = f"worker {worker.address} does not match the notebook ({listed})"
        if self.strict:
            raise RemoteError(message + ": install the same releases there, or RWorkerPlugin(strict=False)")
        logger.warning("rmagic_ext: %s", message)
