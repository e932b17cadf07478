"""Helpers shared by the test modules: buffers, errors, offline runs, pictures, notebooks."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def floats(buffer: bytes, shape: list[int]) -> np.ndarray:
    """A widget's float32 payload (little-endian bytes) as an array of `shape`."""
    return np.frombuffer(buffer, dtype="<f4").reshape(shape)


def floats_at(buffer: bytes, entry: dict) -> np.ndarray:
    """One array of a packed payload: `entry` gives its shape and offset (in floats)."""
    count = int(np.prod(entry["shape"]))
    return np.frombuffer(buffer, "<f4", count, 4 * entry["offset"]).reshape(entry["shape"])


def expect_error(
    call: Callable[[], object],
    error: type[BaseException],
    problem: str,
    hint: str,
    hint_is: str = "choices",
) -> str:
    """Run `call`; assert it raises `error` whose message matches both patterns.

    `problem` matches what is wrong, `hint` what to do (`hint_is` names it in a failure: the
    valid "choices" or the "remedy"). Returns the message.
    """
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert re.search(problem, message), f"problem {problem!r} not in: {message}"
    assert re.search(hint, message), f"{hint_is} {hint!r} not in: {message}"
    return message


NO_NETWORK = """
import socket, sys, urllib.request
def refuse(*args, **kwargs):
    raise AssertionError(f"network use: {args[:2]!r}")
socket.socket.connect = refuse
socket.create_connection = refuse
urllib.request.urlopen = refuse
"""
"""The first lines of a fresh-process script in which every socket and fetcher raises."""


def offline_python(body: str, timeout: float = 300) -> str:
    """Run `body` (dedented) after NO_NETWORK in a fresh interpreter; assert it ends well.

    Returns its standard output.
    """
    script = NO_NETWORK + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def job_row(rows: list[dict], kind: str) -> tuple[int, int, str]:
    """(done, total, state) of the newest job of `kind` in a widget's `jobs` rows."""
    row = [r for r in rows if r["kind"] == kind][-1]
    return row["done"], row["total"], row["state"]


def encoded(picture: Any, fmt: str = "PNG", **options: Any) -> bytes:
    """A Pillow picture saved as a file's bytes (PNG unless `fmt` names another format)."""
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload(explorer: Any, name: str, data: bytes) -> None:
    """Send a file to an Explorer as its page does: an "upload" message, the bytes as buffer."""
    explorer._on_message(explorer, {"type": "upload", "name": name, "size": len(data)}, [data])


def executed_outputs(nb: Any) -> tuple[str, list[dict]]:
    """An executed notebook's printed text and display data; fails on any error output."""
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [out for out in outputs if out.get("output_type") == "error"]
    assert not errors, errors
    return "".join(out.get("text", "") for out in outputs), [out.get("data", {}) for out in outputs]
