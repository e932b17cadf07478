"""TransposeConvView: tf.nn.conv2d_transpose taken apart into its four steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .. import ops
from .._tf import tf
from ._base import BaseWidget, IntSetting, SizeSetting, TextSetting, esm
from ._grids import MAX_GRID_SIDE, grid_payload, grid_text, parse_grid

PADDINGS = ("VALID", "SAME")
ROUNDTRIP_RANDOM_SEED = 0


def zero_marks(height: int, width: int, stride: tuple[int, int]) -> np.ndarray:
    """Marks of a zero-inserted grid: "zero" where a stride-1 zero was inserted."""
    marks = np.full((height, width), "zero", dtype=object)
    marks[:: stride[0], :: stride[1]] = ""
    return marks


def pad_marks(inner: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]]) -> np.ndarray:
    """Marks of a padded grid: "pad" on the border added, the inner marks inside."""
    (top, bottom), (left, right) = pads
    h, w = inner.shape
    marks = np.full((h + top + bottom, w + left + right), "pad", dtype=object)
    marks[top : top + h, left : left + w] = inner
    return marks


def default_size(sizes: range, padding: str) -> int:
    """The output size Keras' Conv2DTranspose picks among the valid ones."""
    return sizes[0] if padding == "VALID" else sizes[-1]


class TransposeConvView(BaseWidget):
    """Edit y and the kernel, pick stride, padding and output size; see the four steps.

    Shows the result beside tf.nn.conv2d_transpose with their max abs difference, and the
    round trip conv -> transposed conv on a random image of the output's size (how much of
    it comes back). Later changes never raise: errors show in `status`, typed text is kept.
    """

    _esm = esm("transpose_conv_view")

    input_text = TextSetting("").tag(sync=True)
    """y, the forward conv's output: a 2-D grid as text, rows of numbers (at most 16 x 16). Set
    from Python or in the page (typed); bad text is kept and reported in `status`."""
    kernel_text = TextSetting("").tag(sync=True)
    """The 2-D kernel as text, rows of numbers (at most 16 x 16). Set from Python or in the page
    (typed); bad text is kept and reported in `status`."""
    stride = IntSetting(2).tag(sync=True)
    """The stride along both axes, an int >= 1. Set from Python or in the page (number box,
    1..4); a bad value reverts, see `status`."""
    padding = TextSetting("VALID").tag(sync=True)
    """The padding, "VALID" or "SAME". Set from Python or in the page (menu); another value
    reverts, see `status`."""
    output_size = SizeSetting([0, 0]).tag(sync=True)
    """The output's [height, width], each one of `output_sizes`; snaps to Keras' choice when no
    longer valid. Set from Python or in the page (menus); an invalid one reverts."""
    output_sizes = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    """The valid output sizes, [[heights...], [widths...]], for y, kernel, stride and padding.
    Set by Python only."""
    result = traitlets.Dict().tag(sync=True)
    """Grids {height, width, data (row-major), marks}: flipped_kernel, zero_inserted, padded,
    output, tf_output; pads, max_abs_diff, roundtrip (js/src/lib/traits.js). Set by Python only."""

    def __init__(
        self,
        y: Any = None,
        kernel: Any = None,
        stride: int = 2,
        padding: str = "VALID",
        output_size: tuple[int, int] | None = None,
    ) -> None:
        """Start on 2-D y and kernel (defaults: 3x3 y, 3x3 kernel); ValueError if invalid."""
        super().__init__()
        y = np.arange(1, 10, dtype=np.float32).reshape(3, 3) if y is None else y
        if kernel is None:
            kernel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
        y, kernel = np.asarray(y, np.float32), np.asarray(kernel, np.float32)
        if y.ndim != 2 or kernel.ndim != 2:
            raise ValueError(f"y and kernel must be 2-D grids, got {y.shape} and {kernel.shape}")
        if max(y.shape + kernel.shape) > MAX_GRID_SIDE:
            raise ValueError(
                f"y {y.shape} or kernel {kernel.shape} is too large to show; the largest "
                f"allowed is {MAX_GRID_SIDE}x{MAX_GRID_SIDE}"
            )
        self._quietly(
            input_text=grid_text(y),
            kernel_text=grid_text(kernel),
            stride=stride,
            padding=padding,
            output_size=list(output_size) if output_size is not None else [0, 0],
        )
        self._update(keep_size=output_size is not None)
        self._ready = True

    def _update(self, keep_size: bool = True) -> None:
        """Recompute from the controls; the output size snaps to a valid one unless kept."""
        if self.padding not in PADDINGS:
            raise ValueError(f"unknown padding {self.padding!r}; choose one of: VALID, SAME")
        y = parse_grid(self.input_text, "y")
        kernel = parse_grid(self.kernel_text, "kernel")
        sizes = [
            ops.conv_transpose_output_sizes(y.shape[a], kernel.shape[a], self.stride, self.padding)
            for a in (0, 1)
        ]
        chosen = list(self.output_size)
        for axis in (0, 1):
            if chosen[axis] not in sizes[axis]:
                if keep_size and chosen[axis] != 0:
                    raise ValueError(
                        f"output size {chosen[axis]} is not possible along axis {axis}; "
                        f"choose one of: {', '.join(map(str, sizes[axis]))}"
                    )
                chosen[axis] = default_size(sizes[axis], self.padding)
        y4 = y[None, :, :, None]
        k4 = kernel[:, :, None, None]
        out_shape = (1, chosen[0], chosen[1], 1)
        steps = ops.transpose_conv_steps(y4, k4, out_shape, self.stride, self.padding)
        reference = tf.nn.conv2d_transpose(
            y4, k4, out_shape, strides=self.stride, padding=self.padding
        ).numpy()
        rng = np.random.default_rng(ROUNDTRIP_RANDOM_SEED)
        x = rng.uniform(-1, 1, out_shape).astype(np.float32)
        trip = ops.conv_roundtrip(x, k4, self.stride, self.padding)
        height, width = steps.zero_inserted.shape[1:3]
        zeros = zero_marks(height, width, (self.stride, self.stride))
        self._quietly(output_size=chosen, output_sizes=[list(s) for s in sizes])
        self.result = {
            "flipped_kernel": grid_payload(steps.flipped_kernel[:, :, 0, 0]),
            "zero_inserted": grid_payload(steps.zero_inserted[0, :, :, 0], zeros),
            "pads": [list(p) for p in steps.pads],
            "padded": grid_payload(steps.padded[0, :, :, 0], pad_marks(zeros, steps.pads)),
            "output": grid_payload(steps.output[0, :, :, 0]),
            "tf_output": grid_payload(reference[0, :, :, 0]),
            "max_abs_diff": float(np.max(np.abs(steps.output - reference))),
            "roundtrip": {
                "x": grid_payload(x[0, :, :, 0]),
                "back": grid_payload(trip.back[0, :, :, 0]),
                "best": grid_payload(trip.best[0, :, :, 0]),
                "recovered_fraction": float(trip.recovered_fraction),
                "cosine": float(trip.cosine),
                "relative_error": float(trip.relative_error),
                "rank": int(trip.rank),
                "dimension": int(trip.dimension),
            },
        }
        self.status = ""

    @traitlets.observe("stride", "padding")
    def _control_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, lambda: self._update(keep_size=False))

    @traitlets.observe("output_size")
    def _size_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, self._update)

    @traitlets.observe("input_text", "kernel_text")
    def _text_changed(self, _change: dict[str, Any]) -> None:
        if not self._reverting:
            self._safely(lambda: self._update(keep_size=False))  # typed text is kept
