"""The Projector: DeconvNet, guided backprop and saliency projections of any channel."""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from . import checks, lenses, rules
from .graph import (
    ClassHead,
    GraphNode,
    LayerInfo,
    check_channels_last,
    class_head,
    forward_nodes,
    functional_of,
    layer_infos,
    path_to,
    receptive_fields,
    unreachable_input,
)
from .loading import model_from

SEEDS = ("activation", "max", "ones")
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


def _scope_name(name: str) -> str:
    """A layer name made safe for a TensorFlow name scope (layer names may hold any text)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _is_int(value: Any) -> bool:
    """True for Python and NumPy integers (not bools)."""
    return checks.is_int(value)


class Projector:
    """Project any channel of a Keras CNN back to pixel space (Zeiler & Fergus, 2014).

    `layers` lists every layer with a 4-D output, the input layer excluded.
    """

    def __init__(self, model: keras.Model | str | os.PathLike) -> None:
        """Inspect `model` (one image input, or a .keras path loaded with safe_mode=True)."""
        model = model_from(model)
        self.model = model
        self._graph = functional_of(model)
        self._nodes = forward_nodes(self._graph)
        check_channels_last(self._nodes)
        self._input = self._graph.inputs[0]
        self.input_shape: tuple[int | None, ...] = tuple(self._input.shape[1:])
        self.layers: list[LayerInfo] = layer_infos(self._graph, self._nodes)
        self._fields = receptive_fields(self._graph, self._nodes)
        self._by_name = {info.name: info for info in self.layers}
        self._flat_outputs = {
            node.layer.name: (type(node.layer).__name__, tuple(node.output.shape))
            for node in self._nodes
            if len(node.output.shape) != 4
        }
        self._node_of = {}
        for node in self._nodes:
            self._node_of.setdefault(node.layer.name, node)
        self._head: ClassHead | None = class_head(self._graph, self._nodes)
        # classes of the model's class head (an output of shape (N, classes)), else None
        self.class_count: int | None = self._head.classes if self._head else None
        self._plans: dict[str, _LayerPlan] = {}
        self._lens_fns: dict[tuple, Any] = {}  # compiled Grad-CAM and score functions
        self._lock = threading.RLock()  # widgets may call from a worker thread
        self.trace_count = 0  # graphs traced so far (tests assert no new ones on a switch)
        self.forward_count = 0  # forward passes actually run (cache misses)

    def receptive_box(self, layer: str | LayerInfo, y: int, x: int) -> tuple[int, int, int]:
        """(top, left, size) of the input square under position (y, x) of a layer's output.

        The square may reach past the image's borders (negative or too large coordinates).
        """
        info = self.layer_info(layer)
        _, jump, centre = self._fields[self._node_of[info.name].output_id]
        size = info.receptive_field
        offset = centre - (size - 1) / 2
        return int(round(offset + y * jump)), int(round(offset + x * jump)), size

    # ----------------------------------------------------------------- validation
    def layer_info(self, layer: str | LayerInfo) -> LayerInfo:
        """The LayerInfo of a layer given by name or LayerInfo (ValueError listing the names)."""
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

    def _check_channel(self, info: LayerInfo, channel: Any) -> int:
        """Validate a channel index against a layer's channel count."""
        return checks.check_channel(channel, int(info.output_shape[-1]), info.name)

    @staticmethod
    def _check_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
        """Validate a method or seed name."""
        return checks.check_choice(value, choices, what)

    def _image_batch(self, image: Any) -> np.ndarray:
        """An image (H, W, C) or (1, H, W, C), array or tensor, as float32 (1, H, W, C)."""
        return checks.image_batch(image, self.input_shape)

    # ---------------------------------------------------------------- compilation
    def _plan(self, info: LayerInfo) -> _LayerPlan:
        """Build (once) the forward and backward functions of a target layer."""
        with self._lock:
            if info.name not in self._plans:
                self._plans[info.name] = self._build_plan(info)
            return self._plans[info.name]

    def _head_plan(self) -> _LayerPlan:
        """The plan of the class head (the output before its softmax); ValueError without one."""
        head = self.require_head()
        with self._lock:
            if HEAD_PLAN not in self._plans:
                node = head.node
                info = LayerInfo(
                    name=node.layer.name,
                    kind=type(node.layer).__name__,
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
            shapes = ", ".join(str(tuple(t.shape)) for t in self._graph.outputs)
            example = self.layers[-1].name if self.layers else "conv"
            raise ValueError(
                f"the model has no class head (its output has shape {shapes}, not (N, "
                f"classes)), so an int target names no class; give a channel target "
                f"(layer, channel) instead, e.g. ({example!r}, 0)"
            )
        return self._head

    def _build_plan(self, info: LayerInfo, node: GraphNode | None = None) -> _LayerPlan:
        """The forward function and an empty cache for one target layer."""
        node = node if node is not None else self._node_of[info.name]
        path = path_to(self._nodes, node)
        self._check_reachable(info, path)
        input_id = id(self._input)
        tensors: dict[int, Any] = {}
        for step in path:
            for tensor in step.inputs:
                tensors[id(tensor)] = tensor
        tensors.pop(input_id, None)
        tensors.pop(node.output_id, None)
        computed = list(tensors.values()) + [node.output]
        cached = [self._input, *computed]  # the image itself first, the target output last
        cached_ids = [id(t) for t in cached]
        scope = _scope_name(info.name)
        sub_model = keras.Model(self._input, computed, name=f"to_{scope}")
        target_model = keras.Model(self._input, node.output, name=f"only_{scope}")
        image_spec = tf.TensorSpec((None, *self.input_shape), tf.float32)

        def forward(image: tf.Tensor) -> list[tf.Tensor]:
            self.trace_count += 1
            with self._scope_safe_names():
                outputs = sub_model(image, training=False)
            return [image, *(outputs if isinstance(outputs, list | tuple) else [outputs])]

        def target_forward(image: tf.Tensor) -> tf.Tensor:
            self.trace_count += 1
            with self._scope_safe_names():
                return target_model(image, training=False)

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
            cached_specs=[tf.TensorSpec(self._input.shape, tf.float32)]
            + [tf.TensorSpec(t.shape, t.dtype) for t in computed],
            target_forward=tf.function(
                target_forward, input_signature=[image_spec], autograph=False
            ),
        )
        return plan

    @contextmanager
    def _scope_safe_names(self) -> Iterator[None]:
        """While tracing, give layers whose names TensorFlow refuses as scopes a safe name.

        Keras layer names may hold any text (even HTML), but a layer calls itself inside a name
        scope of its own name, and graph tracing rejects most punctuation. The original names
        come back as soon as the trace ends; nothing else sees the temporary ones.
        """
        renamed = [
            (layer, layer.name)
            for layer in self._graph.layers
            if _scope_name(layer.name) != layer.name
        ]
        if not renamed:
            yield
            return
        with self._lock:  # a trace on another thread must not see (or restore) these names
            for layer, name in renamed:
                layer.name = _scope_name(name)
            try:
                yield
            finally:
                for layer, name in renamed:
                    layer.name = name

    def _check_reachable(self, info: LayerInfo, path: list[GraphNode]) -> None:
        """Refuse a layer whose path passes a node with several outputs (a split)."""
        missing = unreachable_input(path, self._input)
        if missing is None:
            return
        history = getattr(missing, "_keras_history", None)
        operation = getattr(history, "operation", None)
        name = getattr(operation, "name", "?")
        kind = type(operation).__name__
        valid = [
            other.name
            for other in self.layers
            if unreachable_input(path_to(self._nodes, self._node_of[other.name]), self._input)
            is None
        ]
        raise ValueError(
            f"layer {info.name!r} is reached through {name!r} ({kind}), which has several "
            f"outputs; the Projector cannot pass a signal back through it; choose one of: "
            f"{', '.join(valid) or '(none)'}"
        )

    def _check_method(self, plan: _LayerPlan, method: str) -> None:
        """Raise ValueError naming the first layer on the path that `method` cannot handle."""
        for step in plan.path:
            if plan.linear_top and step.output_id == plan.node.output_id:
                continue  # the class head's Dense: its rule is known, its softmax left out
            reason = rules.unsupported_reason(step.layer, method)
            if reason is not None:
                raise ValueError(
                    f"method {method!r} cannot project through {reason} on the way to "
                    f"{plan.info.name!r}; use method='saliency' or pick an earlier layer"
                )

    def _backward_fns(self, plan: _LayerPlan, method: str) -> dict[str, Any]:
        """The two compiled backward functions (channel seeds, explicit seeds) of a method."""
        with self._lock:
            if method not in plan.backward:
                self._check_method(plan, method)
                plan.backward[method] = self._build_backward(plan, method)
            return plan.backward[method]

    def _build_backward(self, plan: _LayerPlan, method: str) -> dict[str, Any]:
        """Compile the backward functions of one (layer, method)."""
        specs = plan.cached_specs
        target_shape = tuple(plan.node.output.shape[1:])

        def from_channels(cached, channels, seed_kind):
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
            with self._scope_safe_names():
                return self._propagate(plan, method, cached, seed)

        def from_seed(cached, seed):
            self.trace_count += 1
            with self._scope_safe_names():
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

    def _propagate(self, plan: _LayerPlan, method: str, cached: list, seed: tf.Tensor):
        """Carry `seed` (B, H', W', C') from the target layer down to the input (traced)."""
        values = dict(zip(plan.cached_ids, cached, strict=True))
        grads: dict[int, tf.Tensor] = {plan.node.output_id: seed}
        for step in reversed(plan.path):
            grad = grads.pop(step.output_id, None)
            if grad is None:
                continue
            inputs = [values.get(i) for i in step.input_ids]
            output = values.get(step.output_id)
            rule, activation = rules.classify(step.layer)
            if plan.linear_top and step.output_id == plan.node.output_id:
                activation = "linear"  # a class score is taken before its softmax
            if method == "saliency" and (rule == "other" or activation not in ("linear", "relu")):
                input_grads = rules.vjp_backward(step, grad, inputs)
            else:
                if activation == "relu":
                    grad = rules.relu_backward(grad, output, method)
                input_grads = rules.linear_backward(step.layer, rule, grad, inputs, output)
            for tensor_id, input_grad in zip(step.input_ids, input_grads, strict=True):
                if tensor_id in grads:
                    grads[tensor_id] = grads[tensor_id] + input_grad
                else:
                    grads[tensor_id] = input_grad
        return grads[plan.input_id]  # every path starts at the model's input

    # ------------------------------------------------------------------- forward
    def _forward(self, plan: _LayerPlan, batch: np.ndarray) -> list[tf.Tensor]:
        """Cached forward pass of one image (1, H, W, C) up to the plan's layer."""
        key = hashlib.blake2b(batch.tobytes(), digest_size=16).hexdigest() + str(batch.shape)
        with self._lock:
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
        with self._lock:
            for plan in self._plans.values():
                plan.cache.clear()

    def activations(self, image: Any, layer: str | LayerInfo) -> np.ndarray:
        """The layer's activation (H', W', C') for one image (H, W, C)."""
        plan = self._plan(self.layer_info(layer))
        return self._forward(plan, self._image_batch(image))[-1][0].numpy()

    def project(
        self,
        image: Any,
        layer: str | LayerInfo,
        channel: int,
        method: str = "deconvnet",
        seed: str = "activation",
    ) -> np.ndarray:
        """Project one channel of `layer` back to the image's pixel space: (H, W, C)."""
        info = self.layer_info(layer)
        channel = self._check_channel(info, channel)
        return self.project_many(image, info, [channel], method=method, seed=seed)[0]

    def project_many(
        self,
        image: Any,
        layer: str | LayerInfo,
        channels: Any = None,
        method: str = "deconvnet",
        seed: str = "activation",
    ) -> np.ndarray:
        """Project many channels at once (None = all): (len(channels), H, W, C), batched."""
        info = self.layer_info(layer)
        self._check_choice(method, rules.METHODS, "method")
        self._check_choice(seed, SEEDS, "seed")
        if channels is None:
            channels = range(info.output_shape[-1])
        if _is_int(channels) or isinstance(channels, str):
            raise TypeError(
                f"channels must be a sequence of ints or None, got {checks.shown(channels)}"
            )
        channels = [self._check_channel(info, c) for c in channels]
        plan = self._plan(info)
        batch = self._image_batch(image)
        fns = self._backward_fns(plan, method)
        cached = self._forward(plan, batch)
        kind = tf.constant(SEEDS.index(seed), tf.int32)
        parts = []
        for start in range(0, len(channels), CHUNK):
            chunk = tf.constant(channels[start : start + CHUNK], tf.int32)
            parts.append(fns["channels"](cached, chunk, kind).numpy())
        if not parts:
            return np.zeros((0, *batch.shape[1:]), np.float32)
        return np.concatenate(parts, axis=0)

    def project_seeds(
        self, images: Any, layer: str | LayerInfo, seeds: Any, method: str = "deconvnet"
    ) -> np.ndarray:
        """Project explicit seeds (B, H', W', C') placed on `layer` for images (B or 1, H, W, C)."""
        info = self.layer_info(layer)
        self._check_choice(method, rules.METHODS, "method")
        plan = self._plan(info)
        fns = self._backward_fns(plan, method)
        images = checks.model_stack(images, self.input_shape)
        cached = plan.forward(tf.constant(images))
        return fns["seed"](cached, tf.constant(seeds, tf.float32)).numpy()

    def forward_batch(self, images: np.ndarray, layer: str | LayerInfo) -> np.ndarray:
        """The layer's activations for a batch of images (N, H, W, C), uncached."""
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
        with self._lock:
            if key not in self._lens_fns:
                outputs = [self._node_of[info.name].output for info in infos]
                sub_model = keras.Model(self._input, outputs, name="scan_layers")
                spec = tf.TensorSpec((None, *self.input_shape), tf.float32)

                def forward(image: tf.Tensor) -> list[tf.Tensor]:
                    self.trace_count += 1
                    with self._scope_safe_names():
                        result = sub_model(image, training=False)
                    return list(result) if isinstance(result, list | tuple) else [result]

                self._lens_fns[key] = tf.function(forward, input_signature=[spec], autograph=False)
            fn = self._lens_fns[key]
        images = checks.model_stack(images, self.input_shape)
        return [tensor.numpy() for tensor in fn(tf.constant(images))]

    def cached_bytes_per_image(self, layer: str | LayerInfo, image_shape: tuple) -> int:
        """Bytes the forward cache of one image holds for `layer` (sizes the top-k chunks)."""
        plan = self._plan(self.layer_info(layer))
        total = 0
        for spec in plan.cached_specs:
            dims = [d if d is not None else image_shape[i] for i, d in enumerate(spec.shape[1:])]
            total += int(np.prod(dims)) * spec.dtype.size
        return total

    def ladder(self, image: Any, layer: str | LayerInfo, channel: int, seed: str = "activation"):
        """The DeconvNet projection step by step: one Rung per layer on the way down."""
        from .ladder import ladder

        return ladder(self, image, layer, channel, seed=seed)

    def top_k(
        self,
        images: Any,
        layer: str | LayerInfo,
        k: int = 9,
        channels: Any = None,
        progress: Any = True,
        method: str = "deconvnet",
    ):
        """The k strongest activations per channel over a stream of images, with patches."""
        from .topk import top_k

        return top_k(self, images, layer, k=k, channels=channels, progress=progress, method=method)

    # --------------------------------------------------------------------- lenses
    def class_scores(self, image: Any) -> np.ndarray:
        """The class head's output before its softmax, (classes,) (ValueError without one)."""
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
        """Guided backprop of `target` times its Grad-CAM on `layer` at input size: (H, W, C)."""
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

    def sanity_cascade(
        self,
        image: Any,
        layer: str | LayerInfo,
        channel: int,
        method: str = "guided",
        random_seed: int = 0,
        progress: Any = False,
    ) -> list[lenses.Cascade]:
        """Adebayo et al.'s cascading randomisation, on a copy of the model.

        Step 0 is the trained model; each next step re-initialises one more layer with
        weights, from `layer` down (each with its own initializer, seeded by `random_seed`),
        and projects the channel again. `rho` is the Spearman rank correlation of
        |projection| summed over channels with the trained one. The model is never changed.
        """
        return lenses.sanity_cascade(
            self, image, layer, channel, method=method, random_seed=random_seed, progress=progress
        )
