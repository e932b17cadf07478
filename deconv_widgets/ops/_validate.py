"""Argument checks shared by the ops: every bad input becomes a ValueError or TypeError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._values import check_int, is_int, unwrap_tensor

PADDINGS = ("SAME", "VALID")


def as_float_array(value: Any, name: str, rank: int | None = None) -> np.ndarray:
    """Return `value` (array, nested list or tf.Tensor) as a float32 NumPy array."""
    value = unwrap_tensor(value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from err
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(
            f"{name} must hold real numbers (float or int); got dtype {array.dtype}. "
            "Convert it with np.asarray(..., dtype=np.float32)."
        )
    if rank is not None and array.ndim != rank:
        raise ValueError(
            f"{name} must have rank {rank} {_rank_hint(rank)}; got shape {array.shape}"
        )
    return array.astype(np.float32, copy=False)


def _rank_hint(rank: int) -> str:
    return {4: "(N, H, W, C) for images, (kh, kw, C_in, C_out) for kernels"}.get(rank, "")


def as_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return `value` as a Python int >= minimum, refusing bools, floats and strings."""
    return check_int(value, name, low=minimum)


def as_pair(value: Any, name: str) -> tuple[int, int]:
    """Accept an int, a pair (h, w) or TF's 4-form (1, h, w, 1); return (h, w), each >= 1."""
    if is_int(value):
        number = as_int(value, name)
        return number, number
    forms = f"{name} must be an int, a pair (h, w) or (1, h, w, 1), each >= 1"
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"{forms}; got {value!r}")
    items = list(value)
    if len(items) == 4:
        if not all(is_int(v) for v in items) or items[0] != 1 or items[3] != 1:
            raise ValueError(f"{forms}; the 4-form needs 1 for batch and channels; got {value!r}")
        items = items[1:3]
    if len(items) != 2:
        raise ValueError(f"{forms}; got {len(items)} values: {value!r}")
    try:
        return as_int(items[0], name), as_int(items[1], name)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{forms}; got {value!r}") from err


def as_padding(value: Any) -> str:
    """Return 'SAME' or 'VALID' (case-insensitive input)."""
    if not isinstance(value, str) or value.upper() not in PADDINGS:
        raise ValueError(f"unknown padding {value!r}; choose one of: SAME, VALID")
    return value.upper()


def as_shape(value: Any, name: str, rank: int = 4) -> tuple[int, ...]:
    """Return a shape (list, tuple, array, TensorShape or 1-D tensor) as a tuple of ints >= 1."""
    if hasattr(value, "as_list"):
        value = value.as_list()
    value = unwrap_tensor(value)
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of {rank} ints; got {value!r}")
    items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(items) != rank:
        raise ValueError(f"{name} must have {rank} entries (N, H, W, C); got {value!r}")
    for item in items:
        if not is_int(item):
            raise TypeError(f"{name} must hold ints; got {value!r}")
        if item < 1:
            raise ValueError(f"{name} entries must be >= 1; got {value!r}")
    return tuple(int(i) for i in items)


def same_pads(size: int, out: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF's SAME padding of a forward window op: total split with the extra at the end."""
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def forward_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output size of a forward conv / pool along one axis (TF's rule)."""
    if padding == "SAME":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def check_window_fits(
    size: tuple[int, int], window: tuple[int, int], what: str, padding: str
) -> None:
    """For VALID padding a window larger than the input leaves no output: refuse it."""
    if padding == "VALID" and (window[0] > size[0] or window[1] > size[1]):
        raise ValueError(
            f"{what} {window} is larger than the input's (H, W) = {size} with VALID padding; "
            f"use a {what} of at most {size} or padding='SAME'"
        )
