"""Input checks shared by the Projector, the widgets and the command line.

Every bad input becomes a TypeError (wrong kind of value) or a ValueError (right kind, bad
value) whose message names the problem and the valid choices. Images are checked on their
shape and dtype before any copy is made, so an absurdly large array is refused without
allocating anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._values import MAX_SHOWN, check_index, check_int, is_int, shown, unwrap_tensor

# MAX_SHOWN, check_int, is_int and shown are re-exported: their one home is _values.
__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_SHOWN",
    "check_channel",
    "check_choice",
    "check_finite",
    "check_fits",
    "check_image_size",
    "check_int",
    "check_pixel_dtype",
    "image_batch",
    "image_stack",
    "is_int",
    "model_stack",
    "shown",
]

# Largest image the Projector accepts, in pixels (height x width): 4096 x 4096. One float32
# RGB image of that size is 192 MiB, and every layer's activations on it are cached.
MAX_IMAGE_PIXELS = 4096 * 4096


def check_choice(value: Any, choices: Sequence[str], what: str) -> str:
    """`value` if it is one of `choices`, else ValueError naming it and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {what} {shown(value)}; choose one of: {', '.join(choices)}")
    return value


def check_channel(channel: Any, count: int, layer: str) -> int:
    """A channel index 0..count-1 as an int (ints only: no bools, floats or text)."""
    return check_index(channel, "channel", count, f" for layer {layer!r} with {count} channels")


def _shape_text(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("any" if d is None else str(d) for d in shape) + ")"


def _as_array_no_copy(value: Any, what: str) -> np.ndarray:
    """An ndarray view of an array, tensor or nested list (no float copy yet)."""
    value = unwrap_tensor(value)
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(
            f"{what} must be an array of pixel numbers (NumPy array, tensor or nested "
            f"lists), got {type(value).__name__}"
        )
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{what} must be an array of pixel numbers with one shape (H, W, C), got "
            f"{type(value).__name__} ({error})"
        ) from None


def check_pixel_dtype(array: np.ndarray, what: str) -> None:
    """Refuse arrays that do not hold real numbers (bool, complex, text, objects)."""
    kind = array.dtype.kind
    if kind not in "fiu":
        raise TypeError(
            f"{what} must hold numbers (real: float or int), got dtype {array.dtype}; pass "
            "float or int pixels, e.g. np.asarray(image, dtype=np.float32)"
        )


def check_image_size(shape: Sequence[int], what: str) -> None:
    """Refuse an empty image or one above MAX_IMAGE_PIXELS (checked on the shape only)."""
    height, width, channels = (int(d) for d in shape[-3:])
    if height == 0 or width == 0 or channels == 0:
        raise ValueError(
            f"{what} is empty: shape {tuple(shape)}; pass an image with height, width and "
            "channels >= 1"
        )
    if height * width > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"{what} of {height} x {width} = {height * width} pixels is too large; the limit "
            f"is MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (4096 x 4096): resize it first"
        )


def check_finite(batch: np.ndarray, what: str) -> None:
    """Refuse NaN or infinite pixels."""
    if not np.all(np.isfinite(batch)):
        bad = int(np.size(batch) - np.count_nonzero(np.isfinite(batch)))
        raise ValueError(
            f"{what} contains {bad} NaN or infinite value(s); pass finite pixel values "
            "(e.g. np.nan_to_num(image))"
        )


def image_batch(image: Any, input_shape: Sequence[int | None]) -> np.ndarray:
    """One image (H, W, C) or (1, H, W, C) as a float32 (1, H, W, C) batch fitting the model.

    `input_shape` is the model's (H, W, C), None for any size.
    """
    array = _as_array_no_copy(image, "image")
    check_pixel_dtype(array, "image")
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    want = _shape_text(input_shape)
    if array.ndim != 3:
        raise ValueError(
            f"image shape {tuple(array.shape)} does not fit the model input {want}: pass one "
            "image of rank 3 (H, W, C) or a batch of one (1, H, W, C)"
        )
    check_image_size(array.shape, "image")
    if any(w is not None and w != g for w, g in zip(input_shape, array.shape, strict=True)):
        raise ValueError(
            f"image shape {tuple(array.shape)} does not fit the model input {want}; "
            "pass one image (H, W, C) or a batch of one (1, H, W, C) of that size"
        )
    batch = np.ascontiguousarray(array[None], dtype=np.float32)
    check_finite(batch, "image")
    return batch


def image_stack(images: Any, keep_integers: bool = False) -> np.ndarray:
    """Images (N, H, W, C), one image (H, W, C) or (images, labels), as float32 (N, H, W, C).

    With `keep_integers`, integer pixels keep their dtype (`image_files.to_model_input` scales
    them by it: uint8 0..255, uint16 0..65535).
    """
    if isinstance(images, tuple) and len(images) == 2 and np.ndim(images[1]) == 1:
        images = images[0]  # (images, labels) as zoo.shapes_images returns them
    array = _as_array_no_copy(images, "images")
    check_pixel_dtype(array, "images")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] == 0:
        raise ValueError(
            f"images must have shape (N, H, W, C) with N >= 1, or (H, W, C) for one image; "
            f"got shape {tuple(array.shape)}"
        )
    check_image_size(array.shape, "each image")
    if keep_integers and array.dtype.kind in "iu":
        return array
    stack = np.asarray(array, dtype=np.float32)
    check_finite(stack, "images")
    return stack


def check_fits(shape: Sequence[int], input_shape: Sequence[int | None], what: str) -> None:
    """Refuse an image shape (H, W, C) that the model's input (None: any size) does not take."""
    if any(w is not None and w != g for w, g in zip(input_shape, shape, strict=True)):
        raise ValueError(
            f"{what} shape {tuple(shape)} does not fit the model input "
            f"{_shape_text(input_shape)}; resize the images to it"
        )


def model_stack(images: Any, input_shape: Sequence[int | None]) -> np.ndarray:
    """A batch (N, H, W, C) checked like image_stack and against the model's (H, W, C)."""
    stack = image_stack(images)
    check_fits(stack.shape[1:], input_shape, "image")
    return stack
