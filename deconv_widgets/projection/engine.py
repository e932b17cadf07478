"""The Projector: DeconvNet, guided backprop and saliency projections of any channel.

The class is built in three modules: `plans` (the compiled forward and backward functions of
each target layer, and the forward cache), `passes` (the checks, forward passes and
projections on them) and this one (the model's inspection, the ladder, top-k and the lenses).
"""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

import os
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from deconv_widgets._values import is_int
from deconv_widgets.methods import Method

from . import classifier, faithfulness, lenses, visualize
from .graph import (
    ClassHead,
    LayerInfo,
    ModelGraph,
    check_channels_last,
    class_head,
    forward_nodes,
    functional_of,
    layer_infos,
    receptive_fields,
)
from .ladder import Rung, ladder
from .loading import model_from
from .passes import CHUNK, Passes
from .plans import CACHE_IMAGES, HEAD_PLAN, LayerPlan
from .steps import run_steps
from .topk import TopK, top_k

__all__ = ["CACHE_IMAGES", "CHUNK", "HEAD_PLAN", "Projector"]


class Projector(Passes):
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
        self._plans: dict[str, LayerPlan] = {}
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
            TypeError: a k that is not an int.
            ValueError: k < 1, an unknown layer, channel or method.
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

    def visualize(
        self,
        layer: str | LayerInfo,
        channel: int | Sequence[int],
        steps: int = 512,
        size: int | None = None,
        parameterization: str = "fourier",
        decorrelate: bool = True,
        transforms: str = "robust",
        learning_rate: float = 0.05,
        random_seed: int = 0,
        objective: Any = "channel",
        preprocess: Callable[[Any], Any] | None = None,
    ) -> visualize.Visualization | list[visualize.Visualization]:
        """What a unit wants to see: the image that excites it most, found by optimisation.

        Olah, Mordvintsev & Schubert (2017): Adam on an image in a Fourier basis scaled by
        1/frequency, colours decorrelated, a sigmoid to [0, 1], `preprocess` to the model's
        input, random transforms each step (see `deconv_widgets.projection.visualize`).

        Args:
            layer: the unit's layer.
            channel: its channel, or a list of channels (one batch; each equals its own run).
            steps: Adam steps, an int >= 1 (lucid's default: 512).
            size: the image's side; None: the model's own (a fixed-size model), else 128.
            parameterization: "fourier" or "pixel" (the naive version).
            decorrelate: colours through ImageNet's colour correlation (RGB images only).
            transforms: "robust" (pad 12, jitter 8, scale, rotate ±5°, jitter 4) or "none".
            learning_rate: Adam's step size, > 0.
            random_seed: everything random comes from it (an int >= 0).
            objective: "channel" (the mean of its map), "neuron" (its value at the map's
                centre) or a callable of the layer's output (B, H', W', C) -> (B,) values,
                in `keras.ops` or TensorFlow terms (it is traced).
            preprocess: shown image in [0, 1] -> model input (per-pixel affine, or TensorFlow
                ops); None: the image is the input.

        Returns:
            A Visualization (a list for a list of channels): `image` (size, size, C) in
            [0, 1], `history` (the objective at each step, then the image's own value without
            transforms), `activation` (that last value).

        Raises:
            TypeError, ValueError: an unknown layer or channel, steps < 1, a size the model
                cannot take, an unknown parameterization, transforms or objective.
        """
        found = run_steps(visualize.visualize_steps(
            self, layer if isinstance(layer, str) else layer.name, channel, steps, size,
            parameterization, decorrelate, transforms, learning_rate, random_seed, objective,
            preprocess,
        ))  # fmt: skip
        return found[0] if is_int(channel) else found
