"""The DeconvNet projection done explicitly with `deconv_widgets.ops`, one rung per step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from deconv_widgets import ops

from . import rules

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Projector
    from .graph import LayerInfo

RUNG_OPS = ("unpool", "rectify", "transpose_conv", "scale", "identity")


@dataclass(frozen=True)
class Rung:
    """One step on the way down: the layer, what was done, and the signal after it (H, W, C)."""

    layer: str
    op: str
    array: np.ndarray
    note: str = ""


def _pair(value: Any) -> tuple[int, int]:
    """A keras int-or-tuple argument as a pair."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


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


def _check_chain(projector: Projector, path: list) -> None:
    """Raise ValueError naming the first layer that makes the path branch."""
    consumers: dict[int, int] = {}
    for node in path:
        for tensor_id in node.input_ids:
            consumers[tensor_id] = consumers.get(tensor_id, 0) + 1
    for node in path:
        if len(node.inputs) != 1:
            raise ValueError(
                f"ladder needs a chain of layers, but {node.layer.name!r} "
                f"({type(node.layer).__name__}) merges {len(node.inputs)} branches; "
                "use Projector.project for this layer"
            )
        if consumers.get(node.output_id, 0) > 1:
            raise ValueError(
                f"ladder needs a chain of layers, but the output of {node.layer.name!r} "
                f"({type(node.layer).__name__}) feeds several layers; use Projector.project"
            )


def _conv_rung(layer: Any, signal: np.ndarray, layer_input: np.ndarray) -> np.ndarray:
    """The transposed convolution of a Conv2D with its own kernel (bias unused)."""
    if _pair(layer.dilation_rate) != (1, 1):
        raise ValueError(
            f"ladder cannot show layer {layer.name!r} (Conv2D with dilation_rate="
            f"{layer.dilation_rate}): ops.transpose_conv_steps has no dilation; use "
            "Projector.project"
        )
    steps = ops.transpose_conv_steps(
        signal[None],
        np.asarray(layer.kernel),
        output_shape=(1, *layer_input.shape),
        strides=_pair(layer.strides),
        padding=layer.padding.upper(),
    )
    return steps.output[0]


def ladder(
    projector: Projector,
    image: Any,
    layer: str | LayerInfo,
    channel: int,
    seed: str = "activation",
) -> list[Rung]:
    """Project one channel down step by step; the last rung equals project(deconvnet)."""
    from .engine import SEEDS

    info = projector.layer_info(layer)
    channel = projector._check_channel(info, channel)
    projector._check_choice(seed, SEEDS, "seed")
    plan = projector._plan(info)
    _check_chain(projector, plan.path)
    projector._check_method(plan, "deconvnet")
    cached = projector._forward(plan, projector._image_batch(image))
    values = {i: t.numpy()[0] for i, t in zip(plan.cached_ids, cached, strict=True)}
    signal = _seed_map(values[plan.node.output_id], channel, seed)
    rungs: list[Rung] = []
    for node in reversed(plan.path):
        layer_obj, name = node.layer, node.layer.name
        layer_input = values[node.input_ids[0]]
        rule, activation = rules.classify(layer_obj)
        if activation == "relu":
            signal = np.maximum(signal, 0.0)
            rungs.append(Rung(name, "rectify", signal, "relu(signal); forward mask ignored"))
        if rule == "conv":
            signal = _conv_rung(layer_obj, signal, layer_input)
            rungs.append(Rung(name, "transpose_conv", signal, "own kernel, bias unused"))
        elif rule == "maxpool":
            pool, strides = _pair(layer_obj.pool_size), layer_obj.strides
            strides = pool if strides is None else _pair(strides)
            padding = layer_obj.padding.upper()
            _, switches = ops.max_pool_with_switches(layer_input[None], pool, strides, padding)
            signal = ops.max_unpool(signal[None], switches, (1, *layer_input.shape))[0]
            rungs.append(Rung(name, "unpool", signal, "max unpooling with the switches"))
        elif rule == "avgpool":
            pool, strides = _pair(layer_obj.pool_size), layer_obj.strides
            strides = pool if strides is None else _pair(strides)
            signal = ops.avg_unpool(
                signal[None],
                (1, *layer_input.shape),
                pool,
                strides,
                layer_obj.padding.upper(),
                mode="adjoint",
            )[0]
            rungs.append(Rung(name, "unpool", signal, "average unpooling (adjoint)"))
        elif rule in ("bn", "rescale"):
            factor = rules.bn_scale(layer_obj).numpy() if rule == "bn" else float(layer_obj.scale)
            signal = (signal * factor).astype(np.float32)
            rungs.append(Rung(name, "scale", signal, f"times {rule} factor"))
        elif rule == "zeropad":
            (top, bottom), (left, right) = layer_obj.padding
            height, width = signal.shape[:2]
            signal = signal[top : height - bottom, left : width - right]
            rungs.append(Rung(name, "identity", signal, "crop (undo zero padding)"))
        elif rule == "crop":
            (top, bottom), (left, right) = layer_obj.cropping
            signal = np.pad(signal, ((top, bottom), (left, right), (0, 0)))
            rungs.append(Rung(name, "identity", signal, "pad (undo cropping)"))
        elif rule == "identity":
            if activation != "relu":
                rungs.append(Rung(name, "identity", signal, "identity at inference"))
        else:
            raise ValueError(
                f"ladder has no explicit step for layer {name!r} ({type(layer_obj).__name__}); "
                "use Projector.project for this layer"
            )
    return rungs
