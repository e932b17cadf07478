"""Checks of plain values that every layer shares: ints, indices, tensors, a bad value's text.

The one home of each: `ops`, `gradlab`, `projection`, `zoo`, `scan` and the widgets all call
these, so a mistyped int reads the same wherever it is passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_SHOWN = 80  # characters of a bad value repeated in a message (a pasted novel stays out)


def shown(value: Any) -> str:
    """repr(value) cut to MAX_SHOWN characters, for error messages."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 12] + f"... ({len(text)} chars)"


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers (bools are not integers here)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def unwrap_tensor(value: Any) -> Any:
    """A tensor's NumPy value (anything with a callable .numpy()); any other value as it is."""
    if hasattr(value, "numpy") and callable(value.numpy):
        return value.numpy()
    return value


def _valid_ints(low: int | None, high: int | None) -> str:
    """The valid range as the messages say it: 'low..high', '>= low', '<= high' or ''."""
    if low is not None and high is not None:
        return f" {low}..{high}"
    if low is not None:
        return f" >= {low}"
    return f" <= {high}" if high is not None else ""


def check_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int in low..high (None: no bound); TypeError or ValueError naming both."""
    valid = _valid_ints(low, high)
    if not is_int(value):
        raise TypeError(f"{name} must be an int{valid}, got {type(value).__name__} {shown(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an int{valid}, got {int(value)}")
    return int(value)


def check_index(value: Any, name: str, count: int, where: str = "") -> int:
    """An index 0..count-1 as an int; `where` (e.g. " for layer 'conv1'") goes in the message."""
    valid = f"choose 0..{count - 1}" if count > 0 else "there is nothing to choose"
    if not is_int(value):
        kind = type(value).__name__
        raise TypeError(f"{name} must be an int, got {kind} {shown(value)}; {valid}")
    if not 0 <= value < count:
        raise ValueError(f"{name} {int(value)} is out of range{where}; {valid}")
    return int(value)
