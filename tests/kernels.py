"""A real IPython kernel for tests: cells sent one by one, as JupyterLab sends them."""

from __future__ import annotations

import json
import textwrap

from jupyter_client.manager import start_new_kernel


class Kernel:
    """One python3 kernel; run(code) returns the cell's stdout and its stderr."""

    def __init__(self) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=120)

    def run(self, code: str, timeout: float = 300.0) -> tuple[str, str]:
        out: list[str] = []
        err: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                (out if msg["content"]["name"] == "stdout" else err).append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                err.append("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(
            textwrap.dedent(code), timeout=timeout, output_hook=hook
        )
        text = "".join(err)
        assert reply["content"]["status"] == "ok", f"cell failed:\n{text[-4000:]}"
        return "".join(out), text

    def json(self, code: str, timeout: float = 300.0) -> dict:
        """Run a cell whose last printed line is JSON; return it."""
        out, _ = self.run(code, timeout)
        return json.loads(out.strip().splitlines()[-1])

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
