"""The Projector's compiled plans: per target layer, its forward function and forward cache.

A plan holds what is compiled (once) for one target layer: the path from the input, the
tensors its forward pass keeps for the backward ones, the forward tf.function and, per method,
the backward tf.functions that carry a seed from the layer down to the input (`_propagate`,
rule by rule; LRP folds a BN into the convolution or dense layer before it).
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconv_widgets.methods import Method

from . import kinds, rules
from .graph import GraphNode, LayerInfo, ModelGraph, run_path, unreachable_input

CACHE_IMAGES = 4  # forward results kept per layer (least recently used goes first)
HEAD_PLAN = "\0class head"  # the plans' key of the class head (no layer has this name)


@dataclass
class LayerPlan:
    """Everything compiled for one target layer: its path, cached-tensor order, functions."""

    info: LayerInfo
    node: GraphNode
    path: list[GraphNode]
    cached_ids: list[int]  # ids of tensors the forward returns, in order (target output last)
    input_id: int
    forward: Any
    backward: dict[str, Any]
    cache: OrderedDict
    cached_specs: list  # TensorSpecs of the cached tensors (batch dimension None)
    target_forward: Any  # image batch -> the target layer's output only (for streaming)
    linear_top: bool = False  # the class head: its own softmax is not part of the target


_FOLDS_INTO = ("conv", "depthwise", "separable", "dense")  # kinds a BN after them folds into


def _bn_folds(path: list[GraphNode]) -> dict[int, GraphNode]:
    """LRP's canonisation: {output id of a linear conv/dense: the BN right after it}.

    A BN folds into the layer before it when that layer has no activation and the BN is the
    only consumer of its output on the path (a nested model's edge between them is skipped).
    """
    consumers: dict[int, int] = {}
    for node in path:
        for tensor_id in node.input_ids:
            consumers[tensor_id] = consumers.get(tensor_id, 0) + 1
    producer = {node.output_id: node for node in path}
    folds = {}
    for node in path:
        if kinds.kind_of(node.layer) is not kinds.BN or len(node.inputs) != 1:
            continue
        below = producer.get(node.input_ids[0])
        while (  # a nested model's edge between them is the identity
            below is not None
            and isinstance(below.layer, kinds.Alias)
            and consumers[below.output_id] == 1
        ):
            below = producer.get(below.input_ids[0])
        if (
            below is not None
            and consumers[below.output_id] == 1
            and getattr(kinds.kind_of(below.layer), "name", None) in _FOLDS_INTO
            and rules.nonlinearity_of(below.layer) is None
        ):
            folds[below.output_id] = node
    return folds


class CompiledPlans:
    """The plan machinery of the Projector (its base class): compile, cache, propagate.

    The Projector's `__init__` sets the attributes declared here.
    """

    graph: ModelGraph
    input_shape: tuple[int | None, ...]
    layers: list[LayerInfo]
    trace_count: int  # graphs traced so far
    forward_count: int  # forward passes actually run (cache misses)
    _plans: dict[str, LayerPlan]

    def _plan(self, info: LayerInfo) -> LayerPlan:
        """Build (once) the forward and backward functions of a target layer."""
        with self.graph.lock:
            if info.name not in self._plans:
                self._plans[info.name] = self._build_plan(info)
            return self._plans[info.name]

    def _build_plan(self, info: LayerInfo, node: GraphNode | None = None) -> LayerPlan:
        """The forward function and an empty cache for one target layer."""
        node = node if node is not None else self.graph.node_of[info.name]
        path = self.graph.path(node)
        self._check_reachable(info, path)
        input_id = id(self.graph.input)
        tensors: dict[int, Any] = {}
        for step in path:
            for tensor in step.inputs:
                tensors[id(tensor)] = tensor
        tensors.pop(input_id, None)
        tensors.pop(node.output_id, None)
        for conv_output in _bn_folds(path):  # no backward reads them: left to the optimiser
            tensors.pop(conv_output, None)  # (convolution and BN fuse in the forward pass)
        computed = [*tensors.values(), node.output]
        cached = [self.graph.input, *computed]  # the image itself first, the target output last
        cached_ids = [id(t) for t in cached]
        image_spec = tf.TensorSpec((None, *self.input_shape), tf.float32)

        def forward(image: Tensor) -> list[Tensor]:
            self.trace_count += 1
            with self.graph.lock, self.graph.safe_names():
                values = run_path(path, self.graph.input, image)
            return [image, *(values[i] for i in cached_ids[1:])]

        def target_forward(image: Tensor) -> Tensor:
            self.trace_count += 1
            with self.graph.lock, self.graph.safe_names():
                return run_path(path, self.graph.input, image)[node.output_id]

        plan = LayerPlan(
            info=info,
            node=node,
            path=path,
            cached_ids=cached_ids,
            input_id=input_id,
            forward=tf.function(forward, input_signature=[image_spec], autograph=False),
            backward={},
            cache=OrderedDict(),
            # the image is fed as float32 whatever the Input's dtype (Keras casts it inside)
            cached_specs=[tf.TensorSpec(self.graph.input.shape, tf.float32)]
            + [tf.TensorSpec(t.shape, t.dtype) for t in computed],
            target_forward=tf.function(
                target_forward, input_signature=[image_spec], autograph=False
            ),
        )
        return plan

    def _check_reachable(self, info: LayerInfo, path: list[GraphNode]) -> None:
        """Refuse a layer whose path passes a node with several outputs (a split)."""
        missing = unreachable_input(path, self.graph.input)
        if missing is None:
            return
        history = getattr(missing, "_keras_history", None)
        operation = getattr(history, "operation", None)
        name = getattr(operation, "name", "?")
        kind = type(operation).__name__
        valid = [
            other.name
            for other in self.layers
            if unreachable_input(self.graph.path(self.graph.node_of[other.name]), self.graph.input)
            is None
        ]
        raise ValueError(
            f"layer {info.name!r} is reached through {name!r} ({kind}), which has several "
            f"outputs; the Projector cannot pass a signal back through it; choose one of: "
            f"{', '.join(valid) or '(none)'}"
        )

    def _backward_fns(self, plan: LayerPlan, method: Method) -> dict[str, Any]:
        """The two compiled backward functions (channel seeds, explicit seeds) of a method."""
        with self.graph.lock:
            if method.key not in plan.backward:
                plan.backward[method.key] = self._build_backward(plan, method)
            return plan.backward[method.key]

    def _build_backward(self, plan: LayerPlan, method: Method) -> dict[str, Any]:
        """Compile the backward functions of one (layer, method)."""
        specs = plan.cached_specs
        target_shape = tuple(plan.node.output.shape[1:])

        def from_channels(cached: list[Tensor], channels: Tensor, seed_kind: Tensor) -> Tensor:
            self.trace_count += 1
            target = cached[-1][0]  # (H', W', C') of the first cached image
            maps = tf.transpose(tf.gather(target, channels, axis=-1), [2, 0, 1])  # (B, H', W')
            flat = tf.reshape(maps, [tf.shape(maps)[0], -1])
            size = tf.shape(flat)[1]
            best = tf.reduce_max(flat, axis=1, keepdims=True)
            positions = tf.range(size)[None, :]
            first = tf.reduce_min(tf.where(flat == best, positions, size), axis=1)
            max_maps = tf.reshape(tf.one_hot(first, size, dtype=maps.dtype), tf.shape(maps))
            seeds = tf.gather(tf.stack([maps, max_maps, tf.ones_like(maps)]), seed_kind)
            onehot = tf.one_hot(channels, target_shape[-1], dtype=maps.dtype)
            seed = seeds[..., None] * onehot[:, None, None, :]
            with self.graph.lock, self.graph.safe_names():
                return self._propagate(plan, method, cached, seed)

        def from_seed(cached: list[Tensor], seed: Tensor) -> Tensor:
            self.trace_count += 1
            with self.graph.lock, self.graph.safe_names():
                return self._propagate(plan, method, cached, seed)

        channel_spec = tf.TensorSpec((None,), tf.int32)
        kind_spec = tf.TensorSpec((), tf.int32)
        seed_spec = tf.TensorSpec((None, *target_shape), tf.float32)
        fns = {
            "channels": tf.function(
                from_channels, input_signature=[specs, channel_spec, kind_spec], autograph=False
            ),
            "seed": tf.function(from_seed, input_signature=[specs, seed_spec], autograph=False),
        }
        return fns

    def _propagate(
        self, plan: LayerPlan, method: Method, cached: list[Tensor], seed: Tensor
    ) -> Tensor:
        """Carry `seed` (B, H', W', C') from the target layer down to the input (traced)."""
        values = dict(zip(plan.cached_ids, cached, strict=True))
        grads: dict[int, Tensor] = {plan.node.output_id: seed}
        folds = _bn_folds(plan.path) if method.relevance else {}
        folded = {bn.output_id for bn in folds.values()}
        for step in reversed(plan.path):
            grad = grads.pop(step.output_id, None)
            if grad is None:
                continue
            if step.output_id in folded:  # LRP: this BN is folded into the layer below
                grads[step.input_ids[0]] = grad
                continue
            bn = folds.get(step.output_id)
            input_grads = rules.backward(
                step,
                grad,
                [values.get(i) for i in step.input_ids],  # None: not cached, no rule reads it
                values.get(step.output_id),
                method,
                drop_activation=plan.linear_top and step.output_id == plan.node.output_id,
                fold=None
                if bn is None
                else (kinds.bn_scale(bn.layer), kinds.bn_shift(bn.layer), values[bn.output_id]),
            )
            for tensor_id, input_grad in zip(step.input_ids, input_grads, strict=True):
                if tensor_id in grads:
                    grads[tensor_id] = grads[tensor_id] + input_grad
                else:
                    grads[tensor_id] = input_grad
        return grads[plan.input_id]  # every path starts at the model's input

    def _forward(self, plan: LayerPlan, batch: np.ndarray) -> list[Tensor]:
        """Cached forward pass of one image (1, H, W, C) up to the plan's layer."""
        key = hashlib.blake2b(batch.tobytes(), digest_size=16).hexdigest() + str(batch.shape)
        with self.graph.lock:
            if key in plan.cache:
                plan.cache.move_to_end(key)
                return plan.cache[key]
            result = list(plan.forward(tf.constant(batch)))
            self.forward_count += 1
            plan.cache[key] = result
            while len(plan.cache) > CACHE_IMAGES:
                plan.cache.popitem(last=False)
            return result
