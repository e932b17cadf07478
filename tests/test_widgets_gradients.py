"""GradientsPanel with the real gradlab: results, error routing, typed text kept."""

from __future__ import annotations

import pytest

from deconv_widgets.widgets import GradientsPanel
from deconv_widgets.widgets.gradients_panel import parse_assignments, parse_names


def test_grad_ys_example_gives_w3_four_six() -> None:
    panel = GradientsPanel("grad_ys")
    assert panel.grads == {"W1": "[1, 2]", "W2": "[1, 2]", "W3": "[4, 6]", "W4": "[3, 4]"}
    assert panel.grad_rows[2] == ["W3", "[4, 6]"]
    assert "grad_ys" in panel.explanation
    assert "tf.gradients" in panel.code
    assert {e["stop_gradient"] for e in panel.graph["edges"]} == {False}


def test_stop_gradient_gives_none_and_dashed_edges() -> None:
    panel = GradientsPanel("stop_gradient")
    assert panel.grads["W1"] == "None" and panel.grads["W2"] == "None"
    assert panel.grads["W3"] == "[1, 2]"
    assert any(e["stop_gradient"] for e in panel.graph["edges"])
    panel.unconnected = "zero"
    assert panel.run()
    assert panel.grads["W1"] == "[0, 0]"


def test_matmul_example_and_switching_examples() -> None:
    panel = GradientsPanel("matmul")
    assert panel.grads == {"W1": "[[9, 10]]"}
    panel.example = "grad_ys"
    assert panel.grads["W3"] == "[4, 6]" and panel.status.startswith("ran")


def test_empty_panel_then_typed_program() -> None:
    panel = GradientsPanel()
    assert panel.program == "" and panel.grads == {} and panel.examples
    panel._on_message(
        panel,
        {
            "type": "run",
            "program": "y = square(x) + 3 * x",
            "values_text": "x = 2",
            "ys_text": "y",
            "xs_text": "x",
            "grad_ys_text": "",
            "unconnected": "none",
        },
        [],
    )
    assert panel.grads == {"x": "7"}, panel.status
    assert panel.program == "y = square(x) + 3 * x"


def test_bad_program_shows_line_and_column_keeps_text_and_recovers() -> None:
    panel = GradientsPanel("grad_ys")
    runs = panel.runs
    bad = "y1 = W1 + W2 + W3\ny2 = W3 + __import__('os')"
    panel._on_message(panel, {"type": "run", "program": bad}, [])
    assert panel.status.startswith("error: line 2, col")
    assert panel.program == bad
    assert panel.grads == {} and panel.runs == runs
    panel._on_message(panel, {"type": "run", "program": "y1 = W1 + W2 + W3\ny2 = W3 + W4"}, [])
    assert panel.grads["W3"] == "[4, 6]" and panel.runs == runs + 1


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("values_text", "W1 = [1, 2", ["values", "line 1"]),
        ("values_text", "W1 [1, 2]", ["name = [1, 2]"]),
        ("ys_text", "  ", ["ys", "at least one name"]),
        ("xs_text", "W9", ["W9"]),
        ("grad_ys_text", "y1 = [1, 2, 3]\ny2 = [3, 4]", ["y1"]),
        ("unconnected", "maybe", ["maybe", "none, zero"]),
    ],
)
def test_bad_fields_go_to_status(field: str, text: str, words: list[str]) -> None:
    panel = GradientsPanel("grad_ys")
    setattr(panel, field, text)
    assert panel.run() is False
    assert panel.status.startswith("error")
    for word in words:
        assert word in panel.status
    assert getattr(panel, field) == text


def test_unknown_example_rules() -> None:
    with pytest.raises(ValueError, match="unknown example 'nope'; choose one of: matmul"):
        GradientsPanel("nope")
    panel = GradientsPanel("matmul")
    panel.example = "nope"
    assert panel.example == "matmul" and "choose one of" in panel.status
    assert panel.grads == {"W1": "[[9, 10]]"}


def test_field_parsers() -> None:
    assert parse_assignments("W1 = [1, 2]\nW2: 3", "values") == {"W1": [1, 2], "W2": 3}
    assert parse_assignments('{"a": [1]}', "values") == {"a": [1]}
    assert parse_assignments("", "grad_ys") == {}
    assert parse_names("y1, y2 y3", "ys") == ["y1", "y2", "y3"]


def test_wrong_types_go_to_status_and_keep_the_text() -> None:
    panel = GradientsPanel("grad_ys")
    panel.program = 42
    assert panel.program.startswith("y1 = W1") and "program must be text" in panel.status
    assert panel.run() and panel.grads["W3"] == "[4, 6]"
