"""Occlusion by incremental inference: recompute only what the grey square changes.

A square at (y, x) changes a layer's map only inside a window that grows with each layer's
kernel (Nakandala et al. 2019 call this incremental view maintenance). For a chain of
convolutions, poolings and pointwise layers the window of each layer follows from the one
below, so each occluded copy costs the windows' arithmetic instead of a whole forward pass;
outside the windows every value is the clean image's. Other graphs take full forward passes.
"""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import rules

if TYPE_CHECKING:  # pragma: no cover
    from .protocols import GraphSource

POINTWISE = ("identity", "bn", "rescale")


@dataclass(frozen=True)
class Window:
    """A kernel's geometry along both axes: size (dilated), stride, padding before."""

    size: tuple[int, int]
    stride: tuple[int, int]
    before: tuple[int, int]
    pad_value: float  # what padding adds: 0 for a convolution, -inf for a max pool

    def outputs(self, axis: int, low: int, high: int, count: int) -> tuple[int, int]:
        """The output rows [i0, i1] whose inputs meet input rows [low, high], clipped."""
        size, stride, before = self.size[axis], self.stride[axis], self.before[axis]
        first = max(0, -(-(low + before - size + 1) // stride))
        last = min(count - 1, (high + before) // stride)
        return first, last

    def inputs(self, axis: int, first: int, last: int) -> tuple[int, int]:
        """The input rows [start, stop) that output rows [first, last] read (may pass edges)."""
        start = first * self.stride[axis] - self.before[axis]
        return start, last * self.stride[axis] - self.before[axis] + self.size[axis]


@dataclass(frozen=True)
class Step:
    """One layer of the chain: a window operation (on a cut-out, VALID) or a pointwise one."""

    apply: Callable[[np.ndarray], np.ndarray]
    window: Window | None
    in_id: int
    out_id: int


def _window_of(
    layer: Any, rule: str, in_shape: Sequence[int], out_shape: Sequence[int]
) -> Window | None:
    """The Window of a conv or pool layer, or None when this module has no rule for it."""
    if rule == "conv":
        dilation = tuple(layer.dilation_rate)
        size = tuple((k - 1) * d + 1 for k, d in zip(layer.kernel_size, dilation, strict=True))
        pad_value = 0.0
    elif rule == "maxpool" or (rule == "avgpool" and layer.padding == "valid"):
        size = tuple(layer.pool_size)
        pad_value = -np.inf
    else:
        return None  # an average pool with padding="same" divides by its own window count
    stride = tuple(layer.strides)
    if layer.padding == "valid":
        before = (0, 0)
    else:
        before = tuple(
            max((o - 1) * s + k - i, 0) // 2
            for i, o, s, k in zip(in_shape, out_shape, stride, size, strict=True)
        )
    return Window(size, stride, before, pad_value)


def _conv_apply(layer: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The layer's convolution on a cut-out with no padding, bias and activation included."""

    def apply(crop: np.ndarray) -> np.ndarray:
        out = tf.nn.conv2d(
            crop, layer.kernel, [1, *layer.strides, 1], "VALID", dilations=layer.dilation_rate
        )
        if layer.use_bias:
            out = out + layer.bias
        return np.asarray(layer.activation(out))

    return apply


def _pool_apply(layer: Any, rule: str) -> Callable[[np.ndarray], np.ndarray]:
    """The layer's pooling on a cut-out with no padding."""
    pool = tf.nn.max_pool2d if rule == "maxpool" else tf.nn.avg_pool2d
    return lambda crop: np.asarray(pool(crop, layer.pool_size, layer.strides, "VALID"))


def _pointwise_apply(node: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A pointwise layer (BN, ReLU, ...) applied to any cut-out."""
    return lambda crop: np.asarray(rules.call_as_in_model(node, [tf.constant(crop)]))


def chain_steps(projector: GraphSource, node: Any) -> list[Step] | None:
    """The steps from the input to `node` when they form a chain this module handles."""
    steps, previous = [], id(projector.graph.input)
    for step in projector.graph.path(node):
        if len(step.inputs) != 1 or step.input_ids[0] != previous:
            return None
        rule, _ = rules.classify(step.layer)
        if rule in POINTWISE:
            steps.append(Step(_pointwise_apply(step), None, previous, step.output_id))
        elif rule in ("conv", "maxpool", "avgpool"):
            shapes = step.inputs[0].shape[1:3], step.output.shape[1:3]
            if None in (*shapes[0], *shapes[1]):
                return None
            window = _window_of(step.layer, rule, *shapes)
            if window is None:
                return None
            apply = _conv_apply(step.layer) if rule == "conv" else _pool_apply(step.layer, rule)
            steps.append(Step(apply, window, previous, step.output_id))
        else:
            return None
        previous = step.output_id
    return steps


def _square(corner: tuple[int, int], patch: int) -> tuple[int, int, int, int]:
    """The occluding square's box (r0, r1, c0, c1), inclusive."""
    return corner[0], corner[0] + patch - 1, corner[1], corner[1] + patch - 1


Box = tuple[int, int, int, int]  # (r0, r1, c0, c1), inclusive


def _geometry(
    steps: list[Step], clean: dict[int, np.ndarray], corner: tuple[int, int], patch: int
) -> list[tuple[Box, Box | None]]:
    """Per step: (output box, input cut-out box) of one square; boxes are (r0, r1, c0, c1)."""
    box = _square(corner, patch)
    plan: list[tuple[Box, Box | None]] = []
    for step in steps:
        if step.window is None:
            plan.append((box, None))
            continue
        height, width = clean[step.out_id].shape[:2]
        r0, r1 = step.window.outputs(0, box[0], box[1], height)
        c0, c1 = step.window.outputs(1, box[2], box[3], width)
        cut = (*step.window.inputs(0, r0, r1), *step.window.inputs(1, c0, c1))
        plan.append(((r0, r1, c0, c1), cut))
        box = (r0, r1, c0, c1)
    return plan


def _cut_out(clean: np.ndarray, cut: tuple[int, int, int, int], pad_value: float) -> np.ndarray:
    """clean[r0:r1, c0:c1] with `pad_value` where the cut passes the map's edges."""
    r0, r1, c0, c1 = cut
    out = np.full((r1 - r0, c1 - c0, clean.shape[-1]), pad_value, np.float32)
    height, width = clean.shape[:2]
    a0, a1, b0, b1 = max(r0, 0), min(r1, height), max(c0, 0), min(c1, width)
    out[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] = clean[a0:a1, b0:b1]
    return out


def occluded_maps(
    steps: list[Step],
    clean: dict[int, np.ndarray],
    corners: list[tuple[int, int]],
    patch: int,
    fill: np.ndarray,
) -> tuple[list[Box], list[np.ndarray]]:
    """The last step's changed window for each corner: (boxes, windows (N, h, w, C)).

    Corners whose windows have the same shapes at every step are computed as one batch.
    """
    plans = [_geometry(steps, clean, corner, patch) for corner in corners]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, plan in enumerate(plans):
        groups[tuple((b[1] - b[0], b[3] - b[2]) for b, _ in plan)].append(index)
    boxes: list[Any] = [None] * len(corners)
    windows: list[Any] = [None] * len(corners)
    for members in groups.values():
        values = np.broadcast_to(fill, (len(members), patch, patch, len(fill))).astype(np.float32)
        below = [_square(corners[member], patch) for member in members]
        for number, step in enumerate(steps):
            if step.window is None:
                values = step.apply(values)
                continue
            crops = []
            for member, v, low in zip(members, values, below, strict=True):
                cut = plans[member][number][1]
                assert cut is not None  # a window step always has its cut-out
                crop = _cut_out(clean[step.in_id], cut, step.window.pad_value)
                top, left = low[0] - cut[0], low[2] - cut[2]
                crop[top : top + v.shape[0], left : left + v.shape[1]] = v
                crops.append(crop)
            values = step.apply(np.stack(crops))
            below = [plans[member][number][0] for member in members]
        for member, value, box in zip(members, values, below, strict=True):
            boxes[member], windows[member] = box, value
    return boxes, windows


def paste(clean: np.ndarray, box: tuple[int, int, int, int], window: np.ndarray) -> np.ndarray:
    """A copy of a clean map with `window` at `box`."""
    out = clean.copy()
    out[box[0] : box[1] + 1, box[2] : box[3] + 1] = window
    return out
