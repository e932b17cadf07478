"""What a unit wants to see: feature visualisation by optimisation.

Olah, Mordvintsev & Schubert (2017): start from noise and climb the unit's activation by
gradient ascent on the image. Naive pixel optimisation finds noisy, high-frequency patterns;
three tricks make pictures a person can read:
- a Fourier parameterisation whose frequencies are scaled by 1/frequency (low frequencies
  learn as fast as high ones, so the image is not dominated by pixel noise),
- colours decorrelated by a fixed 3 x 3 matrix (the square root of ImageNet's colour
  correlation, from the paper's lucid library), squashed to [0, 1] by a sigmoid,
- transformation robustness: each step sees the image padded, jittered, scaled and rotated.
The image then goes through the model's preprocess, so it is optimised in the shown space.
A unit silent on its image (its objective 0 after its own ReLU: no gradient) climbs its
pre-activation instead (lucid's `pre_relu`) until it fires, then its real output again; the
objective reported is always the layer's real output.
Adam takes the steps. Everything random is drawn from `random_seed`, so a run is
reproducible; several units in one batch share the seed and the transforms, so each equals
its own run.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._values import check_int, is_int, shown
from .checks import check_choice
from .graph import own_activation_of
from .protocols import LensSource
from .shown_space import affine_matrix
from .steps import Step, Steps

PARAMETERIZATIONS = ("fourier", "pixel")
TRANSFORMS = ("robust", "none")
OBJECTIVES = ("channel", "neuron")
# The square root of ImageNet's colour correlation (rows: R, G, B), as lucid ships it; its
# columns are scaled to unit norm at most, so a decorrelated unit of noise stays in range.
COLOR_CORRELATION = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32
)
COLOR_MATRIX = COLOR_CORRELATION / np.max(np.linalg.norm(COLOR_CORRELATION, axis=0))
# "robust" transforms, in order: pad, jitter, scale (one of SCALES), rotate, a finer jitter
PAD, JITTER, SCALES, DEGREES, FINE_JITTER = 12, 8, (1.0, 0.975, 1.025, 0.95, 1.05), 5.0, 4
INIT_SD = 0.01  # the standard deviation of the starting noise
ADAM = (0.9, 0.999, 1e-8)  # beta 1, beta 2, epsilon
DEFAULT_SIZE = 128


@dataclass(frozen=True)
class Visualization:
    """One unit's visualisation: the image it wants to see, and how the objective rose."""

    layer: str
    channel: int
    image: np.ndarray = field(repr=False)  # (size, size, C) float32 in [0, 1], shown space
    history: np.ndarray = field(repr=False)  # the objective at each step; the last entry:
    # the returned image re-run through the model without transforms

    @property
    def activation(self) -> float:
        """The objective of the returned image, re-run without transforms (`history[-1]`)."""
        return float(self.history[-1])


@dataclass(frozen=True)
class _Setup:
    """A checked request: what to optimise, on which images, how."""

    layer: str
    channels: tuple[int, ...]
    steps: int
    size: int
    shown_channels: int
    parameterization: str
    decorrelate: bool
    transforms: str
    learning_rate: float
    random_seed: int
    objective: Any  # "channel", "neuron" or a callable


def visualize_steps(
    projector: LensSource,
    layer: str,
    channels: int | Sequence[int],
    steps: int = 512,
    size: int | None = None,
    parameterization: str = "fourier",
    decorrelate: bool = True,
    transforms: str = "robust",
    learning_rate: float = 0.05,
    random_seed: int = 0,
    objective: Any = "channel",
    preprocess: Callable[[Any], Any] | None = None,
    every: int = 0,
) -> Steps[list[Visualization]]:
    """`visualize` in steps of one Adam step each.

    Every `every` steps (0: never) a step's value is the visualisations so far: the images as
    they sharpen, with their history.
    """
    setup = _check(
        projector, layer, channels, steps, size, parameterization, decorrelate, transforms,
        learning_rate, random_seed, objective, preprocess,
    )  # fmt: skip
    every = check_int(every, "every", 0)
    images = _parameterization(setup)
    key = (
        "visualize", setup.layer, len(setup.channels), setup.size, setup.shown_channels,
        setup.parameterization, setup.decorrelate, setup.transforms, setup.learning_rate,
        setup.objective, preprocess,
    )  # fmt: skip
    to_input = _preprocess_fn(preprocess, setup)
    step_fn = projector.graph.compiled(
        (*key, "step"), lambda: _step_fn(projector, setup, images, to_input)
    )
    value_fn = projector.graph.compiled(
        (*key, "value"), lambda: _value_fn(projector, setup, to_input)
    )
    index = tf.constant(setup.channels, tf.int32)
    params = tf.Variable(images.init(), name="visualization")
    moments = [tf.Variable(tf.zeros_like(params)) for _ in range(2)]
    history: list[np.ndarray] = []
    yield Step(0, setup.steps)
    for number in range(setup.steps):
        seed = tf.constant([setup.random_seed, number], tf.int32)
        t = tf.constant(number + 1, tf.float32)
        value = step_fn(params, moments[0], moments[1], t, seed, index)
        history.append(value.numpy())
        if every and (number + 1) % every == 0 and number + 1 < setup.steps:
            yield Step(number + 1, setup.steps, _results(setup, images, params, history))
        else:
            yield Step(number + 1, setup.steps)
    final = value_fn(images.image(params), index).numpy()
    return _results(setup, images, params, history, final)


def _results(
    setup: _Setup,
    images: Any,
    params: Any,
    history: list[np.ndarray],
    final: np.ndarray | None = None,
) -> list[Visualization]:
    """The visualisations from the current parameters (final: the clean re-run's values)."""
    pictures = images.image(params).numpy()
    table = np.asarray(history, np.float32).reshape(len(history), len(setup.channels))
    if final is not None:
        table = np.concatenate([table, np.asarray(final, np.float32)[None]])
    return [
        Visualization(setup.layer, channel, pictures[i], table[:, i].copy())
        for i, channel in enumerate(setup.channels)
    ]


# --------------------------------------------------------------------------- checks
def _check(
    projector: LensSource,
    layer: str,
    channels: Any,
    steps: Any,
    size: Any,
    parameterization: Any,
    decorrelate: Any,
    transforms: Any,
    learning_rate: Any,
    random_seed: Any,
    objective: Any,
    preprocess: Any,
) -> _Setup:
    """Every argument checked, with the valid choices in each error."""
    info = projector.layer_info(layer)
    units = [channels] if is_int(channels) else channels
    if isinstance(units, str) or not isinstance(units, Sequence) or not units:
        raise TypeError(f"channels must be an int or a list of ints, got {shown(channels)}")
    checked = tuple(projector.check_channel(info, c) for c in units)
    steps = check_int(steps, "steps", 1)
    check_choice(parameterization, PARAMETERIZATIONS, "parameterization")
    check_choice(transforms, TRANSFORMS, "transforms")
    if not isinstance(decorrelate, bool):
        raise TypeError(f"decorrelate must be True or False, got {shown(decorrelate)}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise TypeError(f"learning_rate must be a number, got {shown(learning_rate)}")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    random_seed = check_int(random_seed, "random_seed", 0)
    if not callable(objective):
        check_choice(objective, OBJECTIVES, "objective (or a callable)")
    if preprocess is not None and not callable(preprocess):
        raise TypeError("preprocess must be a function image -> model input, or None")
    height, width, model_channels = projector.input_shape
    side = image_side(size, height, width)
    shown_channels = int(model_channels or 3) if preprocess is None else 3
    return _Setup(
        info.name, checked, steps, side, shown_channels, parameterization,
        decorrelate, transforms, float(learning_rate), random_seed, objective,
    )  # fmt: skip


def image_side(size: Any, height: int | None, width: int | None) -> int:
    """The image's side: `size`, or the model's own fixed size (ValueError if they differ)."""
    fixed = height if height is not None and height == width else None
    if height is not None and width is not None and height != width:
        raise ValueError(
            f"visualize makes square images; this model takes {height} x {width} inputs"
        )
    if size is None:
        return fixed or DEFAULT_SIZE
    side = check_int(size, "size", 8)
    if fixed is not None and side != fixed:
        raise ValueError(
            f"size {side}: this model takes {fixed} x {fixed} images only; pass size={fixed} "
            "or leave size out"
        )
    return side


def _preprocess_fn(preprocess: Any, setup: _Setup) -> Callable[[Tensor], Tensor]:
    """The preprocess as TensorFlow ops: an affine one by its matrix, any other called."""
    if preprocess is None:
        return lambda images: images
    shape = (setup.size, setup.size, setup.shown_channels)
    matrix = affine_matrix(preprocess, shape)
    if matrix is None:
        return lambda images: tf.convert_to_tensor(preprocess(images), tf.float32)
    offset = np.asarray(preprocess(np.zeros(shape, np.float32)), np.float32)[0, 0]
    weights = tf.constant(np.asarray(matrix, np.float32).T)  # (C_shown, C_in)
    bias = tf.constant(offset)
    return lambda images: tf.tensordot(images, weights, axes=1) + bias


# --------------------------------------------------------------------------- images
class _Pixels:
    """Pixel parameterisation: one free value per pixel and channel (the naive version)."""

    def __init__(self, setup: _Setup) -> None:
        self.setup = setup
        self.shape: tuple[int, ...] = (
            len(setup.channels), setup.size, setup.size, setup.shown_channels
        )  # fmt: skip

    def init(self) -> np.ndarray:
        """The starting noise (the same for every unit: one seed)."""
        rng = np.random.default_rng(self.setup.random_seed)
        one = rng.normal(0.0, INIT_SD, self.shape[1:]).astype(np.float32)
        return np.broadcast_to(one, self.shape).copy()

    def raw(self, params: Tensor) -> Tensor:
        """The unsquashed image (B, size, size, C)."""
        return params

    def image(self, params: Tensor) -> Tensor:
        """The image in [0, 1]: colours decorrelated when asked, then a sigmoid."""
        raw = self.raw(params)
        if self.setup.decorrelate and self.setup.shown_channels == 3:
            raw = tf.tensordot(raw, tf.constant(COLOR_MATRIX.T), axes=1)
        return tf.sigmoid(raw)


class _Fourier(_Pixels):
    """Fourier parameterisation: a spectrum per channel, each frequency scaled by 1/f."""

    def __init__(self, setup: _Setup) -> None:
        super().__init__(setup)
        side = setup.size
        fy = np.fft.fftfreq(side)[:, None]
        fx = np.fft.rfftfreq(side)[None, :]
        freqs = np.sqrt(fx * fx + fy * fy)
        # 1/f, with the DC term's scale capped; times sqrt(pixels) to keep the transform unitary
        scale = 1.0 / np.maximum(freqs, 1.0 / side) * side
        self.scale = tf.constant(scale.astype(np.float32))
        self.shape = (len(setup.channels), 2, setup.shown_channels, side, side // 2 + 1)

    def raw(self, params: Tensor) -> Tensor:
        spectrum = tf.complex(params[:, 0] * self.scale, params[:, 1] * self.scale)
        image = tf.signal.irfft2d(spectrum, fft_length=[self.setup.size, self.setup.size])
        return tf.transpose(image, [0, 2, 3, 1]) / 4.0  # (B, size, size, C)


def _parameterization(setup: _Setup) -> _Pixels:
    return _Fourier(setup) if setup.parameterization == "fourier" else _Pixels(setup)


# --------------------------------------------------------------------------- transforms
def _robust(images: Tensor, seed: Tensor, size: int) -> Tensor:
    """Pad 12, jitter 8, scale, rotate, jitter 4, back to size x size: one draw for the batch."""
    pad, jitter = PAD, JITTER
    images = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=0.5)
    side = size + 2 * pad
    shifts = tf.random.stateless_uniform([4], seed, 0, 1 << 30, tf.int32)
    images = _crop(images, shifts[0] % (jitter + 1), shifts[1] % (jitter + 1), side - jitter)
    side -= jitter
    draws = tf.random.stateless_uniform([2], seed + 1, 0.0, 1.0)
    scale = tf.gather(tf.constant(SCALES, tf.float32), tf.cast(draws[0] * len(SCALES), tf.int32))
    angle = (draws[1] * 2.0 - 1.0) * DEGREES * math.pi / 180.0
    images = _scale_rotate(images, scale, angle, side)
    images = _crop(images, shifts[2] % (FINE_JITTER + 1), shifts[3] % (FINE_JITTER + 1),
                   side - FINE_JITTER)  # fmt: skip
    return tf.image.resize(images, [size, size], method="bilinear")


def _crop(images: Tensor, top: Tensor, left: Tensor, side: int) -> Tensor:
    return images[:, top : top + side, left : left + side, :]


def _scale_rotate(images: Tensor, scale: Tensor, angle: Tensor, side: int) -> Tensor:
    """Scale and rotate about the centre (bilinear; outside: reflected)."""
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (side - 1) / 2.0
    # output (x, y) reads input (a0 x + a1 y + a2, b0 x + b1 y + b2)
    a2 = centre - cos * centre + sin * centre
    b2 = centre - sin * centre - cos * centre
    row = tf.stack([cos, -sin, a2, sin, cos, b2, 0.0, 0.0])
    transform = tf.tile(row[None], [tf.shape(images)[0], 1])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transform, output_shape=tf.constant([side, side]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT",
    )  # fmt: skip


# --------------------------------------------------------------------------- objective
def _objective(setup: _Setup, activation: Tensor, index: Tensor) -> Tensor:
    """Each image's objective (B,) from the layer's output (B, H', W', C').

    Image i is optimised for channel index[i] (a callable objective sees the whole output).
    """
    if callable(setup.objective):
        values = tf.convert_to_tensor(setup.objective(activation), tf.float32)
        return tf.reshape(values, [-1])
    mask = tf.one_hot(index, tf.shape(activation)[-1], dtype=activation.dtype)  # (B, C')
    own = tf.einsum("bhwc,bc->bhw", activation, mask)  # each image's own channel's map
    if setup.objective == "neuron":  # the map's centre position
        return own[:, tf.shape(own)[1] // 2, tf.shape(own)[2] // 2]
    return tf.reduce_mean(own, axis=[1, 2])


def _layer_output(projector: LensSource, layer: str, images: Tensor) -> tuple[Tensor, Tensor]:
    """(the layer's output, its pre-activation) on model inputs (traced).

    The pre-activation is the output itself for a layer without an activation of its own.
    """
    graph = projector.graph
    node = graph.node_of[layer]
    function = own_activation_of(node)
    if function is None:
        (value,) = graph.run(images, [node])
        return value, value
    (before,) = graph.run(images, [node], linear=True)
    return function(before), before


def _step_fn(
    projector: LensSource, setup: _Setup, images: _Pixels, to_input: Callable[[Tensor], Tensor]
) -> Any:
    """One compiled Adam step: ascend the objective through the transforms; returns it (B,)."""
    beta1, beta2, epsilon = ADAM
    rate = setup.learning_rate

    def step(params: Any, m: Any, v: Any, t: Tensor, seed: Tensor, index: Tensor) -> Tensor:
        with tf.GradientTape() as tape:
            picture = images.image(params)
            if setup.transforms == "robust":
                picture = _robust(picture, seed, setup.size)
            output, before = _layer_output(projector, setup.layer, to_input(picture))
            values = _objective(setup, output, index)
            # a silent unit (0 after its ReLU: no gradient) climbs its pre-activation instead
            silent = _objective(setup, before, index)
            loss = -tf.reduce_sum(tf.where(values > 0, values, silent))
        grad = tape.gradient(loss, params)
        m.assign(beta1 * m + (1.0 - beta1) * grad)
        v.assign(beta2 * v + (1.0 - beta2) * grad * grad)
        m_hat = m / (1.0 - tf.pow(beta1, t))
        v_hat = v / (1.0 - tf.pow(beta2, t))
        params.assign_sub(rate * m_hat / (tf.sqrt(v_hat) + epsilon))
        return values

    return tf.function(step, autograph=False)


def _value_fn(projector: LensSource, setup: _Setup, to_input: Callable[[Tensor], Tensor]) -> Any:
    """The objective of clean images (no transforms), compiled."""

    def value(pictures: Tensor, index: Tensor) -> Tensor:
        output, _ = _layer_output(projector, setup.layer, to_input(pictures))
        return _objective(setup, output, index)

    return tf.function(value, autograph=False)
