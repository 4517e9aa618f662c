"""Drive a real Jupyter kernel over jupyter_client, as a notebook front end does."""

from __future__ import annotations

from dataclasses import dataclass, field

from jupyter_client.manager import start_new_kernel


@dataclass
class Execution:
    reply: dict
    messages: list = field(default_factory=list)  # iopub messages, in arrival order

    @property
    def streams(self) -> list[tuple[str, str]]:
        return [(m["content"]["name"], m["content"]["text"])
                for m in self.messages if m["msg_type"] == "stream"]

    def text(self, name: str = "stdout") -> str:
        return "".join(text for stream, text in self.streams if stream == name)

    @property
    def error(self) -> dict | None:
        return self.reply["content"] if self.reply["content"]["status"] == "error" else None


class Kernel:
    def __init__(self, timeout: float = 60):
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=timeout)
        self.timeout = timeout

    def execute(self, code: str, timeout: float | None = None) -> Execution:
        timeout = timeout or self.timeout
        msg_id = self.client.execute(code, allow_stdin=False)
        messages = []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            messages.append(msg)
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        return Execution(reply, messages)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
