"""Which picture tells the truth: RISE's deletion and insertion curves of an attribution.

Petsiuk, Das & Saenko (2018), "RISE": rank the pixels by the attribution, then change them in
that order and watch the class's probability. Deletion turns the most important pixels black
first, so a faithful map makes the probability fall fast (a low area under the curve);
insertion starts from a blurred image and puts the most important pixels back first, so a
faithful map makes it rise fast (a high area). The protocol here (DESIGN.md, third release):
- the attribution is summed over its channels (signed) and ranked highest first, ties by the
  lower flat index (row-major);
- at step k of `steps`, the first round(k · H · W / steps) pixels are changed (all channels);
- deletion sets them to 0 in the shown image; insertion starts from the shown image blurred
  by a Gaussian of sigma = 5 px (truncated at 4 sigma, borders reflected: the edge pixel
  repeated) and puts the original pixels back;
- the score is the softmax probability of the class over the class head, on
  `preprocess(shown image)`; the area is the trapezoid over k / steps in [0, 1] (RISE's;
  the pixels changed differ from k / steps by less than one pixel's share).
All steps + 1 images go through the model in as few batches as `batch_size` allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import checks
from .classifier import probabilities
from .lenses import resolve_target
from .protocols import LensSource

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable


MODES = ("deletion", "insertion")
BLUR_SIGMA = 5.0
BLUR_TRUNCATE = 4.0  # the kernel reaches 4 sigma each side (scipy.ndimage's default)
MAX_STEPS = 1000


@dataclass(frozen=True)
class Faithfulness:
    """One deletion or insertion curve: probability of `target` against the fraction changed."""

    mode: str
    target: int
    curve: np.ndarray = field(repr=False)  # (steps + 1,) probabilities, step 0 unchanged
    fractions: np.ndarray = field(repr=False)  # (steps + 1,) k / steps: the x of the curve
    auc: float  # the trapezoid of curve over fractions, in [0, 1]


def gaussian_kernel(sigma: float = BLUR_SIGMA, truncate: float = BLUR_TRUNCATE) -> np.ndarray:
    """The normalised 1-D Gaussian taps, radius round(truncate · sigma)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (x / sigma) ** 2)
    return taps / taps.sum()


def blur(image: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """An image (H, W, C) blurred by a separable Gaussian, borders reflected (edge repeated)."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    out = np.asarray(image, np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        windows = np.lib.stride_tricks.sliding_window_view(padded, len(kernel), axis=axis)
        out = windows @ kernel
    return out.astype(np.float32)


def ranking(attribution: np.ndarray) -> np.ndarray:
    """Flat pixel indices, highest summed attribution first, ties by the lower index."""
    summed = attribution.sum(axis=-1) if attribution.ndim == 3 else attribution
    return np.argsort(-summed.reshape(-1), kind="stable")


def counts(pixels: int, steps: int) -> list[int]:
    """Pixels changed at each step k = 0..steps: round(k · pixels / steps) (half to even)."""
    return [round(k * pixels / steps) for k in range(steps + 1)]


def step_images(image: np.ndarray, order: np.ndarray, steps: int, mode: str) -> np.ndarray:
    """The steps + 1 shown images of the curve (float32 (steps + 1, H, W, C)), step 0 first."""
    height, width, channels = image.shape
    flat = image.reshape(-1, channels)
    if mode == "deletion":  # from the image, the first pixels turned black
        start, changed_to = flat, np.zeros_like(flat)
    else:  # from the blurred image, the first pixels put back
        start, changed_to = blur(image).reshape(-1, channels), flat
    images = np.repeat(start[None], steps + 1, axis=0)
    for k, count in enumerate(counts(height * width, steps)):
        chosen = order[:count]
        images[k, chosen] = changed_to[chosen]
    return images.reshape(steps + 1, height, width, channels)


def _check(
    image: Any, attribution: Any, mode: Any, steps: Any, batch_size: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The shown image (H, W, C) and the attribution, checked against each other."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {checks.shown(mode)}; choose one of: {', '.join(MODES)}")
    if not checks.is_int(steps) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an int 1..{MAX_STEPS}, got {checks.shown(steps)}")
    if not checks.is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {checks.shown(batch_size)}")
    shown = np.asarray(image, np.float32)
    if shown.ndim != 3 or not np.all(np.isfinite(shown)):
        raise ValueError(
            f"image must be one finite shown image (H, W, C), got shape {np.shape(image)}"
        )
    values = np.asarray(attribution, np.float32)
    if values.ndim not in (2, 3) or values.shape[:2] != shown.shape[:2]:
        raise ValueError(
            f"attribution must be (H, W) or (H, W, C) of the image's size {shown.shape[:2]}, "
            f"got shape {values.shape}; resize a layer-sized map (Grad-CAM: size='input')"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("attribution has NaN or infinite values")
    return shown, values


def faithfulness(
    projector: LensSource,
    image: Any,
    target: Any,
    attribution: Any,
    mode: str = "deletion",
    steps: int = 20,
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
    batch_size: int = 64,
) -> Faithfulness:
    """RISE's deletion or insertion curve (see the module's docstring and `Projector`'s)."""
    shown, values = _check(image, attribution, mode, steps, batch_size)
    index = resolve_target(projector, target).index
    if not checks.is_int(target):
        raise ValueError(
            "faithfulness scores a class of the class head: target must be a class index (int)"
        )
    images = step_images(shown, ranking(values), int(steps), mode)
    inputs = images if preprocess is None else np.asarray(preprocess(images), np.float32)
    inputs = checks.model_stack(inputs, projector.input_shape)
    curve = probabilities(projector, inputs, int(batch_size))[:, index].astype(np.float32)
    fractions = np.linspace(0.0, 1.0, int(steps) + 1)  # k / steps, as RISE's AUC
    auc = float(np.trapezoid(curve.astype(np.float64), fractions))
    return Faithfulness(mode, index, curve, fractions.astype(np.float32), auc)


def occlusion_square(height: int, width: int) -> tuple[int, int]:
    """The occlusion lens's default square (patch, stride): min(H, W) / 8 and half of that."""
    patch = max(1, round(min(height, width) / 8))
    return patch, max(1, patch // 2)


def box_upsample(values: np.ndarray, size: tuple[int, int], patch: int, stride: int) -> np.ndarray:
    """An occlusion map (rows, cols), one value per square, as a per-pixel map (H, W).

    Box upsampling: each pixel takes the mean of the values of every square that covers it
    (the square at (row, col) covers rows row·stride .. row·stride + patch − 1, likewise the
    columns); a pixel no square covers (the bottom and right remainders when (H − patch) is
    not a multiple of the stride) takes the value of the square whose centre is nearest.
    """

    def cover(length: int, count: int) -> np.ndarray:
        starts = np.arange(count) * stride
        pixels = np.arange(length)[:, None]
        weights = ((pixels >= starts) & (pixels < starts + patch)).astype(np.float64)
        centres = starts + (patch - 1) / 2
        for pixel in np.flatnonzero(weights.sum(axis=1) == 0):
            weights[pixel, int(np.argmin(np.abs(centres - pixel)))] = 1.0
        return weights / weights.sum(axis=1, keepdims=True)

    rows, cols = values.shape
    down, across = cover(size[0], rows), cover(size[1], cols)
    return (down @ np.asarray(values, np.float64) @ across.T).astype(np.float32)
