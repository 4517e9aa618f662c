"""What R says in other processes, brought back to the notebook.

While an R function from the notebook runs in a worker, everything R's
console writes (``print``, ``cat``, ``message``, warnings as R prints them,
immediate or deferred) is recorded in the order R wrote it, up to a cap,
instead of going to the worker's own standard streams, where it is lost (a
Dask worker on another machine) or reaches the notebook unattributed and
interleaved with other tasks (pools whose workers share the kernel's file
descriptors). When the call ends, the task's text goes to the notebook as
one block, each line marked with the function and the process it ran in:

- on the notebook's host (process pools, joblib, a Dask LocalCluster, Ray
  and Spark started from the notebook), over a connection to the notebook
  that packed the function: a listener on the loopback address that prints
  each block into the running cell before the task's result goes back, so
  the text is in the cell that collects it;
- in a Dask worker on another host, through Dask's own channel to the
  client (the events ``distributed.print`` sends);
- in a Ray worker on another host, through Ray's: the worker's stdout,
  which Ray forwards to the driver with its own ``(task pid=...)`` mark;
- else (a Spark executor on another host) the worker's stderr.
The engines' channels deliver a moment after the result, so they come
second where the notebook can be reached.

A task that fails carries its text with its RError (``RError.stdout``).
Relaying is switched off by ``%config RMagics.remote_relay = False`` (the
worker's streams get R's text as before).
"""

from __future__ import annotations

import collections
import hmac
import json
import os
import secrets
import socket
import struct
import sys
import threading
from typing import Any, Iterable

#: Characters of one task's text kept by default; beyond it the middle is cut, saying how much.
DEFAULT_LIMIT = 1_000_000
_FRAME = struct.Struct("!I")
_ACK = b"\x06"
_TIMEOUT = 30.0


class Recording:
    """R's console text of one call, in order, at most ``limit`` characters:
    the first half and the last half of the limit are kept, and what was cut
    between them is counted."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.head: list[tuple[str, str]] = []
        self.tail: collections.deque[tuple[str, str]] = collections.deque()
        self._head_size = 0
        self._tail_size = 0
        self.cut = 0

    def write(self, stream: str, text: str) -> None:
        if not text:
            return
        if self.limit <= 0:  # no cap
            self.head.append((stream, text))
            return
        room = self.limit // 2 - self._head_size
        if room > 0 and not self.tail:
            self.head.append((stream, text[:room]))
            self._head_size += min(len(text), room)
            text = text[room:]
            if not text:
                return
        self.tail.append((stream, text))
        self._tail_size += len(text)
        keep = self.limit - self.limit // 2
        while self._tail_size > keep:
            stream0, first = self.tail[0]
            over = self._tail_size - keep
            if len(first) <= over:
                self.tail.popleft()
                self._tail_size -= len(first)
                self.cut += len(first)
            else:
                self.tail[0] = (stream0, first[over:])
                self._tail_size -= over
                self.cut += over

    def chunks(self) -> list[tuple[str, str]]:
        """The text as (stream, text) pairs, adjacent writes to one stream
        joined; a note where the middle was cut."""
        records = list(self.head)
        if self.cut:
            records.append(
                (
                    "stderr",
                    f"\n[rmagic_ext: {self.cut:,} characters of this task's output cut here "
                    f"(the limit is {self.limit:,}: %config RMagics.remote_output_limit)]\n",
                )
            )
        records.extend(self.tail)
        joined: list[tuple[str, str]] = []
        for stream, text in records:
            if joined and joined[-1][0] == stream:
                joined[-1] = (stream, joined[-1][1] + text)
            else:
                joined.append((stream, text))
        return joined

    def __bool__(self) -> bool:
        return bool(self.head or self.tail)


def marked(chunks: Iterable[tuple[str, str]], mark: str) -> list[tuple[str, str]]:
    """Each line prefixed with ``mark`` (a line cut between two chunks is
    marked once); the last line ends with a newline."""
    out: list[tuple[str, str]] = []
    at_line_start = True
    for stream, text in chunks:
        lines = text.splitlines(keepends=True)
        parts = []
        for line in lines:
            parts.append(f"{mark} {line}" if at_line_start else line)
            at_line_start = line.endswith(("\n", "\r"))
        out.append((stream, "".join(parts)))
    if out and not at_line_start:
        out[-1] = (out[-1][0], out[-1][1] + "\n")
    return out


def mark_for(label: str, origin_host: str | None) -> str:
    """``(label pid=123)``, with the host when it is not the notebook's."""
    host = socket.gethostname()
    where = f"pid={os.getpid()}" + (f" host={host}" if origin_host and origin_host != host else "")
    return f"({label} {where})"


def marked_for(chunks: Iterable[tuple[str, str]], label: str, relay: dict) -> list[tuple[str, str]]:
    """One task's text as the notebook shows it: every line marked with the
    function's label and this process (and host)."""
    return marked(chunks, mark_for(label, relay.get("host")))


def write_in_order(chunks: Iterable[tuple[str, str]], stdout=None, stderr=None) -> None:
    """Write chunks to stdout and stderr in their order: ipykernel buffers the
    two streams apart, so each is flushed before the other is written."""
    streams = {"stdout": stdout or sys.stdout, "stderr": stderr or sys.stderr}
    last = None
    for stream, text in chunks:
        target = streams["stderr" if stream == "stderr" else "stdout"]
        if last is not None and last is not target:
            last.flush()
        target.write(text)
        last = target
    if last is not None:
        last.flush()


# -- the worker's side -------------------------------------------------------------------


def deliver(chunks: list[tuple[str, str]], label: str, relay: dict) -> None:
    """Send one task's text to the notebook by the first way that works here:
    the notebook's listener where it can be reached (before the result goes
    back, so the text lands in the cell that collects it); else the engine's
    own channel (Dask's print events, Ray's forwarding of stdout), which may
    deliver it a moment after the result; else this worker's stderr."""
    if not chunks:
        return
    text = marked_for(chunks, label, relay)
    if _notebook_reachable(relay) and _send(relay, text):
        return
    if _dask_print(text):
        return
    if _in_ray_worker():  # Ray marks each line with the task and pid itself
        write_in_order(chunks)
        return
    write_in_order(text, stdout=sys.__stdout__ or sys.stdout, stderr=sys.__stderr__ or sys.stderr)


#: "engine": skip the notebook's listener even where it can be reached (as
#: for workers on other hosts); set in the workers' environment.
VIA = "RMAGIC_EXT_RELAY_VIA"


def _notebook_reachable(relay: dict) -> bool:
    return bool(relay.get("address")) and relay.get("host") == socket.gethostname() and os.environ.get(VIA) != "engine"


def _dask_print(chunks: list[tuple[str, str]]) -> bool:
    """Through Dask's print events to every client (as ``distributed.print``
    sends them, without also printing in the worker, whose streams may be
    the kernel's own)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        worker = distributed.get_worker()
    except (ValueError, AttributeError):
        return False
    for stream, text in chunks:
        worker.log_event(
            "print", {"args": (text,), "sep": " ", "end": "", "flush": True, "file": 2 if stream == "stderr" else 1}
        )
    return True


def _in_ray_worker() -> bool:
    state = sys.modules.get("ray._private.worker")
    worker = getattr(state, "global_worker", None)
    return getattr(worker, "mode", None) == 1  # ray.WORKER_MODE


class _Connection:
    """This process's connection to one notebook's listener (kept open for
    the next task; opened again after a failure)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None

    def send(self, address: tuple[str, int], frame: bytes) -> None:
        with self.lock:
            for attempt in (1, 2):  # a connection the listener closed meanwhile: once more, anew
                try:
                    if self.sock is None:
                        self.sock = socket.create_connection(address, timeout=_TIMEOUT)
                    self.sock.sendall(frame)
                    if self.sock.recv(1) != _ACK:
                        raise ConnectionError("the notebook did not acknowledge")
                    return
                except OSError:
                    self._close()
                    if attempt == 2:
                        raise

    def _close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


_connections: dict[tuple[str, int], _Connection] = {}


def _send(relay: dict, chunks: list[tuple[str, str]]) -> bool:
    address = (str(relay["address"][0]), int(relay["address"][1]))
    payload = json.dumps({"token": relay["token"], "chunks": chunks}).encode("utf-8")
    try:
        _connections.setdefault(address, _Connection()).send(address, _FRAME.pack(len(payload)) + payload)
        return True
    except OSError:
        return False


# -- the notebook's side ---------------------------------------------------------------------


class Listener:
    """Receives workers' text on the loopback address and prints it into the
    running cell. Only senders holding the token (which travels inside the
    pickled function) are heard; the payload is JSON, never pickle."""

    MAX_FRAME = 64 * 2**20

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = self._server.getsockname()[:2]
        self._print_lock = threading.Lock()
        threading.Thread(target=self._accept, name="rmagic_ext-relay", daemon=True).start()

    def info(self) -> dict[str, Any]:
        return {"address": list(self.address), "token": self.token, "host": socket.gethostname()}

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="rmagic_ext-relay-worker", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                header = _read_exactly(conn, _FRAME.size)
                if header is None:
                    return
                (size,) = _FRAME.unpack(header)
                if size > self.MAX_FRAME:
                    return
                data = _read_exactly(conn, size)
                if data is None:
                    return
                try:
                    message = json.loads(data)
                    token_ok = hmac.compare_digest(str(message.get("token", "")), self.token)
                    chunks = [(str(s), str(t)) for s, t in message.get("chunks", [])]
                except (ValueError, TypeError, AttributeError):
                    return
                if not token_ok:
                    return
                with self._print_lock:
                    try:
                        write_in_order(chunks)
                    except Exception:  # a closed stream must not stop the worker's task
                        pass
                conn.sendall(_ACK)


def _read_exactly(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        try:
            part = conn.recv(n - len(buf))
        except OSError:
            return None
        if not part:
            return None
        buf += part
    return bytes(buf)


_listener: Listener | None = None
_listener_lock = threading.Lock()


def listener_info() -> dict[str, Any]:
    """Where this process hears its workers (started on first use)."""
    global _listener
    with _listener_lock:
        if _listener is None:
            _listener = Listener()
        return _listener.info()
