"""Lenses beside the projections: Grad-CAM, Guided Grad-CAM, occlusion, the sanity cascade.

A target is an int (a class: the model's output before its softmax) or (layer, channel): that
channel's activation map, summed. Each function takes the Projector it serves.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from .. import methods
from . import checks, incremental, rules
from .graph import LayerInfo
from .topk import progress_reporter

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Projector

SIZES = ("layer", "input")


@dataclass(frozen=True)
class Target:
    """A checked target: a class (`layer` None) or a channel of a layer."""

    layer: str | None
    index: int

    def __str__(self) -> str:
        return f"class {self.index}" if self.layer is None else f"{self.layer} channel {self.index}"


@dataclass(frozen=True)
class Cascade:
    """One step of the sanity cascade: `layer` is the last one randomised (None: trained)."""

    layer: str | None
    projection: np.ndarray = field(repr=False)
    rho: float  # Spearman rank correlation of |projection| with the trained model's


# --------------------------------------------------------------------------- targets
def resolve_target(projector: Projector, target: Any, above: LayerInfo | None = None) -> Target:
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


def _target_node(projector: Projector, target: Target) -> Any:
    """The graph node whose output the target reads."""
    if target.layer is None:
        return projector.require_head().node
    return projector.graph.node_of[target.layer]


def _layers_below(projector: Projector, target: Target) -> set[str]:
    """Names of the layers the target depends on (its own included)."""
    return {node.name for node in projector.graph.path(_target_node(projector, target))}


def _target_source(projector: Projector, target: Target) -> Any:
    """The node whose output a target's score is read from (a softmax Dense: the one before)."""
    node = _target_node(projector, target)
    if target.layer is None and projector.require_head().drop_activation:
        producers = {n.output_id: n for n in projector.graph.nodes}
        return producers[node.input_ids[0]]
    return node


def _score(projector: Projector, target: Target, value: Tensor, index: Tensor) -> Tensor:
    """The target's value (B,) from its tensor's value (traced)."""
    if target.layer is not None:
        return tf.reduce_sum(tf.gather(value, index, axis=-1), axis=[1, 2])
    return tf.gather(_class_scores(projector, value), index, axis=-1)


def _class_scores(projector: Projector, value: Tensor) -> Tensor:
    """Every class's score (B, classes) from the head tensor's value (traced)."""
    head = projector.require_head()
    if head.drop_activation:  # the Dense's output before its softmax
        dense = head.node.layer
        value = tf.matmul(value, tf.cast(dense.kernel, value.dtype))
        if dense.use_bias:
            value = value + tf.cast(dense.bias, value.dtype)
    return value


def _compiled(projector: Projector, key: tuple, build: Callable[[], Any]) -> Any:
    """Build (once per key) a compiled function of the Projector."""
    return projector.graph.compiled(key, build)


def _spec(projector: Projector) -> Any:
    """The image batch signature."""
    return tf.TensorSpec((None, *projector.input_shape), tf.float32)


# --------------------------------------------------------------------------- Grad-CAM
def gradcam(
    projector: Projector, image: Any, layer: str | LayerInfo, target: Any, size: str = "layer"
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


def _gradcam_fn(projector: Projector, info: LayerInfo, target: Target) -> Any:
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


def guided_backprop(projector: Projector, image: Any, target: Target) -> np.ndarray:
    """The gradient of the target with the guided ReLU rule: (H, W, C)."""
    if target.layer is not None:  # d sum(A_k) / d A = ones on channel k
        return projector.project(image, target.layer, target.index, "guided", seed="ones")
    return projector.project_class(image, target.index, "guided")


def guided_gradcam(
    projector: Projector, image: Any, layer: str | LayerInfo, target: Any
) -> np.ndarray:
    """Guided backprop of the target times its Grad-CAM on `layer` resized to (H, W)."""
    return gradcam_pair(projector, image, layer, target)[1]


def gradcam_pair(
    projector: Projector, image: Any, layer: str | LayerInfo, target: Any
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


def _scores_fn(projector: Projector, target: Target) -> Any:
    """A function of images (B, H, W, C) and an index: the target's value (B,)."""
    source = _target_source(projector, target)

    def fn(images: Tensor, index: Tensor) -> Tensor:
        (value,) = projector.graph.run(images, [source])
        return _score(projector, target, value, index)

    signature = [_spec(projector), tf.TensorSpec((), tf.int32)]
    return tf.function(fn, input_signature=signature, autograph=False)


def class_scores(projector: Projector, image: Any) -> np.ndarray:
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


def scores(projector: Projector, images: np.ndarray, target: Target) -> np.ndarray:
    """The target's value on each image of a batch (N, H, W, C)."""
    fn = _compiled(projector, ("scores", target.layer), lambda: _scores_fn(projector, target))
    return fn(tf.constant(images), tf.constant(target.index, tf.int32)).numpy()


def occlusion(
    projector: Projector,
    image: Any,
    target: Any,
    patch: int | None = None,
    stride: int | None = None,
    fill: Any = None,
    batch_size: int = 64,
    progress: Any = True,
) -> np.ndarray:
    """The target's value with a `fill` square at each position (rows, cols), batched."""
    resolved = resolve_target(projector, target)
    batch = checks.image_batch(image, projector.input_shape)
    mean = batch[0].mean(axis=(0, 1))
    patch, stride, fill, batch_size = _check_occlusion(
        batch.shape[1:], patch, stride, fill, batch_size, mean
    )
    rows, cols = occlusion_grid(batch.shape[1], batch.shape[2], patch, stride)
    corners = [(y, x) for y in rows for x in cols]
    out = np.empty(len(corners), np.float32)
    shown_bar = progress if callable(progress) or len(corners) > batch_size else False
    update, close = progress_reporter(shown_bar, len(corners), "occlusion", "pos")
    by_windows = _by_windows(projector, resolved, batch)
    try:
        for start in range(0, len(corners), batch_size):
            chunk = corners[start : start + batch_size]
            if by_windows is not None:
                out[start : start + len(chunk)] = by_windows(chunk, patch, fill)
            else:
                copies = np.repeat(batch, len(chunk), axis=0)
                for i, (y, x) in enumerate(chunk):
                    copies[i, y : y + patch, x : x + patch, :] = fill
                out[start : start + len(chunk)] = scores(projector, copies, resolved)
            update(start + len(chunk))
    finally:
        close()
    return out.reshape(len(rows), len(cols))


def _by_windows(projector: Projector, target: Target, batch: np.ndarray) -> Any:
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


# ------------------------------------------------------------------ the sanity cascade
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two arrays (ties share their mean rank); 0 if constant."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float(np.dot(ra, ra)) * float(np.dot(rb, rb)))
    if denominator == 0.0:
        return 0.0
    return float(np.clip(np.dot(ra, rb) / denominator, -1.0, 1.0))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of the values, ties given their mean rank."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    ranks = np.empty(len(values), np.float64)
    ranks[order] = ((starts + ends + 1) / 2.0)[group]
    return ranks


# weight name -> the layer attributes that may hold its initializer
_INITIALIZERS = {
    "kernel": ("kernel_initializer", "depthwise_initializer"),
    "depthwise_kernel": ("depthwise_initializer",),
    "pointwise_kernel": ("pointwise_initializer",),
}


def fresh_weights(layer: Any, random_seed: int) -> list[np.ndarray]:
    """New values for each weight of `layer` from its own initializers, seeded."""
    values = []
    for number, variable in enumerate(layer.weights):
        name = variable.name.split("/")[-1]
        initializer = None
        for attribute in _INITIALIZERS.get(name, (f"{name}_initializer",)):
            initializer = getattr(layer, attribute, None)
            if initializer is not None:
                break
        if initializer is None:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) has no initializer for its "
                f"weight {name!r}, so the sanity cascade cannot re-initialise it; pick a layer "
                "below it"
            )
        config = initializer.get_config()
        if "seed" in config:
            config["seed"] = random_seed * 1009 + number
            initializer = type(initializer).from_config(config)
        shape = tuple(int(d) for d in variable.shape)
        values.append(np.asarray(initializer(shape, dtype=variable.dtype)))
    return values


def twin_of(model: keras.Model) -> keras.Model:
    """A copy of the model with its own weights (equal to the model's now)."""
    try:
        twin = keras.models.clone_model(model, recursive=True)  # nested models copied too
    except Exception as err:  # custom layers without get_config, for one
        raise ValueError(
            f"the sanity cascade works on a copy of the model, and keras.models.clone_model "
            f"could not copy {model.name!r}: {type(err).__name__}: {err}"
        ) from err
    twin.set_weights(model.get_weights())
    return twin


def sanity_cascade(
    projector: Projector,
    image: Any,
    layer: str | LayerInfo,
    channel: int,
    method: str | methods.Method = "guided",
    random_seed: int = 0,
    progress: Any = False,
) -> list[Cascade]:
    """Project again after re-initialising one more layer each step, from `layer` down."""
    info = projector.layer_info(layer)
    channel = projector.check_channel(info, channel)
    method = methods.get(method)
    if not checks.is_int(random_seed):
        raise TypeError(f"random_seed must be an int, got {checks.shown(random_seed)}")
    trained = projector.project(image, info, channel, method)
    twin = type(projector)(twin_of(projector.model))  # a Projector of its own
    path = twin.graph.path(twin.graph.node_of[info.name])
    layers: list[Any] = []  # (the layer's name in `layers`, the layer), top first
    for node in reversed(path):
        if node.layer.weights and all(node.layer is not seen for _, seen in layers):
            layers.append((node.name, node.layer))
    steps = [Cascade(None, trained, 1.0)]
    magnitude = np.abs(trained).sum(axis=-1)
    update, close = progress_reporter(progress, len(layers), "sanity cascade", "layer")
    try:
        for number, (twin_name, twin_layer) in enumerate(layers):
            layer_random_seed = int(random_seed) * 7919 + number
            for variable, value in zip(
                twin_layer.weights, fresh_weights(twin_layer, layer_random_seed), strict=True
            ):
                variable.assign(value)
            twin.clear_cache()
            projection = twin.project(image, info.name, channel, method)
            rho = spearman(np.abs(projection).sum(axis=-1), magnitude)
            steps.append(Cascade(twin_name, projection, rho))
            update(number + 1)
    finally:
        close()
    return steps
