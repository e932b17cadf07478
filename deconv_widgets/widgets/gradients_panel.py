"""GradientsPanel: tiny programs, tf.gradients with grad_ys and stop_gradient, as a widget."""

from __future__ import annotations

import json
import re
from typing import Any

import traitlets

from .. import gradlab
from .._values import shown
from ._base import BaseWidget, TextSetting, esm
from ._grids import format_array

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.+?)\s*,?\s*$")
_NAMES = re.compile(r"[,\s]+")


def parse_assignments(text: str, what: str) -> dict[str, Any]:
    """Parse "name = value" lines (values as JSON numbers or lists), or one JSON object."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise ValueError(f"{what}: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{what}: a JSON object {{name: value}} is needed")
        return data
    result: dict[str, Any] = {}
    for line_no, line in enumerate(stripped.splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise ValueError(
                f"{what}, line {line_no}: {line.strip()!r} is not of the form name = [1, 2]"
            )
        name, value = match.groups()
        try:
            result[name] = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(
                f"{what}, line {line_no}: {shown(value)} is not a number or a list like [1, 2]"
            ) from None
    return result


def parse_names(text: str, what: str) -> list[str]:
    """Names separated by commas or spaces; ValueError when there are none."""
    names = [n for n in _NAMES.split(text.strip()) if n] if isinstance(text, str) else []
    if not names:
        raise ValueError(f"{what}: give at least one name, e.g. y1, y2")
    return names


def assignments_text(values: dict[str, Any]) -> str:
    """The text of {name: value} as "name = value" lines."""
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())


class GradientsPanel(BaseWidget):
    """Type a program, pick ys, xs and grad_ys, press Run: graph, gradients and TF 2 code.

    `example` names one of gradlab.EXAMPLES ("" is an empty program). An unknown name given
    to the constructor raises ValueError; set later it shows in `status` and is put back. A
    bad program shows its error (line and column) in `status` and the typed text is kept.
    """

    _esm = esm("gradients_panel")

    examples = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """The names of gradlab.EXAMPLES, for the page's example menu. Set by Python only."""
    example = TextSetting("").tag(sync=True)
    """The example loaded, a name from `examples` ("": none). Set from Python or in the page
    (menu): it fills the fields and runs; an unknown name reverts, see `status`."""
    program = TextSetting("").tag(sync=True)
    """The program, one assignment a line (text). Set from Python or in the page (typed); it
    runs on `run()` or the Run button."""
    values_text = TextSetting("").tag(sync=True)
    """The inputs' values: "name = [1, 2]" lines or one JSON object (text). Set from Python or
    in the page (typed)."""
    ys_text = TextSetting("").tag(sync=True)
    """The ys: names separated by commas or spaces (text). Set from Python or in the page."""
    xs_text = TextSetting("").tag(sync=True)
    """The xs: names separated by commas or spaces (text). Set from Python or in the page."""
    grad_ys_text = TextSetting("").tag(sync=True)
    """grad_ys, one per y: "name = value" lines or one JSON object; empty: ones (text). Set from
    Python or in the page (typed)."""
    unconnected = TextSetting("none").tag(sync=True)
    """tf.gradients' unconnected_gradients, "none" or "zero" (gradlab.UNCONNECTED; checked on
    a run). Set from Python or in the page (menu)."""
    explanation = traitlets.Unicode("").tag(sync=True)
    """What the loaded example shows (text; "" without one). Set by Python only."""
    graph = traitlets.Dict().tag(sync=True)
    """The last run's graph: {"nodes": [{id, label, kind, op, shape, is_y, is_x, ...}], "edges":
    [{source, target, position, stop_gradient}]}; {} after a failed run. Set by Python only."""
    grads = traitlets.Dict().tag(sync=True)
    """The last run's gradients, {x: its value as text ("None": no gradient)}. Set by Python
    only."""
    grad_rows = traitlets.List(traitlets.List()).tag(sync=True)
    """`grads` as table rows [[x, text], ...] in the order of xs. Set by Python only."""
    code = traitlets.Unicode("").tag(sync=True)
    """A plain TensorFlow 2 program that prints the same gradients (text). Set by Python only."""
    runs = traitlets.Int(0).tag(sync=True)
    """Counts the successful runs. Set by Python only."""

    def __init__(self, example: str | None = None) -> None:
        """Open on gradlab.EXAMPLES[example] (run at once) or on an empty program."""
        super().__init__()
        self.examples = list(gradlab.EXAMPLES)
        if example:
            self._check_example(example)
            self._quietly(example=example)
            self._load_example(example)
        self.on_msg(self._on_message)
        self._ready = True

    def _check_example(self, name: Any) -> str:
        if name not in gradlab.EXAMPLES:
            raise ValueError(
                f"unknown example {name!r}; choose one of: {', '.join(gradlab.EXAMPLES)}"
            )
        return name

    def _load_example(self, name: str) -> None:
        """Fill the fields from an example and run it."""
        ex = gradlab.EXAMPLES[self._check_example(name)]
        grad_ys = dict(zip(ex.ys, ex.grad_ys, strict=True)) if ex.grad_ys is not None else {}
        self._quietly(
            program=ex.program,
            values_text=assignments_text(ex.values),
            ys_text=", ".join(ex.ys),
            xs_text=", ".join(ex.xs),
            grad_ys_text=assignments_text(grad_ys),
            unconnected=ex.unconnected,
            explanation=ex.explanation,
        )
        self._run_now()

    @traitlets.observe("example")
    def _example_changed(self, change: dict[str, Any]) -> None:
        if change["new"] == "" and not self._reverting:
            self._quietly(explanation="")
            return
        self._guarded(change, lambda: self._load_example(change["new"]))

    def _clear_results(self) -> None:
        self.graph, self.grads, self.grad_rows, self.code = {}, {}, [], ""

    def _run_now(self) -> None:
        """Run the fields as they are (raises ValueError/TypeError on bad input)."""
        if self.unconnected not in gradlab.UNCONNECTED:
            raise ValueError(
                f"unknown unconnected mode {self.unconnected!r}; "
                f"choose one of: {', '.join(gradlab.UNCONNECTED)}"
            )
        ys = parse_names(self.ys_text, "ys")
        grad_ys = parse_assignments(self.grad_ys_text, "grad_ys") or None
        result = gradlab.run(
            self.program,
            parse_assignments(self.values_text, "values"),
            ys,
            parse_names(self.xs_text, "xs"),
            grad_ys=grad_ys,
            unconnected=self.unconnected,
        )
        texts = {x: format_array(g) for x, g in result.grads.items()}
        with self.hold_sync():
            self.graph = result.graph
            self.grads = texts
            self.grad_rows = [[x, t] for x, t in texts.items()]
            self.code = result.code
            self.runs += 1
            self.status = f"ran: {len(texts)} gradient(s) of {', '.join(ys)}"

    def run(self) -> bool:
        """Run the current fields; errors show in `status` (never raised). True on success.

        Returns:
            True when the run succeeded; False when it failed (the results are cleared).
        """
        ok = self._safely(self._run_now)
        if not ok:
            self._clear_results()
        return ok

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """{"type": "run", <field>: text...}: take the page's fields as typed, then run."""
        if not isinstance(content, dict) or content.get("type") != "run":
            return
        fields = ("program", "values_text", "ys_text", "xs_text", "grad_ys_text", "unconnected")
        typed = {k: content[k] for k in fields if isinstance(content.get(k), str)}
        self._quietly(**typed)
        self.run()
