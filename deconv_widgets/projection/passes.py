"""The Projector's passes: forward (activations, traces, batches) and backward (projections).

The public forward and projection methods of the Projector, on the compiled plans of
`plans.py`, with the checks of layers, channels, methods and seeds they start with.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from collections.abc import Sequence
from typing import Any

import numpy as np

from deconv_widgets import methods
from deconv_widgets.methods import Method

from . import checks, rules
from .graph import ClassHead, LayerInfo, Trace, run_path
from .plans import HEAD_PLAN, CompiledPlans, LayerPlan

CHUNK = 64  # channels per batched backward call (bounds memory)


class Passes(CompiledPlans):
    """The Projector's checks, forward passes and projections (its base class).

    The Projector's `__init__` sets the attributes declared here and in CompiledPlans.
    """

    _by_name: dict[str, LayerInfo]
    _flat_outputs: dict[str, tuple[str, tuple]]
    _head: ClassHead | None

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

    # ----------------------------------------------------------------- class head
    def _head_plan(self) -> LayerPlan:
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
