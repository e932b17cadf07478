"""The DeconvNet projection done explicitly with `deconv_widgets.ops`, one rung per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import check_choice
from .graph import GraphNode, LayerInfo
from .kinds import kind_of
from .protocols import Traceable
from .rules import SEEDS, nonlinearity_of

RUNG_OPS = ("unpool", "rectify", "transpose_conv", "scale", "identity")


@dataclass(frozen=True)
class Rung:
    """One step on the way down: the layer, what was done, and the signal after it (H, W, C)."""

    layer: str
    op: str
    array: np.ndarray
    note: str = ""


def _seed_map(activation: np.ndarray, channel: int, seed: str) -> np.ndarray:
    """The seed (H', W', C') on the target layer: the chosen channel only, as the engine's."""
    channel_map = activation[..., channel]
    if seed == "activation":
        values = channel_map
    elif seed == "ones":
        values = np.ones_like(channel_map)
    else:  # "max": the first strongest position in row-major order
        values = np.zeros_like(channel_map)
        values[np.unravel_index(np.argmax(channel_map), channel_map.shape)] = 1.0
    result = np.zeros_like(activation)
    result[..., channel] = values
    return result


def _check_chain(path: Sequence[GraphNode]) -> None:
    """Raise ValueError naming the first layer that makes the path branch."""
    consumers: dict[int, int] = {}
    for node in path:
        for tensor_id in node.input_ids:
            consumers[tensor_id] = consumers.get(tensor_id, 0) + 1
    for node in path:
        if len(node.inputs) != 1:
            raise ValueError(
                f"ladder needs a chain of layers, but {node.name!r} "
                f"({node.kind}) merges {len(node.inputs)} branches; "
                "use Projector.project for this layer"
            )
        if consumers.get(node.output_id, 0) > 1:
            raise ValueError(
                f"ladder needs a chain of layers, but the output of {node.name!r} "
                f"({node.kind}) feeds several layers; use Projector.project"
            )


def ladder(
    projector: Traceable,
    image: Any,
    layer: str | LayerInfo,
    channel: int,
    seed: str = "activation",
) -> list[Rung]:
    """Project one channel down step by step; the last rung equals project(deconvnet)."""
    info = projector.layer_info(layer)
    channel = projector.check_channel(info, channel)
    check_choice(seed, SEEDS, "seed")
    trace = projector.trace(image, info)
    _check_chain(trace.path)
    values = trace.values
    signal = _seed_map(values[trace.path[-1].output_id], channel, seed)
    rungs: list[Rung] = []
    for node in reversed(trace.path):
        layer_obj, name = node.layer, node.name
        kind, act = kind_of(layer_obj), nonlinearity_of(layer_obj)
        if kind is None or kind.rung is None:
            raise ValueError(
                f"ladder has no explicit step for layer {name!r} ({node.kind}): it passes the "
                "signal by its own gradient (VJP) only; use Projector.project for this layer"
            )
        if act is not None and not act.rectifier:
            raise ValueError(
                f"ladder has no explicit step for the activation of layer {name!r} "
                f"({node.kind}), which is not a rectifier: it passes the signal by its own "
                "gradient (VJP) only; use Projector.project for this layer"
            )
        if act is not None:  # the DeconvNet's rule at every rectifier: max(g, 0)
            signal = np.maximum(signal, 0.0)
            rungs.append(Rung(name, "rectify", signal, "max(signal, 0); forward mask ignored"))
        step = kind.rung(layer_obj, signal, values[node.input_ids[0]])
        if step is not None:
            op, signal, note = step
            rungs.append(Rung(name, op, signal, note))
    return rungs
