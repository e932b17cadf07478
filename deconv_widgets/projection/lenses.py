"""Lenses beside the projections: Grad-CAM, Guided Grad-CAM, occlusion (the cascade: sanity).

A target is an int (a class: the model's output before its softmax) or (layer, channel): that
channel's activation map, summed. Each function takes the Projector it serves.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import checks, incremental, rules
from .graph import LayerInfo
from .protocols import LensSource
from .sanity import Cascade, sanity_cascade, sanity_cascade_steps, spearman
from .steps import Pace, Step, Steps, resumed, run_steps

SIZES = ("layer", "input")
__all__ = [
    "Cascade",
    "Target",
    "gradcam",
    "gradcam_pair",
    "occlusion",
    "occlusion_steps",
    "resolve_target",
    "sanity_cascade",
    "sanity_cascade_steps",
    "spearman",
]


@dataclass(frozen=True)
class Target:
    """A checked target: a class (`layer` None) or a channel of a layer."""

    layer: str | None
    index: int

    def __str__(self) -> str:
        return f"class {self.index}" if self.layer is None else f"{self.layer} channel {self.index}"


# --------------------------------------------------------------------------- targets
def resolve_target(projector: LensSource, target: Any, above: LayerInfo | None = None) -> Target:
    """Check a target (TypeError/ValueError naming the choices); it must depend on `above`."""
    if checks.is_int(target):
        head = projector.require_head()
        if not 0 <= int(target) < head.classes:
            raise ValueError(
                f"class {target} is out of range: the model has {head.classes} classes; "
                f"choose 0..{head.classes - 1}"
            )
        resolved = Target(None, int(target))
    elif isinstance(target, tuple | list) and len(target) == 2 and isinstance(target[0], str):
        info = projector.layer_info(target[0])
        resolved = Target(info.name, projector.check_channel(info, target[1]))
    else:
        raise TypeError(
            f"target must be a class index (int) or (layer, channel), got "
            f"{type(target).__name__} {checks.shown(target)}"
        )
    if above is not None and above.name not in _layers_below(projector, resolved):
        above_names = [
            info.name
            for info in projector.layers
            if above.name in _layers_below(projector, Target(info.name, 0))
        ]
        raise ValueError(
            f"target {resolved} does not depend on layer {above.name!r} (it is below it or on "
            f"another branch); choose a target layer at or above it: {', '.join(above_names)}"
            + (" or a class" if projector.class_count else "")
        )
    return resolved


def _target_node(projector: LensSource, target: Target) -> Any:
    """The graph node whose output the target reads."""
    if target.layer is None:
        return projector.require_head().node
    return projector.graph.node_of[target.layer]


def _layers_below(projector: LensSource, target: Target) -> set[str]:
    """Names of the layers the target depends on (its own included)."""
    return {node.name for node in projector.graph.path(_target_node(projector, target))}


def _target_source(projector: LensSource, target: Target) -> Any:
    """The node whose output a target's score is read from (a softmax Dense: the one before)."""
    node = _target_node(projector, target)
    if target.layer is None and projector.require_head().drop_activation:
        producers = {n.output_id: n for n in projector.graph.nodes}
        return producers[node.input_ids[0]]
    return node


def _score(projector: LensSource, target: Target, value: Tensor, index: Tensor) -> Tensor:
    """The target's value (B,) from its tensor's value (traced)."""
    if target.layer is not None:
        return tf.reduce_sum(tf.gather(value, index, axis=-1), axis=[1, 2])
    return tf.gather(_class_scores(projector, value), index, axis=-1)


def _class_scores(projector: LensSource, value: Tensor) -> Tensor:
    """Every class's score (B, classes) from the head tensor's value (traced)."""
    head = projector.require_head()
    if head.drop_activation:  # the Dense's output before its softmax
        dense = head.node.layer
        value = tf.matmul(value, tf.cast(dense.kernel, value.dtype))
        if dense.use_bias:
            value = value + tf.cast(dense.bias, value.dtype)
    return value


def _compiled(projector: LensSource, key: tuple, build: Callable[[], Any]) -> Any:
    """Build (once per key) a compiled function of the Projector."""
    return projector.graph.compiled(key, build)


def _spec(projector: LensSource) -> Any:
    """The image batch signature."""
    return tf.TensorSpec((None, *projector.input_shape), tf.float32)


# --------------------------------------------------------------------------- Grad-CAM
def gradcam(
    projector: LensSource, image: Any, layer: str | LayerInfo, target: Any, size: str = "layer"
) -> np.ndarray:
    """relu(sum_k alpha_k A_k), alpha_k the mean over (i, j) of d target / d A_ijk."""
    info = projector.layer_info(layer)
    resolved = resolve_target(projector, target, above=info)
    checks.check_choice(size, SIZES, "size")
    batch = checks.image_batch(image, projector.input_shape)
    key = ("gradcam", info.name, resolved.layer)
    fn = _compiled(projector, key, lambda: _gradcam_fn(projector, info, resolved))
    cam = fn(tf.constant(batch), tf.constant(resolved.index, tf.int32))
    if size == "input":
        cam = tf.image.resize(cam[..., None], batch.shape[1:3], method="bilinear")[..., 0]
    return np.asarray(cam[0], np.float32)


def _gradcam_fn(projector: LensSource, info: LayerInfo, target: Target) -> Any:
    """image, index -> cam (1, H', W') for one (layer, target layer) pair."""
    targets = [projector.graph.node_of[info.name], _target_source(projector, target)]

    def fn(image: Tensor, index: Tensor) -> Tensor:
        with tf.GradientTape() as tape:
            tape.watch(image)  # records every op, trainable weights or not
            activation, value = projector.graph.run(image, targets)
            score = tf.reduce_sum(_score(projector, target, value, index))
        grads = tape.gradient(score, activation)
        alpha = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
        return tf.nn.relu(tf.reduce_sum(activation * alpha, axis=-1))

    signature = [_spec(projector), tf.TensorSpec((), tf.int32)]
    return tf.function(fn, input_signature=signature, autograph=False)


def guided_backprop(projector: LensSource, image: Any, target: Target) -> np.ndarray:
    """The gradient of the target with the guided ReLU rule: (H, W, C)."""
    if target.layer is not None:  # d sum(A_k) / d A = ones on channel k
        return projector.project(image, target.layer, target.index, "guided", seed="ones")
    return projector.project_class(image, target.index, "guided")


def guided_gradcam(
    projector: LensSource, image: Any, layer: str | LayerInfo, target: Any
) -> np.ndarray:
    """Guided backprop of the target times its Grad-CAM on `layer` resized to (H, W)."""
    return gradcam_pair(projector, image, layer, target)[1]


def gradcam_pair(
    projector: LensSource, image: Any, layer: str | LayerInfo, target: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(Grad-CAM at input size (H, W), Guided Grad-CAM (H, W, C)), the cam computed once."""
    info = projector.layer_info(layer)
    resolved = resolve_target(projector, target, above=info)
    cam = gradcam(projector, image, info, target, size="input")
    return cam, guided_backprop(projector, image, resolved) * cam[..., None]


# -------------------------------------------------------------------------- occlusion
def occlusion_grid(height: int, width: int, patch: int, stride: int) -> tuple[range, range]:
    """The rows and columns where the square's top-left corner goes."""
    return range(0, height - patch + 1, stride), range(0, width - patch + 1, stride)


def _check_occlusion(
    shape: Sequence[int], patch: Any, stride: Any, fill: Any, batch_size: Any, mean: np.ndarray
) -> tuple[int, int, np.ndarray, int]:
    """Checked (patch, stride, fill (C,), batch_size), with the defaults filled in."""
    height, width, channels = shape
    side = min(height, width)
    if patch is None:
        patch = max(1, round(side / 8))
    if not checks.is_int(patch) or not 1 <= patch <= side:
        raise ValueError(
            f"patch {checks.shown(patch)} does not fit the image ({height} x {width}); "
            f"choose an int 1..{side}"
        )
    if stride is None:
        stride = max(1, int(patch) // 2)
    if not checks.is_int(stride) or stride < 1:
        raise ValueError(f"stride {checks.shown(stride)} must be an int >= 1; choose 1..{side}")
    if fill is None:
        fill = mean
    values = np.asarray(fill, np.float64).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, channels)
    if values.size != channels:
        raise ValueError(
            f"fill must be one number or {channels} (one per channel), got {values.size} values"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"fill must be finite, got {checks.shown(fill)}; e.g. fill=0.5")
    if not checks.is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {checks.shown(batch_size)}")
    return int(patch), int(stride), values.astype(np.float32), int(batch_size)


def _scores_fn(projector: LensSource, target: Target) -> Any:
    """A function of images (B, H, W, C) and an index: the target's value (B,)."""
    source = _target_source(projector, target)

    def fn(images: Tensor, index: Tensor) -> Tensor:
        (value,) = projector.graph.run(images, [source])
        return _score(projector, target, value, index)

    signature = [_spec(projector), tf.TensorSpec((), tf.int32)]
    return tf.function(fn, input_signature=signature, autograph=False)


def class_scores(projector: LensSource, image: Any) -> np.ndarray:
    """The class head's output before its softmax (classes,), in one forward pass."""
    projector.require_head()

    def build() -> Any:
        source = _target_source(projector, Target(None, 0))

        def fn(images: Tensor) -> Tensor:
            (value,) = projector.graph.run(images, [source])
            return _class_scores(projector, value)

        return tf.function(fn, input_signature=[_spec(projector)], autograph=False)

    fn = _compiled(projector, ("class scores",), build)
    return fn(tf.constant(checks.image_batch(image, projector.input_shape))).numpy()[0]


def scores(projector: LensSource, images: np.ndarray, target: Target) -> np.ndarray:
    """The target's value on each image of a batch (N, H, W, C)."""
    fn = _compiled(projector, ("scores", target.layer), lambda: _scores_fn(projector, target))
    return fn(tf.constant(images), tf.constant(target.index, tf.int32)).numpy()


def occlusion(
    projector: LensSource,
    image: Any,
    target: Any,
    patch: int | None = None,
    stride: int | None = None,
    fill: Any = None,
    batch_size: int = 64,
    progress: Any = True,
) -> np.ndarray:
    """The target's value with a `fill` square at each position (rows, cols), batched."""
    steps = occlusion_steps(projector, image, target, patch, stride, fill, batch_size)
    first = next(steps)  # checks the arguments; tells how many positions there are
    shown_bar = progress if callable(progress) or first.total > batch_size else False
    return run_steps(resumed(first, steps), shown_bar, "occlusion", "pos")


def occlusion_steps(
    projector: LensSource,
    image: Any,
    target: Any,
    patch: int | None = None,
    stride: int | None = None,
    fill: Any = None,
    batch_size: int | None = 64,
) -> Steps[np.ndarray]:
    """`occlusion` in steps of `batch_size` positions; each step's value is the map so far.

    `batch_size` None: steps of about `steps.STEP_SECONDS` (a job's). The map (rows, cols) is
    NaN where no square was placed yet. The first step (done 0) comes once the arguments are
    checked.
    """
    resolved = resolve_target(projector, target)
    batch = checks.image_batch(image, projector.input_shape)
    mean = batch[0].mean(axis=(0, 1))
    patch, stride, fill, checked = _check_occlusion(
        batch.shape[1:], patch, stride, fill, 64 if batch_size is None else batch_size, mean
    )
    pace = Pace(None if batch_size is None else checked)
    rows, cols = occlusion_grid(batch.shape[1], batch.shape[2], patch, stride)
    corners = [(y, x) for y in rows for x in cols]
    out = np.full(len(corners), np.nan, np.float32)
    shape = (len(rows), len(cols))
    yield Step(0, len(corners), out.reshape(shape).copy())
    by_windows = _by_windows(projector, resolved, batch)
    start = 0
    while start < len(corners):
        chunk = corners[start : start + pace.size]
        pace.start()
        if by_windows is not None:
            out[start : start + len(chunk)] = by_windows(chunk, patch, fill)
        else:
            copies = np.repeat(batch, len(chunk), axis=0)
            for i, (y, x) in enumerate(chunk):
                copies[i, y : y + patch, x : x + patch, :] = fill
            out[start : start + len(chunk)] = scores(projector, copies, resolved)
        pace.took()
        start += len(chunk)
        yield Step(start, len(corners), out.reshape(shape).copy())
    return out.reshape(shape)


def _by_windows(projector: LensSource, target: Target, batch: np.ndarray) -> Any:
    """chunk, patch, fill -> scores by incremental inference, or None for other graphs."""
    node = _target_node(projector, target)
    path = projector.graph.path(node)
    trunk = [step for step in path if len(step.output.shape) == 4]
    head = path[len(trunk) :]
    if not trunk or any(len(step.output.shape) == 4 for step in head):
        return None
    if any(
        len(step.inputs) != 1 or step.inputs[0] is not before.output
        for before, step in zip([trunk[-1], *head], head, strict=False)
    ):
        return None
    steps = incremental.chain_steps(projector, trunk[-1])
    if steps is None:
        return None
    clean = projector.trace(batch, trunk[-1].name).values
    last = clean[trunk[-1].output_id]
    index = tf.constant(target.index, tf.int32)
    if target.layer is None:
        head_nodes = head[:-1] if projector.require_head().drop_activation else head

    def run(chunk: list[tuple[int, int]], patch: int, fill: np.ndarray) -> np.ndarray:
        boxes, windows = incremental.occluded_maps(steps, clean, chunk, patch, fill)
        if target.layer is not None:  # the channel's sum: clean, minus the window's, plus new
            total = float(last[..., target.index].sum())
            return np.array(
                [
                    total
                    + float(w[..., target.index].sum())
                    - float(last[b[0] : b[1] + 1, b[2] : b[3] + 1, target.index].sum())
                    for b, w in zip(boxes, windows, strict=True)
                ],
                np.float32,
            )
        value = tf.constant(
            np.stack([incremental.paste(last, b, w) for b, w in zip(boxes, windows, strict=True)])
        )
        for step in head_nodes:
            value = rules.call_as_in_model(step, [value])
        return _score(projector, target, value, index).numpy()

    return run
