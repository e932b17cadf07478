"""Argument checks of the zoo's functions: ints within a range, with one wording."""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np


def int_in_range(value: Any, name: str, low: int, high: int | None = None) -> int:
    """`value` as an int in low..high (high None: no upper bound); TypeError or ValueError."""
    valid = f"{low}..{high}" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be an int {valid}, got {type(value).__name__} {reprlib.repr(value)}"
        )
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an int {valid}, got {value}")
    return int(value)
