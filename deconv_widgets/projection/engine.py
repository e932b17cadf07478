"""The Projector: DeconvNet, guided backprop and saliency projections of any channel."""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from deconv_widgets import methods
from deconv_widgets.methods import Method

from . import checks, classifier, faithfulness, kinds, lenses, rules
from .graph import (
    ClassHead,
    GraphNode,
    LayerInfo,
    ModelGraph,
    Trace,
    check_channels_last,
    class_head,
    forward_nodes,
    functional_of,
    layer_infos,
    receptive_fields,
    run_path,
    unreachable_input,
)
from .ladder import Rung, ladder
from .loading import model_from
from .topk import TopK, top_k

CHUNK = 64  # channels per batched backward call (bounds memory)
CACHE_IMAGES = 4  # forward results kept per layer (least recently used goes first)
HEAD_PLAN = "\0class head"  # the plans' key of the class head (no layer has this name)


@dataclass
class _LayerPlan:
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


class Projector:
    """Project any channel of a Keras CNN back to pixel space (Zeiler & Fergus, 2014).

    `layers` lists every layer with a 4-D output, the input layer excluded.
    """

    def __init__(self, model: keras.Model | str | os.PathLike) -> None:
        """Inspect `model` (one image input, or a .keras path loaded with safe_mode=True)."""
        model = model_from(model)
        self.model = model
        functional = functional_of(model)
        self.graph = ModelGraph(functional, forward_nodes(functional))
        """The model's layer graph and the functions compiled on it (lenses share them)."""
        check_channels_last(self.graph.nodes)
        self.input_shape: tuple[int | None, ...] = tuple(self.graph.input.shape[1:])
        self.layers: list[LayerInfo] = layer_infos(self.graph.functional, self.graph.nodes)
        self._fields = receptive_fields(self.graph.functional, self.graph.nodes)
        self._by_name = {info.name: info for info in self.layers}
        self._flat_outputs = {
            node.name: (node.kind, tuple(node.output.shape))
            for node in self.graph.nodes
            if len(node.output.shape) != 4
        }
        self._head: ClassHead | None = class_head(self.graph.functional, self.graph.nodes)
        # classes of the model's class head (an output of shape (N, classes)), else None
        self.class_count: int | None = self._head.classes if self._head else None
        self._plans: dict[str, _LayerPlan] = {}
        self.trace_count = 0  # graphs traced so far (tests assert no new ones on a switch)
        self.forward_count = 0  # forward passes actually run (cache misses)

    def receptive_box(self, layer: str | LayerInfo, y: int, x: int) -> tuple[int, int, int]:
        """(top, left, size) of the input square under position (y, x) of a layer's output.

        Args:
            layer: a 4-D layer, by name or LayerInfo.
            y: a row of the layer's output map.
            x: a column of it.

        Returns:
            The square's top row, left column and side in input pixels; it may reach past the
            image's borders (negative or too large coordinates).

        Raises:
            ValueError: an unknown layer (the message lists the names).
        """
        info = self.layer_info(layer)
        _, jump, centre = self._fields[self.graph.node_of[info.name].output_id]
        size = info.receptive_field
        offset = centre - (size - 1) / 2
        return round(offset + y * jump), round(offset + x * jump), size

    # ----------------------------------------------------------------- validation
    def layer_info(self, layer: str | LayerInfo) -> LayerInfo:
        """The LayerInfo of a layer given by name or LayerInfo.

        Raises:
            TypeError: a layer that is neither a name nor a LayerInfo.
            ValueError: an unknown layer, or one without an (H, W, C) output (the message
                lists the layers to choose from).
        """
        name = layer.name if isinstance(layer, LayerInfo) else layer
        names = ", ".join(info.name for info in self.layers)
        if not isinstance(name, str):
            raise TypeError(
                f"layer must be a name (str) or a LayerInfo, got {type(layer).__name__} "
                f"{checks.shown(layer)}; choose one of: {names}"
            )
        if name not in self._by_name:
            flat = self._flat_outputs.get(name)
            if flat is not None:
                kind, shape = flat
                raise ValueError(
                    f"layer {name!r} ({kind}) has output shape {shape}, with no spatial "
                    f"(H, W, C) channels to project; choose one of: {names}"
                )
            raise ValueError(f"unknown layer {checks.shown(name)}; choose one of: {names}")
        return self._by_name[name]

    def check_channel(self, layer: str | LayerInfo, channel: Any) -> int:
        """The channel as an int in range for the layer.

        Raises:
            TypeError: a channel that is not an int (bools, floats and text are refused).
            ValueError: a channel out of range; the message gives the range.
        """
        info = self.layer_info(layer)
        return checks.check_channel(channel, info.channels, info.name)

    def check_method(self, layer: str | LayerInfo, method: str | Method) -> Method:
        """The Method of a name or Method, checked for `layer` (ValueError listing the names)."""
        self.layer_info(layer)
        return methods.get(method)

    @staticmethod
    def _method_and_seed(method: str | Method, seed: Any) -> Method:
        """The Method, with `seed` checked against the seeds it accepts."""
        resolved = methods.get(method)
        checks.check_choice(seed, rules.SEEDS, "seed")
        if seed not in resolved.seeds:
            raise ValueError(
                f"method {resolved.key!r} does not start from seed {seed!r}; choose one of: "
                f"{', '.join(resolved.seeds)}"
            )
        return resolved

    def _image_batch(self, image: Any) -> np.ndarray:
        """An image (H, W, C) or (1, H, W, C), array or tensor, as float32 (1, H, W, C)."""
        return checks.image_batch(image, self.input_shape)

    # ---------------------------------------------------------------- compilation
    def _plan(self, info: LayerInfo) -> _LayerPlan:
        """Build (once) the forward and backward functions of a target layer."""
        with self.graph.lock:
            if info.name not in self._plans:
                self._plans[info.name] = self._build_plan(info)
            return self._plans[info.name]

    def _head_plan(self) -> _LayerPlan:
        """The plan of the class head (the output before its softmax); ValueError without one."""
        head = self.require_head()
        with self.graph.lock:
            if HEAD_PLAN not in self._plans:
                node = head.node
                info = LayerInfo(
                    name=node.name,
                    kind=node.kind,
                    output_shape=tuple(node.output.shape[1:]),
                    params=0,
                    receptive_field=0,
                    jump=0,
                )
                plan = self._build_plan(info, node)
                plan.linear_top = head.drop_activation
                self._plans[HEAD_PLAN] = plan
            return self._plans[HEAD_PLAN]

    def require_head(self) -> ClassHead:
        """The model's class head, else ValueError saying what to pass instead."""
        if self._head is None:
            shapes = ", ".join(str(tuple(t.shape)) for t in self.graph.functional.outputs)
            example = self.layers[-1].name if self.layers else "conv"
            raise ValueError(
                f"the model has no class head (its output has shape {shapes}, not (N, "
                f"classes)), so an int target names no class; give a channel target "
                f"(layer, channel) instead, e.g. ({example!r}, 0)"
            )
        return self._head

    def _build_plan(self, info: LayerInfo, node: GraphNode | None = None) -> _LayerPlan:
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

        plan = _LayerPlan(
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

    def _backward_fns(self, plan: _LayerPlan, method: Method) -> dict[str, Any]:
        """The two compiled backward functions (channel seeds, explicit seeds) of a method."""
        with self.graph.lock:
            if method.key not in plan.backward:
                plan.backward[method.key] = self._build_backward(plan, method)
            return plan.backward[method.key]

    def _build_backward(self, plan: _LayerPlan, method: Method) -> dict[str, Any]:
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
        self, plan: _LayerPlan, method: Method, cached: list[Tensor], seed: Tensor
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

    # ------------------------------------------------------------------- forward
    def _forward(self, plan: _LayerPlan, batch: np.ndarray) -> list[Tensor]:
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

    # -------------------------------------------------------------------- public
    def clear_cache(self) -> None:
        """Forget cached forward passes (call it after changing the model's weights)."""
        with self.graph.lock:
            for plan in self._plans.values():
                plan.cache.clear()

    def activations(self, image: Any, layer: str | LayerInfo) -> np.ndarray:
        """The layer's activation for one image.

        Args:
            image: one model input (H, W, C) or (1, H, W, C): array, tensor or nested lists.
            layer: a 4-D layer, by name or LayerInfo.

        Returns:
            float32 (H', W', C'); the forward pass is cached (CACHE_IMAGES images per layer).

        Raises:
            TypeError, ValueError: a bad image (shape, dtype, size, NaN) or an unknown layer.
        """
        plan = self._plan(self.layer_info(layer))
        return self._forward(plan, self._image_batch(image))[-1][0].numpy()

    def project(
        self,
        image: Any,
        layer: str | LayerInfo,
        channel: int,
        method: str | Method = "deconvnet",
        seed: str = "activation",
    ) -> np.ndarray:
        """Project one channel of `layer` back to the image's pixel space.

        Args:
            image: one model input (H, W, C) or (1, H, W, C).
            layer: a 4-D layer, by name or LayerInfo.
            channel: the channel projected, 0..C-1.
            method: a name of `methods.NAMES` ("deconvnet" (Zeiler & Fergus), "guided"
                (guided backprop), "saliency" (the plain gradient), "lrp_epsilon",
                "lrp_alpha_beta"), a key such as "lrp_epsilon(epsilon=0.1)", or a Method.
            seed: one of SEEDS that the method accepts, what is placed on the channel with
                every other activation zero: "activation" (its own map), "max" (1 at its
                first maximum), "ones" (not for LRP, whose relevance starts as the seed).

        Returns:
            float32 (H, W, C), the input's shape.

        Raises:
            TypeError: a channel that is not an int, a bad image.
            ValueError: an unknown layer, method or seed, a channel out of range, a layer
                the method cannot pass on the way (the message names it).
        """
        info = self.layer_info(layer)
        channel = self.check_channel(info, channel)
        return self.project_many(image, info, [channel], method=method, seed=seed)[0]

    def project_many(
        self,
        image: Any,
        layer: str | LayerInfo,
        channels: Any = None,
        method: str | Method = "deconvnet",
        seed: str = "activation",
    ) -> np.ndarray:
        """Project many channels of `layer` at once, batched (CHUNK channels a pass).

        Args:
            image: the model input, as for `project`.
            layer: the layer whose channels are projected.
            channels: a sequence of channel indices, or None for all of the layer's.
            method: a method name, key or Method (see `project`).
            seed: one of SEEDS (see `project`).

        Returns:
            float32 (len(channels), H, W, C), in the order of `channels`.

        Raises:
            TypeError: `channels` that is one int or text, a channel that is not an int.
            ValueError: as for `project`.
        """
        info = self.layer_info(layer)
        resolved = self._method_and_seed(method, seed)
        if channels is None:
            channels = range(info.channels)
        if checks.is_int(channels) or isinstance(channels, str):
            raise TypeError(
                f"channels must be a sequence of ints or None, got {checks.shown(channels)}"
            )
        channels = [self.check_channel(info, c) for c in channels]
        plan = self._plan(info)
        batch = self._image_batch(image)
        fns = self._backward_fns(plan, resolved)
        cached = self._forward(plan, batch)
        kind = tf.constant(rules.SEEDS.index(seed), tf.int32)
        parts = []
        for start in range(0, len(channels), CHUNK):
            chunk = tf.constant(channels[start : start + CHUNK], tf.int32)
            parts.append(fns["channels"](cached, chunk, kind).numpy())
        if not parts:
            return np.zeros((0, *batch.shape[1:]), np.float32)
        return np.concatenate(parts, axis=0)

    def project_class(self, image: Any, index: int, method: str | Method = "guided") -> np.ndarray:
        """Project one class score (the class head's output before its softmax) to pixels.

        Args:
            image: one model input (H, W, C).
            index: the class, 0..classes-1.
            method: a method name, key or Method (see `project`).

        Returns:
            float32 (H, W, C).

        Raises:
            ValueError: a model without a class head, a class out of range, an unknown method
                or one the head's path cannot pass.
        """
        resolved = methods.get(method)
        plan = self._head_plan()
        classes = int(plan.node.output.shape[-1])
        index = checks.check_index(index, "class", classes, f" of {classes} classes")
        fns = self._backward_fns(plan, resolved)
        cached = self._forward(plan, self._image_batch(image))
        seed = tf.one_hot([index], classes, dtype=tf.float32)
        return np.asarray(fns["seed"](cached, seed)[0], np.float32)

    def project_seeds(
        self, images: Any, layer: str | LayerInfo, seeds: Any, method: str | Method = "deconvnet"
    ) -> np.ndarray:
        """Project explicit seeds placed on `layer`, one per image.

        Args:
            images: model inputs (B, H, W, C) (or one, used for every seed).
            layer: a 4-D layer, by name or LayerInfo.
            seeds: (B, H', W', C') values placed on the layer's output.
            method: a method name, key or Method (see `project`).

        Returns:
            float32 (B, H, W, C).

        Raises:
            TypeError, ValueError: bad images, an unknown layer or method.
        """
        info = self.layer_info(layer)
        resolved = methods.get(method)
        plan = self._plan(info)
        fns = self._backward_fns(plan, resolved)
        images = checks.model_stack(images, self.input_shape)
        cached = plan.forward(tf.constant(images))
        return fns["seed"](cached, tf.constant(seeds, tf.float32)).numpy()

    def trace(self, image: Any, layer: str | LayerInfo) -> Trace:
        """One image's forward pass up to `layer`, with the value of every tensor on the way.

        Args:
            image: one model input (H, W, C) or (1, H, W, C).
            layer: a 4-D layer, by name or LayerInfo.

        Returns:
            A Trace: the path's nodes (forward order, `layer`'s last) and tensor id -> value.
        """
        info = self.layer_info(layer)
        path = self._plan(info).path
        ids = [id(self.graph.input), *(step.output_id for step in path)]

        def build() -> Any:
            def every_tensor(image: Tensor) -> list[Tensor]:
                self.trace_count += 1
                with self.graph.lock, self.graph.safe_names():
                    values = run_path(path, self.graph.input, image)
                return [image, *(values[i] for i in ids[1:])]

            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
            return tf.function(every_tensor, input_signature=[spec], autograph=False)

        fn = self.graph.compiled(("trace", info.name), build)
        tensors = fn(tf.constant(self._image_batch(image)))
        values = {i: t.numpy()[0] for i, t in zip(ids, tensors, strict=True)}
        return Trace(list(path), values)

    def forward_batch(self, images: np.ndarray, layer: str | LayerInfo) -> np.ndarray:
        """The layer's activations for a batch of images, uncached.

        Args:
            images: model inputs (N, H, W, C).
            layer: a 4-D layer, by name or LayerInfo.

        Returns:
            float32 (N, H', W', C').

        Raises:
            TypeError, ValueError: bad images or an unknown layer.
        """
        plan = self._plan(self.layer_info(layer))
        images = checks.model_stack(images, self.input_shape)
        return plan.target_forward(tf.constant(images)).numpy()

    def forward_layers(self, images: np.ndarray, layers: Sequence[str | LayerInfo]) -> list:
        """Activations of several layers for a batch (N, H, W, C) in one uncached pass.

        Args:
            images: the batch, in the model's input space.
            layers: names or LayerInfos of 4-D layers (ValueError listing the names otherwise).

        Returns:
            One array (N, H', W', C') per layer, in the order given.
        """
        infos = [self.layer_info(layer) for layer in layers]
        key = ("forward_layers", *(info.name for info in infos))

        def build() -> Any:
            nodes = [self.graph.node_of[info.name] for info in infos]
            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)

            def forward(image: Tensor) -> list[Tensor]:
                self.trace_count += 1
                return self.graph.run(image, nodes)

            return tf.function(forward, input_signature=[spec], autograph=False)

        fn = self.graph.compiled(key, build)
        images = checks.model_stack(images, self.input_shape)
        return [tensor.numpy() for tensor in fn(tf.constant(images))]

    def cached_bytes_per_image(self, layer: str | LayerInfo, image_shape: tuple) -> int:
        """Bytes the forward cache of one image of `image_shape` (H, W, C) holds for `layer`.

        The top-k search sizes its projection chunks by it.
        """
        plan = self._plan(self.layer_info(layer))
        total = 0
        for spec in plan.cached_specs:
            dims = [d if d is not None else image_shape[i] for i, d in enumerate(spec.shape[1:])]
            total += int(np.prod(dims)) * spec.dtype.size
        return total

    def ladder(
        self, image: Any, layer: str | LayerInfo, channel: int, seed: str = "activation"
    ) -> list[Rung]:
        """The DeconvNet projection step by step, done explicitly with `deconv_widgets.ops`.

        Args:
            image: one model input (H, W, C).
            layer: a layer on a chain from the input (no merges or splits on the way).
            channel: the channel projected.
            seed: what is placed on the channel, one of SEEDS.

        Returns:
            One Rung per step on the way down (unpool, rectify, transpose_conv, scale,
            identity); the last rung's array equals `project(..., method="deconvnet")`.

        Raises:
            ValueError: a branching path, a layer with no explicit step, an unknown seed.
        """
        return ladder(self, image, layer, channel, seed=seed)

    def top_k(
        self,
        images: Any,
        layer: str | LayerInfo,
        k: int = 9,
        channels: Any = None,
        progress: Any = True,
        method: str | Method = "deconvnet",
    ) -> TopK:
        """Zeiler & Fergus's top-k: the k strongest activations per channel over `images`.

        Args:
            images: an array (N, H, W, C) or an iterable of such batches (streamed).
            layer: the layer searched.
            k: hits kept per channel.
            channels: the channels searched (None: all).
            progress: True (a tqdm bar), False, or a callable(done, total).
            method: the projection of each hit, one of METHODS.

        Returns:
            A TopK: per channel its hits strongest first, each with the input patch under its
            receptive field and its projection (computed when the channel is first read).

        Raises:
            TypeError: a k that is not an int. ValueError: k < 1, an unknown layer, channel or
            method.
        """
        return top_k(self, images, layer, k=k, channels=channels, progress=progress, method=method)

    # --------------------------------------------------------------------- lenses
    def class_scores(self, image: Any) -> np.ndarray:
        """The class head's output before its softmax.

        Args:
            image: one model input (H, W, C).

        Returns:
            float32 (classes,).

        Raises:
            ValueError: a model without a class head (the message says what to pass instead).
        """
        return lenses.class_scores(self, image)

    def gradcam(
        self, image: Any, layer: str | LayerInfo, target: Any, size: str = "layer"
    ) -> np.ndarray:
        """Grad-CAM (Selvaraju et al. 2017) of `target` on `layer`.

        Args:
            image: one model input (H, W, C).
            layer: the layer whose activation A is weighed (a name or LayerInfo).
            target: a class (int; the output before its softmax) or (layer, channel), that
                channel's activation summed; it must depend on `layer`.
            size: "layer" for the map at the layer's (H', W'), "input" for (H, W), bilinear.

        Returns:
            relu(sum_k alpha_k A_k), float32 >= 0; alpha_k = mean over (i, j) of d target / d A_ijk.

        Raises:
            ValueError: an unknown layer, a class out of range or without a class head, a
                target below `layer`, an unknown size. TypeError: a target of another type.
        """
        return lenses.gradcam(self, image, layer, target, size=size)

    def guided_gradcam(self, image: Any, layer: str | LayerInfo, target: Any) -> np.ndarray:
        """Guided Grad-CAM: guided backprop of `target` times its Grad-CAM on `layer`.

        Args:
            image: one model input (H, W, C).
            layer: the layer of the Grad-CAM (a name or LayerInfo).
            target: a class (int) or (layer, channel), as for `gradcam`.

        Returns:
            float32 (H, W, C): the guided projection weighted by the input-size Grad-CAM map.

        Raises:
            ValueError, TypeError: as for `gradcam`.
        """
        return lenses.guided_gradcam(self, image, layer, target)

    def occlusion(
        self,
        image: Any,
        target: Any,
        patch: int | None = None,
        stride: int | None = None,
        fill: Any = None,
        batch_size: int = 64,
        progress: Any = True,
    ) -> np.ndarray:
        """Zeiler & Fergus's occlusion map: `target` with a square of `fill` slid over the image.

        Args:
            image: one model input (H, W, C).
            target: a class (int) or (layer, channel), as for `gradcam`.
            patch: the square's side; default max(1, round(min(H, W) / 8)).
            stride: the step between positions; default max(1, patch // 2).
            fill: one value or one per channel; default the image's per-channel mean.
            batch_size: occluded copies per forward pass.
            progress: True (a tqdm bar when there is more than one batch), False, or a
                callable(done, total) called after each batch.

        Returns:
            (rows, cols) float32: the target's value with the square's top-left corner at
            (row * stride, col * stride).
        """
        return lenses.occlusion(self, image, target, patch, stride, fill, batch_size, progress)

    def top_classes(self, image: Any, k: int = 5) -> list[tuple[int, float]]:
        """The k most probable classes of one model input: [(class, softmax probability)].

        Raises:
            ValueError: a model without a class head, a bad image or k.
        """
        return classifier.top_classes(self, image, k)

    def occlusion_maps(
        self,
        image: Any,
        layer: str | LayerInfo,
        target: int | None = None,
        patch: int | None = None,
        stride: int | None = None,
        fill: Any = None,
        batch_size: int = 64,
        progress: Any = True,
    ) -> classifier.OcclusionMaps:
        """Zeiler & Fergus's Fig. 7: three maps of a grey square slid over the image.

        One forward pass per position gives (b) the summed activation of the layer's strongest
        unit (the channel with the largest activation on the whole image), (d) the softmax
        probability of `target`, (e) the most probable class.

        Args:
            image: one model input (H, W, C).
            layer: the unit's layer.
            target: the class mapped in (d); default the most probable on the whole image.
            patch: the square's side, as for `occlusion`.
            stride: the step between positions, as for `occlusion`.
            fill: the square's value(s), as for `occlusion`.
            batch_size: occluded copies per forward pass.
            progress: True (a tqdm bar), False, or a callable(done, total).

        Returns:
            OcclusionMaps: unit, probability, most_probable (rows, cols), and the values on the
            whole image.

        Raises:
            ValueError, TypeError: no class head, an unknown layer, a bad class or square.
        """
        return classifier.occlusion_maps(
            self, image, layer, target, patch, stride, fill, batch_size, progress
        )

    def faithfulness(
        self,
        image: Any,
        target: int,
        attribution: Any,
        mode: str = "deletion",
        steps: int = 20,
        preprocess: Any = None,
        batch_size: int = 64,
    ) -> faithfulness.Faithfulness:
        """RISE's deletion or insertion curve of an attribution map (Petsiuk et al. 2018).

        Pixels ranked by the attribution (summed over channels, highest first, ties by the
        lower index) are blacked out (deletion) or put back into the blurred image
        (insertion, Gaussian, sigma 5 px) in `steps` equal steps; the curve is the softmax
        probability of `target` at each step. Lower deletion and higher insertion AUC: more
        faithful.

        Args:
            image: the shown image (H, W, C) in [0, 1].
            target: a class of the class head (int).
            attribution: (H, W) or (H, W, C) at the image's size.
            mode: "deletion" or "insertion".
            steps: curve steps, 1..1000 (the curve has steps + 1 points).
            preprocess: shown image batch -> model input (None: the identity).
            batch_size: images per forward pass.

        Returns:
            Faithfulness: `curve`, `fractions`, `auc` (trapezoid over [0, 1]).

        Raises:
            ValueError, TypeError: no class head, a bad target, mode, steps or attribution.
        """
        return faithfulness.faithfulness(
            self, image, target, attribution, mode, steps, preprocess, batch_size
        )

    def sanity_cascade(
        self,
        image: Any,
        layer: str | LayerInfo,
        channel: int,
        method: str | Method = "guided",
        random_seed: int = 0,
        progress: Any = False,
    ) -> list[lenses.Cascade]:
        """Adebayo et al.'s cascading randomisation, on a copy of the model.

        Step 0 is the trained model; each next step re-initialises one more layer with
        weights, from `layer` down (each with its own initializer, seeded by `random_seed`),
        and projects the channel again. The model is never changed.

        Args:
            image: one model input (H, W, C).
            layer: the unit's layer, re-initialised first (then each layer below it).
            channel: the unit's channel.
            method: a method name, key or Method (see `project`).
            random_seed: the seed of the re-initialisations (an int).
            progress: True (a tqdm bar), False, or a callable(done, total).

        Returns:
            One Cascade per step; `rho` is the Spearman rank correlation of |projection|
            summed over channels with the trained model's.

        Raises:
            TypeError: a random_seed or channel that is not an int.
            ValueError: an unknown layer, channel or method.
        """
        return lenses.sanity_cascade(
            self, image, layer, channel, method=method, random_seed=random_seed, progress=progress
        )
