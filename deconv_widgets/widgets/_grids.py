"""Small editable number grids: parse the text a user types, format numbers for display."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

MAX_GRID_SIDE = 16  # the explainers are for small, readable grids
_NUMBER_SPLIT = re.compile(r"[,\s]+")


def parse_grid(text: str, name: str = "grid", max_side: int = MAX_GRID_SIDE) -> np.ndarray:
    """Parse rows of numbers ("1 2; 3 4", one row a line, or [[1, 2], [3, 4]]) to 2-D float32."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text, got {type(text).__name__}")
    flat = text.replace("],", "\n").replace(";", "\n").replace("[", " ").replace("]", " ")
    rows: list[list[float]] = []
    for line_no, line in enumerate(flat.splitlines(), start=1):
        items = [item for item in _NUMBER_SPLIT.split(line.strip()) if item]
        if not items:
            continue
        row = []
        for item in items:
            try:
                value = float(item)
            except ValueError:
                raise ValueError(
                    f"{name}: {item!r} on line {line_no} is not a number; "
                    "type numbers separated by spaces or commas, one row a line"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"{name}: {item!r} on line {line_no} is not a finite number")
            row.append(value)
        rows.append(row)
    if not rows:
        raise ValueError(f"{name} is empty; type at least one number, e.g. 1 2; 3 4")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(
            f"{name}: rows have different lengths {sorted(widths)}; every row needs the same"
        )
    if len(rows) > max_side or len(rows[0]) > max_side:
        raise ValueError(
            f"{name} is {len(rows)}x{len(rows[0])}; the largest allowed is {max_side}x{max_side}"
        )
    return np.asarray(rows, np.float32)


def format_number(value: Any) -> str:
    """A number without trailing `.0` noise: 4.0 -> "4", 0.5 -> "0.5", 1/3 -> "0.3333"."""
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    rounded = round(value, 4)
    if rounded == int(rounded) and abs(rounded) < 1e15:
        return str(int(rounded))
    return f"{rounded:.4g}" if abs(rounded) >= 1e-3 else f"{value:.3g}"


def format_array(value: Any) -> str:
    """Nested-list text of an array with format_number: [[9, 10]], [4, 6], None."""
    if value is None:
        return "None"
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array)
    return "[" + ", ".join(format_array(item) for item in array) + "]"


def grid_text(array: np.ndarray) -> str:
    """Text of a 2-D array the way parse_grid reads it (one row a line)."""
    return "\n".join(" ".join(format_number(v) for v in row) for row in np.asarray(array))


def grid_payload(array: Any, marks: Any = None) -> dict[str, Any]:
    """A 2-D grid for the page: {"height", "width", "data" (row-major), "marks"}."""
    array = np.asarray(array, np.float32)
    payload: dict[str, Any] = {
        "height": int(array.shape[0]),
        "width": int(array.shape[1]),
        "data": [float(v) for v in array.ravel()],
    }
    if marks is not None:
        payload["marks"] = [str(m) for m in np.asarray(marks).ravel()]
    return payload
