"""The sanity cascade (Adebayo et al. 2018): project again as the model's layers are randomised.

From the projected layer down, one more layer's weights are re-drawn from its own initializers
at each step (on a copy of the model); Spearman's rank correlation of each projection's
magnitude with the trained model's says how much the picture depends on the learned weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .. import methods
from . import checks
from .graph import LayerInfo
from .protocols import LensSource
from .steps import Step, Steps, run_steps


@dataclass(frozen=True)
class Cascade:
    """One step of the sanity cascade: `layer` is the last one randomised (None: trained)."""

    layer: str | None
    projection: np.ndarray = field(repr=False)
    rho: float  # Spearman rank correlation of |projection| with the trained model's


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
    projector: LensSource,
    image: Any,
    layer: str | LayerInfo,
    channel: int,
    method: str | methods.Method = "guided",
    random_seed: int = 0,
    progress: Any = False,
) -> list[Cascade]:
    """Project again after re-initialising one more layer each step, from `layer` down."""
    steps = sanity_cascade_steps(projector, image, layer, channel, method, random_seed)
    return run_steps(steps, progress, "sanity cascade", "layer")


def sanity_cascade_steps(
    projector: LensSource,
    image: Any,
    layer: str | LayerInfo,
    channel: int,
    method: str | methods.Method = "guided",
    random_seed: int = 0,
) -> Steps[list[Cascade]]:
    """`sanity_cascade` in steps, one layer re-initialised each; a step's value: the steps so far.

    The first step (done 0) carries the trained model's projection.
    """
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
    yield Step(0, len(layers), list(steps))
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
        yield Step(number + 1, len(layers), list(steps))
    return steps
