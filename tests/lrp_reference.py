"""LRP written out by hand in NumPy, for the engine's tests (no TensorFlow computes here).

Every linear layer (convolution, dense, average and global average pooling, an inference BN,
an Add) is written as an explicit matrix M over the flattened (H, W, C) values, built with
plain loops, and a bias b: z = a @ M + b. LRP's rules then read straight off the definitions
(Bach et al. 2015; Montavon et al. 2019), with every contribution a_i M_ij spelled out:

- ε: R_i = Σ_j a_i M_ij / (z_j + ε sign z_j) R_j, sign(0) = +1;
- alpha-beta: R_i = alpha Σ_j (a_i M_ij)⁺ / Σ_i' (a_i' M_i'j)⁺ R_j
  − beta Σ_j (a_i M_ij)⁻ / Σ_i' (a_i' M_i'j)⁻ R_j, biases left out, 0/0 = 0.

Relevance passes ReLUs unchanged and max pooling gives it to each window's winner. Only the
weights and the layers' settings are read from Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

Rule = Callable[[np.ndarray, np.ndarray, "np.ndarray | None", np.ndarray], np.ndarray]
"""(a, M, bias, relevance at z) -> relevance of a."""


# ------------------------------------------------------------------------ the rules
def sign(z: np.ndarray) -> np.ndarray:
    """+1 where z >= 0, −1 elsewhere: the sign of z, 0 counted positive."""
    return np.where(z >= 0, 1.0, -1.0)


def epsilon(eps: float) -> Rule:
    """The ε-rule, contributions and all."""

    def rule(a: np.ndarray, m: np.ndarray, bias: np.ndarray | None, r: np.ndarray) -> np.ndarray:
        contributions = a[:, None] * m  # (inputs, outputs): a_i M_ij
        z = contributions.sum(axis=0) + (0.0 if bias is None else bias)
        return (contributions * (r / (z + eps * sign(z)))[None, :]).sum(axis=1)

    return rule


def alpha_beta(alpha: float, beta: float) -> Rule:
    """The alpha-beta rule: positive and negative contributions apart, no biases, 0/0 = 0."""

    def rule(a: np.ndarray, m: np.ndarray, _bias: np.ndarray | None, r: np.ndarray) -> np.ndarray:
        contributions = a[:, None] * m
        pos, neg = np.maximum(contributions, 0.0), np.minimum(contributions, 0.0)
        z_pos, z_neg = pos.sum(axis=0), neg.sum(axis=0)
        share_pos = np.divide(r, z_pos, out=np.zeros_like(r), where=z_pos != 0)
        share_neg = np.divide(r, z_neg, out=np.zeros_like(r), where=z_neg != 0)
        return alpha * (pos * share_pos[None, :]).sum(axis=1) - beta * (
            neg * share_neg[None, :]
        ).sum(axis=1)

    return rule


# -------------------------------------------------------------- linear maps as matrices
def flat(y: int, x: int, c: int, shape: tuple[int, int, int]) -> int:
    """The index of (y, x, c) in a row-major flattened (H, W, C) map."""
    _, width, channels = shape
    return (y * width + x) * channels + c


def conv_matrix(
    kernel: np.ndarray, in_shape: tuple[int, int, int], padding: str
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A stride-1 Conv2D (kh, kw, C, C') as a matrix, and its output shape.

    "same" pads (k - 1) // 2 before, as TensorFlow does for stride 1.
    """
    kh, kw, cin, cout = kernel.shape
    height, width, _ = in_shape
    if padding == "same":
        out_shape, top, left = (height, width, cout), (kh - 1) // 2, (kw - 1) // 2
    else:
        out_shape, top, left = (height - kh + 1, width - kw + 1, cout), 0, 0
    m = np.zeros((height * width * cin, int(np.prod(out_shape))))
    for oy in range(out_shape[0]):
        for ox in range(out_shape[1]):
            for dy in range(kh):
                for dx in range(kw):
                    y, x = oy + dy - top, ox + dx - left
                    if not (0 <= y < height and 0 <= x < width):
                        continue  # a zero of the padding: no contribution
                    for ci in range(cin):
                        for co in range(cout):
                            row = flat(y, x, ci, in_shape)
                            m[row, flat(oy, ox, co, out_shape)] = kernel[dy, dx, ci, co]
    return m, out_shape


def depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """A depthwise kernel (kh, kw, C, m) as the full one (kh, kw, C, C m) it is.

    Output channel c m + k sees input channel c only, through kernel[..., c, k].
    """
    kh, kw, channels, multiplier = kernel.shape
    full = np.zeros((kh, kw, channels, channels * multiplier))
    for c in range(channels):
        for k in range(multiplier):
            full[:, :, c, c * multiplier + k] = kernel[:, :, c, k]
    return full


def avgpool_matrix(
    in_shape: tuple[int, int, int], pool: int
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A pool x pool average pooling with stride pool ("valid") as a matrix."""
    height, width, channels = in_shape
    out_shape = (height // pool, width // pool, channels)
    m = np.zeros((height * width * channels, int(np.prod(out_shape))))
    for oy in range(out_shape[0]):
        for ox in range(out_shape[1]):
            for dy in range(pool):
                for dx in range(pool):
                    for c in range(channels):
                        row = flat(oy * pool + dy, ox * pool + dx, c, in_shape)
                        m[row, flat(oy, ox, c, out_shape)] = 1.0 / pool**2
    return m, out_shape


def gap_matrix(in_shape: tuple[int, int, int]) -> np.ndarray:
    """The mean over (H, W) as a matrix (H W C, C)."""
    height, width, channels = in_shape
    m = np.zeros((height * width * channels, channels))
    for y in range(height):
        for x in range(width):
            for c in range(channels):
                m[flat(y, x, c, in_shape), c] = 1.0 / (height * width)
    return m


def add_matrix(size: int, count: int) -> np.ndarray:
    """The sum of `count` inputs of `size` values, stacked one after another, as a matrix."""
    return np.vstack([np.eye(size)] * count)


# -------------------------------------------------------------------------- steps
@dataclass
class Linear:
    """z = a @ m + bias."""

    m: np.ndarray
    bias: np.ndarray | None = None

    def forward(self, a: np.ndarray) -> np.ndarray:
        """The map itself."""
        return a @ self.m + (0.0 if self.bias is None else self.bias)


@dataclass
class ReLU:
    """max(z, 0): relevance passes it unchanged."""

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        """The rectifier."""
        return np.maximum(a, 0.0)


@dataclass
class MaxPool:
    """pool x pool max pooling, stride pool ("valid"); relevance goes to each window's winner."""

    in_shape: tuple[int, int, int]
    pool: int
    winners: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    def forward(self, a: np.ndarray) -> np.ndarray:
        """The window maxima; records the winners (the first maximum of each window)."""
        height, width, channels = self.in_shape
        p = self.pool
        out_shape = (height // p, width // p, channels)
        out = np.zeros(int(np.prod(out_shape)))
        winners = np.zeros(out.size, int)
        for oy in range(out_shape[0]):
            for ox in range(out_shape[1]):
                for c in range(channels):
                    rows = [
                        flat(oy * p + dy, ox * p + dx, c, self.in_shape)
                        for dy in range(p)
                        for dx in range(p)
                    ]
                    best = rows[int(np.argmax(a[rows]))]
                    winners[flat(oy, ox, c, out_shape)] = best
                    out[flat(oy, ox, c, out_shape)] = a[best]
        self.winners = winners
        return out

    def backward(self, r: np.ndarray) -> np.ndarray:
        """Each output's relevance to its window's winner."""
        below = np.zeros(int(np.prod(self.in_shape)))
        np.add.at(below, self.winners, r)
        return below


Step = Linear | ReLU | MaxPool


@dataclass
class Reference:
    """A Sequential model as NumPy steps; `ends[name]` is the step count up to that layer."""

    steps: list[Step]
    ends: dict[str, int]
    shapes: dict[str, tuple[int, ...]]

    def forward(self, image: np.ndarray, layer: str) -> list[np.ndarray]:
        """The input of every step up to `layer`, then `layer`'s output (flat, float64)."""
        values = [np.asarray(image, np.float64).reshape(-1)]
        for step in self.steps[: self.ends[layer]]:
            values.append(step.forward(values[-1]))
        return values

    def output(self, image: np.ndarray, layer: str) -> np.ndarray:
        """`layer`'s output, in its shape."""
        return self.forward(image, layer)[-1].reshape(self.shapes[layer])

    def relevance(self, image: np.ndarray, layer: str, seed: np.ndarray, rule: Rule) -> np.ndarray:
        """LRP of `seed` (the relevance on `layer`'s output) down to the input, in its shape."""
        values = self.forward(image, layer)
        r = np.asarray(seed, np.float64).reshape(-1)
        for step, a in zip(
            reversed(self.steps[: self.ends[layer]]), reversed(values[:-1]), strict=True
        ):
            if isinstance(step, Linear):
                r = rule(a, step.m, step.bias, r)
            elif isinstance(step, MaxPool):
                r = step.backward(r)
            # ReLU: relevance passes unchanged
        return r.reshape(np.shape(image))

    def channel_seed(self, image: np.ndarray, layer: str, channel: int, seed: str) -> np.ndarray:
        """The seed the Projector places on (layer, channel): "activation" or "max"."""
        out = self.output(image, layer)
        maps = np.zeros_like(out)
        if seed == "activation":
            maps[..., channel] = out[..., channel]
        else:  # "max": a 1 at the channel's first maximum (row-major)
            y, x = np.unravel_index(int(np.argmax(out[..., channel])), out.shape[:2])
            maps[y, x, channel] = 1.0
        return maps


def _activation(layer: keras.layers.Layer) -> str:
    """The layer's activation by name ('linear', 'relu', 'softmax')."""
    function = getattr(layer, "activation", None)
    return "linear" if function is None else function.__name__


def bn_affine(layer: keras.layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an inference BN: gamma / sqrt(var + eps), beta - mean * scale."""
    gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in layer.get_weights())
    scale = gamma / np.sqrt(variance + layer.epsilon)
    return scale, beta - mean * scale


def from_keras(model: keras.Sequential) -> Reference:
    """The NumPy steps of a Sequential: convolutions, Dense, ReLU, BN, 2 x 2 pooling.

    Convolutions (plain, depthwise, separable) have stride 1 and no dilation.
    A Dense with a softmax keeps only its linear part (the class score before the softmax).
    """
    shape: tuple[int, ...] = tuple(model.inputs[0].shape[1:])
    steps: list[Step] = []
    ends: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in model.layers:
        weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
        if isinstance(layer, keras.layers.DepthwiseConv2D | keras.layers.SeparableConv2D):
            assert tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            full = depthwise_kernel(weights[0])
            if isinstance(layer, keras.layers.SeparableConv2D):
                full = np.einsum("hwcm,mo->hwco", full, weights[1][0, 0])
            m, shape = conv_matrix(full, shape, layer.padding)
            bias = np.tile(weights[-1], shape[0] * shape[1]) if layer.use_bias else None
            steps.append(Linear(m, bias))
        elif isinstance(layer, keras.layers.Conv2D):
            assert tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            m, shape = conv_matrix(weights[0], shape, layer.padding)
            bias = np.tile(weights[1], shape[0] * shape[1]) if layer.use_bias else None
            steps.append(Linear(m, bias))
        elif isinstance(layer, keras.layers.Dense):
            steps.append(Linear(weights[0], weights[1] if layer.use_bias else None))
            shape = (weights[0].shape[1],)
        elif isinstance(layer, keras.layers.BatchNormalization):
            scale, shift = bn_affine(layer)
            size = int(np.prod(shape))
            steps.append(
                Linear(np.diag(np.resize(scale, size)), np.resize(shift, size))
            )  # channels last: the per-channel factors repeat every C values
        elif isinstance(layer, keras.layers.MaxPooling2D):
            pool = _square_pool(layer)
            steps.append(MaxPool(shape, pool))
            shape = (shape[0] // pool, shape[1] // pool, shape[2])
        elif isinstance(layer, keras.layers.AveragePooling2D):
            m, shape = avgpool_matrix(shape, _square_pool(layer))
            steps.append(Linear(m))
        elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
            steps.append(Linear(gap_matrix(shape)))
            shape = (shape[2],)
        elif isinstance(layer, keras.layers.Flatten):
            shape = (int(np.prod(shape)),)  # row-major, as Keras flattens channels-last maps
        elif not isinstance(layer, keras.layers.ReLU | keras.layers.Activation):
            raise TypeError(f"no reference step for {type(layer).__name__}")
        if _activation(layer) == "relu" or isinstance(layer, keras.layers.ReLU):
            steps.append(ReLU())
        else:
            assert _activation(layer) in ("linear", "softmax"), layer.name
        ends[layer.name] = len(steps)
        shapes[layer.name] = shape
    return Reference(steps, ends, shapes)


def _square_pool(layer: keras.layers.Layer) -> int:
    """The side of a square "valid" pooling window whose stride is its size."""
    pool = tuple(layer.pool_size)
    assert pool[0] == pool[1] and tuple(layer.strides) == pool and layer.padding == "valid"
    return pool[0]
