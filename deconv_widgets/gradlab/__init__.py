r"""The gradients lab: tiny programs, real `tf.gradients` inside a `tf.function`.

```python
r = gradlab.run("y1 = W1 + W2 + W3\ny2 = W3 + W4", {"W1": [1, 2], ...}, ["y1", "y2"],
                ["W1", "W2", "W3", "W4"], grad_ys=[[1, 2], [3, 4]])
r.grads["W3"]   # array([4., 6.], dtype=float32)
```
Programs are parsed with `ast` against a whitelist (see `FUNCTIONS`, `ALLOWED`), never
evaluated by Python; anything else raises `ValueError` starting with "line L, col C:".
"""

from __future__ import annotations

from typing import Any

from .examples import EXAMPLES, Example
from .language import (
    ALLOWED,
    FUNCTIONS,
    MAX_ARRAY_SIZE,
    MAX_DEPTH,
    MAX_LINES,
    MAX_NODES,
    MAX_PROGRAM_CHARS,
)
from .parser import Program, ProgramError, parse_program
from .runner import UNCONNECTED, GradResult, eager_gradients_error, run


def run_example(name: str, unconnected: str | None = None) -> GradResult:
    """Run one of `EXAMPLES` by name."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; choose one of: {', '.join(EXAMPLES)}")
    example: Example = EXAMPLES[name]
    return run(
        example.program,
        example.values,
        example.ys,
        example.xs,
        grad_ys=example.grad_ys,
        unconnected=unconnected or example.unconnected,
    )


def limits() -> dict[str, Any]:
    """The lab's input limits, for display."""
    return {
        "program_chars": MAX_PROGRAM_CHARS,
        "lines": MAX_LINES,
        "syntax_nodes": MAX_NODES,
        "nesting_depth": MAX_DEPTH,
        "array_size": MAX_ARRAY_SIZE,
    }


__all__ = [
    "ALLOWED",
    "EXAMPLES",
    "FUNCTIONS",
    "UNCONNECTED",
    "Example",
    "GradResult",
    "Program",
    "ProgramError",
    "eager_gradients_error",
    "limits",
    "parse_program",
    "run",
    "run_example",
]
