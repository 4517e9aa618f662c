"""Drive a real Jupyter kernel over jupyter_client, as a notebook front end does."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field

from jupyter_client.manager import start_new_kernel


@dataclass
class Execution:
    reply: dict
    messages: list = field(default_factory=list)  # iopub messages, in arrival order

    @property
    def streams(self) -> list[tuple[str, str]]:
        return [(m["content"]["name"], m["content"]["text"]) for m in self.messages if m["msg_type"] == "stream"]

    def text(self, name: str = "stdout") -> str:
        return "".join(text for stream, text in self.streams if stream == name)

    @property
    def error(self) -> dict | None:
        return self.reply["content"] if self.reply["content"]["status"] == "error" else None


class Kernel:
    def __init__(self, timeout: float = 60, cwd: str | None = None, outside_pytest: bool = False):
        """``outside_pytest``: the kernel does not know it runs under pytest
        (ipykernel then leaves the output of child processes alone, as
        R CMD INSTALL's)."""
        options = {"cwd": cwd} if cwd is not None else {}
        if outside_pytest:
            options["env"] = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=timeout, **options)
        self.timeout = timeout
        self._idle_seen = None

    def execute(self, code: str, timeout: float | None = None) -> Execution:
        """Run ``code``; return once the kernel is idle again, so that the
        next request cannot arrive while ipykernel is still aborting the
        requests queued behind an error."""
        timeout = timeout or self.timeout
        msg_id = self.client.execute(code, allow_stdin=False)
        messages = self.iopub_until_idle(msg_id, timeout)
        return Execution(self.reply_to(msg_id, timeout), messages)

    def converse(self, code: str, answers: list, timeout: float | None = None) -> tuple[Execution, list[dict]]:
        """Run ``code`` with stdin allowed, answering each input request in
        turn with the next of ``answers`` (a str, or a callable given the
        request's content and the iopub messages so far, returning the
        answer or None to interrupt the kernel instead). Returns the
        execution and the input requests' contents, each with the stream
        text shown before it under "shown_before"."""
        timeout = timeout or self.timeout
        msg_id = self.client.execute(code, allow_stdin=True)
        answers, requests, messages = list(answers), [], []
        reply, deadline = None, time.monotonic() + timeout
        while reply is None:
            try:
                request = self.client.get_stdin_msg(timeout=0.2)
            except queue.Empty:
                request = None
            messages += self._iopub_now(msg_id)
            if request is not None and request["msg_type"] == "input_request":
                time.sleep(0.2)  # what the kernel sent before asking is on iopub by now
                messages += self._iopub_now(msg_id)
                content = dict(request["content"])
                content["shown_before"] = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
                requests.append(content)
                answer = answers.pop(0) if answers else ""
                answer = answer(content, messages) if callable(answer) else answer
                if answer is None:
                    self.manager.interrupt_kernel()
                else:
                    self.client.input(answer)
            reply = self._reply_now(msg_id)
            if len(requests) > 100:
                raise AssertionError(f"{len(requests)} input requests: R keeps asking")
            if reply is None and time.monotonic() > deadline:
                raise AssertionError(f"no reply in {timeout} s; input requests so far: {requests}")
        if self._idle_seen != msg_id:
            messages += self.iopub_until_idle(msg_id, timeout)
        return Execution(reply, messages), requests

    def _iopub_now(self, msg_id: str) -> list:
        found = []
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=0.01)
            except queue.Empty:
                return found
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] != "status":
                found.append(msg)
            elif msg["parent_header"].get("msg_id") == msg_id and msg["content"].get("execution_state") == "idle":
                self._idle_seen = msg_id

    def _reply_now(self, msg_id: str) -> dict | None:
        try:
            reply = self.client.get_shell_msg(timeout=0.01)
        except queue.Empty:
            return None
        return reply if reply["parent_header"].get("msg_id") == msg_id else None

    def interrupt(self, code: str, after: float, reply_within: float) -> dict:
        """Run ``code``, interrupt it ``after`` seconds; the reply's content
        (which must come within ``reply_within`` seconds of the interrupt),
        once the kernel is idle again."""
        msg_id = self.client.execute(code, allow_stdin=False)
        time.sleep(after)
        self.manager.interrupt_kernel()
        reply = self.reply_to(msg_id, reply_within)
        self.iopub_until_idle(msg_id, self.timeout)
        return reply["content"]

    def iopub_until_idle(self, msg_id: str, timeout: float) -> list:
        """The iopub messages of request ``msg_id`` up to its idle status."""
        messages = []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages
            messages.append(msg)

    def reply_to(self, msg_id: str, timeout: float) -> dict:
        """The shell reply to ``msg_id``. An ``aborted`` reply fails with its
        cause: it is ipykernel's answer to a request that reached it while
        it was still aborting the queue after an error, never our code's."""
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] == "aborted":
            raise AssertionError(
                "ipykernel aborted the request: it arrived while the kernel was still "
                "aborting requests queued behind an earlier error (send requests only "
                "once the kernel is idle)"
            )
        return reply

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def outputs(run: Execution) -> list[tuple]:
    """The cell's outputs in order: ('text', s), ('image', mime, display_id,
    data, metadata), ('update', mime, display_id, data, metadata) for images,
    ('display', data) for other rich displays."""
    seen = []
    for m in run.messages:
        kind, content = m["msg_type"], m["content"]
        if kind == "stream":
            seen.append(("text", content["text"]))
        elif kind in ("display_data", "update_display_data", "execute_result"):
            mime = next((k for k in content["data"] if k.startswith("image/")), None)
            if mime is None:
                seen.append(("display", content["data"]))
                continue
            seen.append(
                (
                    "image" if kind != "update_display_data" else "update",
                    mime,
                    content.get("transient", {}).get("display_id"),
                    content["data"][mime],
                    content["metadata"].get(mime, {}),
                )
            )
    return seen


def images(run: Execution) -> list[tuple]:
    """The images a cell displayed (first displays, not updates)."""
    return [o for o in outputs(run) if o[0] == "image"]
