"""Locators and actions for one GradientsPanel shown in one notebook cell."""

from __future__ import annotations

import re
from typing import Any

from .jupyter_host import NotebookPage

NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")

JS_TABLE_ROWS = """
(table) => Array.from(table.querySelectorAll('tr'))
  .map((tr) => Array.from(tr.cells).map((cell) => cell.textContent.trim()))
  .filter((cells) => cells.length >= 2)
"""


class GradientsView:
    """The program box, Run button, status line and grad-table of one panel."""

    def __init__(self, nb: NotebookPage, cell: int) -> None:
        self.nb = nb
        self.root = nb.cell(cell).locator(".jp-OutputArea")
        self.table = self.root.get_by_test_id("grad-table")
        self.status = self.root.get_by_test_id("status")
        self.program = self.root.get_by_test_id("program")
        self.run_button = self.root.get_by_test_id("run")

    def rows(self) -> dict[str, str]:
        """{x name: its gradient's text} from the grad-table."""
        if self.table.count() == 0:
            return {}
        return {cells[0]: " ".join(cells[1:]) for cells in self.table.evaluate(JS_TABLE_ROWS)}

    def gradients(self) -> dict[str, list[float] | None]:
        """{x name: the numbers of its gradient, or None where the table says None}."""
        result: dict[str, list[float] | None] = {}
        for name, text in self.rows().items():
            if not re.fullmatch(r"W\d+|x\d*|[A-Za-z_]\w*", name):
                continue
            result[name] = None if "None" in text else [float(v) for v in NUMBER.findall(text)]
        return result

    def wait_gradients(self, predicate: Any, what: str, timeout: float = 60.0) -> dict:
        """Poll the table until predicate(gradients) holds; fail with what was last shown."""
        page = self.nb.page
        deadline_ms = timeout * 1000
        waited = 0
        grads: dict = {}
        while waited <= deadline_ms:
            grads = self.gradients()
            if predicate(grads):
                return grads
            page.wait_for_timeout(100)
            waited += 100
        status = self.status.first.text_content() if self.status.count() else None
        raise AssertionError(f"{what}: grad-table shows {grads}, status {status!r}")

    def run(self) -> None:
        """Press the panel's Run button."""
        self.run_button.click()

    def status_text(self) -> str:
        """The status line's text."""
        return (self.status.first.text_content() or "").strip()
