"""A class head's view of an image: its top-k, and Zeiler & Fergus's Fig. 7 occlusion maps.

Fig. 7 of the paper slides a grey square over the image and reads, at each position, (b) the
summed activation of the strongest unit of a layer (the channel strongest on the whole image),
(d) the probability of the true class, and (e) the most probable class. `occlusion_maps`
returns the three from one forward pass per occluded copy (batched): the unit's layer and the
class head are read from the same pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deconv_widgets._tf import Tensor, tf

from . import checks
from .graph import LayerInfo
from .lenses import (
    Target,
    _check_occlusion,
    _class_scores,
    _compiled,
    _spec,
    _target_source,
    occlusion_grid,
    resolve_target,
)
from .protocols import LensSource
from .steps import Pace, Step, Steps, resumed, run_steps


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64 then float32 (stable for large logits)."""
    shifted = np.asarray(scores, np.float64) - np.max(scores, axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def probabilities(projector: LensSource, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Softmax over the class head for a batch of model inputs (N, H, W, C): (N, classes)."""
    projector.require_head()

    def build() -> Any:
        source = _target_source(projector, Target(None, 0))

        def fn(batch: Tensor) -> Tensor:
            (value,) = projector.graph.run(batch, [source])
            return tf.nn.softmax(_class_scores(projector, value), axis=-1)

        return tf.function(fn, input_signature=[_spec(projector)], autograph=False)

    fn = _compiled(projector, ("class probabilities",), build)
    parts = [
        fn(tf.constant(images[start : start + batch_size])).numpy()
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, projector.class_count or 0))


def top_classes(projector: LensSource, image: Any, k: int = 5) -> list[tuple[int, float]]:
    """The k most probable classes of one model input: [(class, probability)], best first."""
    if not checks.is_int(k) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {checks.shown(k)}")
    batch = checks.image_batch(image, projector.input_shape)
    row = probabilities(projector, batch)[0]
    order = np.argsort(-row, kind="stable")[: int(k)]
    return [(int(c), float(row[c])) for c in order]


@dataclass(frozen=True)
class OcclusionMaps:
    """Fig. 7's maps, indexed by the square's position (rows, cols) as in `occlusion`."""

    layer: str
    channel: int  # the unit: the layer's channel with the largest activation on the image
    target: int  # the class whose probability `probability` maps
    patch: int
    stride: int
    unit: np.ndarray = field(repr=False)  # (rows, cols) the unit's summed activation
    probability: np.ndarray = field(repr=False)  # (rows, cols) softmax probability of target
    most_probable: np.ndarray = field(repr=False)  # (rows, cols) int: the argmax class
    unoccluded: tuple[float, float, int]  # (unit, probability, argmax) on the whole image


def _maps_fn(projector: LensSource, info: LayerInfo) -> Any:
    """Images -> each channel's summed and peak activation of `info` (B, C'), probabilities."""
    node = projector.graph.node_of[info.name]
    source = _target_source(projector, Target(None, 0))

    def fn(images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        activation, head = projector.graph.run(images, [node, source])
        sums = tf.reduce_sum(activation, axis=[1, 2])
        peaks = tf.reduce_max(activation, axis=[1, 2])
        return sums, peaks, tf.nn.softmax(_class_scores(projector, head), axis=-1)

    return tf.function(fn, input_signature=[_spec(projector)], autograph=False)


def occlusion_maps(
    projector: LensSource,
    image: Any,
    layer: str | LayerInfo,
    target: int | None = None,
    patch: int | None = None,
    stride: int | None = None,
    fill: Any = None,
    batch_size: int = 64,
    progress: Any = True,
) -> OcclusionMaps:
    """Fig. 7's three maps on one model input (see `Projector.occlusion_maps`)."""
    steps = occlusion_maps_steps(projector, image, layer, target, patch, stride, fill, batch_size)
    first = next(steps)  # checks the arguments; tells how many positions there are
    shown_bar = progress if callable(progress) or first.total > batch_size else False
    return run_steps(resumed(first, steps), shown_bar, "occlusion", "pos")


def occlusion_maps_steps(
    projector: LensSource,
    image: Any,
    layer: str | LayerInfo,
    target: int | None = None,
    patch: int | None = None,
    stride: int | None = None,
    fill: Any = None,
    batch_size: int | None = 64,
) -> Steps[OcclusionMaps]:
    """`occlusion_maps` in steps of `batch_size` positions; a step's value: the maps so far.

    `batch_size` None: steps of about `steps.STEP_SECONDS` (a job's).
    Positions not occluded yet are NaN in `unit` and `probability`, -1 in `most_probable`.
    The first step (done 0) comes once the arguments are checked.
    """
    info = projector.layer_info(layer)
    projector.require_head()
    batch = checks.image_batch(image, projector.input_shape)
    patch, stride, fill, checked = _check_occlusion(
        batch.shape[1:],
        patch,
        stride,
        fill,
        64 if batch_size is None else batch_size,
        batch[0].mean(axis=(0, 1)),
    )
    pace = Pace(None if batch_size is None else checked)
    fn = _compiled(projector, ("occlusion maps", info.name), lambda: _maps_fn(projector, info))
    whole_sums, whole_peaks, whole_probs = (t.numpy()[0] for t in fn(tf.constant(batch)))
    channel = int(np.argmax(whole_peaks))
    if target is None:
        target = int(np.argmax(whole_probs))
    target = resolve_target(projector, target).index
    rows, cols = occlusion_grid(batch.shape[1], batch.shape[2], patch, stride)
    corners = [(y, x) for y in rows for x in cols]
    unit = np.full(len(corners), np.nan, np.float32)
    probability = np.full(len(corners), np.nan, np.float32)
    most_probable = np.full(len(corners), -1, np.int32)
    shape = (len(rows), len(cols))

    def maps() -> OcclusionMaps:
        return OcclusionMaps(
            layer=info.name,
            channel=channel,
            target=target,
            patch=patch,
            stride=stride,
            unit=unit.reshape(shape).copy(),
            probability=probability.reshape(shape).copy(),
            most_probable=most_probable.reshape(shape).copy(),
            unoccluded=(
                float(whole_sums[channel]),
                float(whole_probs[target]),
                int(np.argmax(whole_probs)),
            ),
        )

    yield Step(0, len(corners), maps())
    start = 0
    while start < len(corners):
        chunk = corners[start : start + pace.size]
        pace.start()
        copies = np.repeat(batch, len(chunk), axis=0)
        for i, (y, x) in enumerate(chunk):
            copies[i, y : y + patch, x : x + patch, :] = fill
        sums, _, probs = (t.numpy() for t in fn(tf.constant(copies)))
        done = slice(start, start + len(chunk))
        unit[done] = sums[:, channel]
        probability[done] = probs[:, target]
        most_probable[done] = np.argmax(probs, axis=-1)
        pace.took()
        start += len(chunk)
        yield Step(start, len(corners), maps())
    return maps()
