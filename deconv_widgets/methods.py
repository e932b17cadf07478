"""The projection methods, one registry entry each: the rule at rectifiers and at linear layers.

Every method carries a signal from a layer down to the pixels through the same exact backward
of every layer (convolutions transposed, max pooling through its switches, BN, merges, any
other layer by its own gradient). They differ only where their entry says:

| method | at a rectifier f (g from above, x its input) | at a linear layer |
|---|---|---|
| `deconvnet` | max(g, 0) | its exact adjoint (bias unused) |
| `guided` | max(g, 0) · f'(x) | its exact adjoint |
| `saliency` | g · f'(x) | its exact adjoint |
| `lrp_epsilon` | g (relevance passes) | R_i = Σ_j a_i w_ij / (z_j + ε sign z_j) R_j |
| `lrp_alpha_beta` | g (relevance passes) | α (a w)⁺ share − β (a w)⁻ share, no bias |

`get(name)` gives an entry; `lrp_epsilon(epsilon)` and `lrp_alpha_beta(alpha, beta)` configured
ones, whose `key` (e.g. ``"lrp_epsilon(epsilon=0.1)"``) `get` reads back. Adding a method is one
entry in `_REGISTRY` (and its tests): the engine, the command line and the widgets read it.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deconv_widgets._values import shown

SEEDS = ("activation", "max", "ones")
"""What a projection places on the chosen channel: its activation, a 1 at its maximum, 1s."""

Vjp = Callable[[Tensor], Tensor]
"""h -> h · f'(x): the rectifier's own vector-Jacobian product at its recorded input."""
RectifierRule = Callable[[Tensor, Vjp], Tensor]
"""(g, vjp) -> the signal below a rectifier."""


@dataclass(frozen=True)
class Affine:
    """A layer's linear part as LRP reads it: z = apply(inputs, weights) + bias.

    `weights` None means fixed non-negative weights (pooling, a sum): no negative part.
    """

    apply: Callable[[list[Tensor], Any], Tensor]
    weights: Any = None
    bias: Any = None
    output: Any = None
    """z itself when the forward pass recorded it (then `adjoint` spares recomputing it)."""
    adjoint: Callable[[Tensor], list[Tensor]] | None = None
    """s -> Wᵀ s for each input (the layer's exact adjoint), when known."""


LinearRule = Callable[[Affine, Tensor, list[Tensor]], list[Tensor]]
"""(the layer's linear part, relevance at its output, its inputs) -> relevance of each input."""


@dataclass(frozen=True)
class Method:
    """One projection method: its rules and how it is shown."""

    name: str
    """The registry name, one of `NAMES`."""
    label: str
    """A short title for menus and figures."""
    doc: str
    """One sentence: what the method shows."""
    rectifier: RectifierRule = field(compare=False)
    """The rule at every rectifier (relu, ReLU6, leaky, elu, selu, swish, hard swish, gelu, ...)."""
    rectifier_text: str = ""
    """The rectifier rule as a formula, for the docs and the page."""
    linear: LinearRule | None = field(default=None, compare=False)
    """The rule at linear layers (conv, dense, pooling, Add, BN); None: their exact adjoint."""
    linear_text: str = "exact adjoint (transposed filters, bias unused)"
    """The linear rule as a formula."""
    seeds: tuple[str, ...] = SEEDS
    """The seeds the method starts from (LRP: a relevance, so not "ones")."""
    params: tuple[tuple[str, float], ...] = field(default=())
    """The configured parameters, (name, value) pairs in signature order."""

    @property
    def key(self) -> str:
        """The method as text, parameters included; `get(key)` gives it back."""
        if not self.params:
            return self.name
        inner = ", ".join(f"{name}={value!r}" for name, value in self.params)
        return f"{self.name}({inner})"

    @property
    def relevance(self) -> bool:
        """True for LRP methods (relevance, BN folded into the layer before it)."""
        return self.linear is not None

    def __str__(self) -> str:
        return self.key


# ------------------------------------------------------------------ rectifier rules
def _deconvnet(g: Tensor, _vjp: Vjp) -> Tensor:
    """Zeiler & Fergus: rectify the signal, ignore the forward pass."""
    return tf.nn.relu(g)


def _guided(g: Tensor, vjp: Vjp) -> Tensor:
    """Springenberg et al.: rectify the signal, then the rectifier's own derivative."""
    return vjp(tf.nn.relu(g))


def _saliency(g: Tensor, vjp: Vjp) -> Tensor:
    """Simonyan et al.: the plain gradient."""
    return vjp(g)


def _passes(g: Tensor, _vjp: Vjp) -> Tensor:
    """LRP: relevance passes a rectifier unchanged."""
    return g


# --------------------------------------------------------------------- LRP rules
def _sign(z: Tensor) -> Tensor:
    """sign(z) with sign(0) = +1."""
    return tf.where(z >= 0, tf.ones_like(z), -tf.ones_like(z))


def epsilon_rule(epsilon: float) -> LinearRule:
    """R_i = Σ_j a_i w_ij / (z_j + ε sign z_j) R_j, z_j = Σ_i a_i w_ij + b_j."""

    def rule(affine: Affine, relevance: Tensor, inputs: list[Tensor]) -> list[Tensor]:
        if affine.output is not None and affine.adjoint is not None:
            z = affine.output  # recorded: only the adjoint runs, as for the gradient methods
            share = relevance / (z + epsilon * _sign(z))
            return [a * g for a, g in zip(inputs, affine.adjoint(share), strict=True)]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            linear = affine.apply(inputs, affine.weights)
        z = linear if affine.bias is None else linear + tf.cast(affine.bias, linear.dtype)
        share = relevance / (z + epsilon * _sign(z))
        grads = tape.gradient(linear, inputs, output_gradients=share)
        return [a * _zero_if_none(g, a) for a, g in zip(inputs, grads, strict=True)]

    return rule


def alpha_beta_rule(alpha: float, beta: float) -> LinearRule:
    """R_i = α Σ_j (a_i w_ij)⁺ / z⁺_j R_j − β Σ_j (a_i w_ij)⁻ / z⁻_j R_j (biases out, 0/0 = 0).

    (a w)⁺ = a⁺ w⁺ + a⁻ w⁻ and (a w)⁻ = a⁺ w⁻ + a⁻ w⁺: the terms of a⁻ are computed only when
    an input is negative (after a ReLU none is), the negative part only when β > 0.
    """

    def rule(affine: Affine, relevance: Tensor, inputs: list[Tensor]) -> list[Tensor]:
        ups = [tf.nn.relu(a) for a in inputs]
        downs = [tf.minimum(a, 0.0) for a in inputs]
        if affine.weights is None:  # fixed non-negative weights: (a w)± = a± w
            w_up = w_down = None
            positive, negative = [(ups, None)], [(downs, None)]
        else:
            weights = tf.convert_to_tensor(affine.weights)
            w_up, w_down = tf.nn.relu(weights), tf.minimum(weights, 0.0)
            positive, negative = [(ups, w_up), (downs, w_down)], [(ups, w_down), (downs, w_up)]
        negative_inputs = tf.reduce_any([tf.reduce_any(a < 0) for a in inputs])

        def part(terms: list) -> list[Tensor]:
            with_downs = lambda: _shared(affine, relevance, terms)  # noqa: E731
            ups_only = [(sources, w) for sources, w in terms if sources is ups]
            if not ups_only:  # (a w)⁻ of fixed positive weights: the a⁻ term alone
                return tf.cond(
                    negative_inputs, with_downs, lambda: [tf.zeros_like(a) for a in inputs]
                )
            return tf.cond(
                negative_inputs, with_downs, lambda: _shared(affine, relevance, ups_only)
            )

        pos = part(positive)
        if beta == 0:
            return [alpha * p for p in pos]
        neg = part(negative)
        return [alpha * p - beta * n for p, n in zip(pos, neg, strict=True)]

    return rule


def _shared(affine: Affine, relevance: Tensor, terms: list) -> list[Tensor]:
    """Σ_j c_ij / Σ_i c_ij · R_j for the contributions c = Σ_terms sources · weights (0/0 = 0)."""
    with tf.GradientTape(persistent=True) as tape:
        for sources, _ in terms:
            tape.watch(sources)
        outputs = [affine.apply(sources, weights) for sources, weights in terms]
    share = tf.math.divide_no_nan(relevance, tf.add_n(outputs))
    total: list[Tensor] | None = None
    for (sources, _), output in zip(terms, outputs, strict=True):
        grads = tape.gradient(output, sources, output_gradients=share)
        parts = [s * _zero_if_none(g, s) for s, g in zip(sources, grads, strict=True)]
        total = parts if total is None else [t + q for t, q in zip(total, parts, strict=True)]
    assert total is not None  # at least one term
    return total


def _zero_if_none(grad: Tensor | None, like: Tensor) -> Tensor:
    """A gradient, or zeros where the output does not depend on the input."""
    return tf.zeros_like(like) if grad is None else grad


# ------------------------------------------------------------------ configured entries
def _number(value: Any, name: str) -> float:
    """A finite real number (bools and text refused) as a float."""
    if isinstance(value, bool) or (not isinstance(value, int | float) and not _is_np_real(value)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {shown(value)}")
    return number


def _is_np_real(value: Any) -> bool:
    """True for NumPy integer and floating scalars."""
    import numpy as np

    return isinstance(value, np.integer | np.floating)


def lrp_epsilon(epsilon: float = 0.25) -> Method:
    """LRP-ε (Bach et al. 2015): relevance shared by contribution, ε absorbs weak ones.

    Raises:
        TypeError: an epsilon that is not a number. ValueError: epsilon <= 0 or not finite.
    """
    epsilon = _number(epsilon, "epsilon")
    if epsilon <= 0:
        raise ValueError(
            f"epsilon must be > 0 (it keeps z + ε·sign(z) away from 0), got {epsilon!r}; "
            "e.g. lrp_epsilon(0.25), or lrp_epsilon(1e-9) for nearly input x gradient"
        )
    return Method(
        name="lrp_epsilon",
        label="LRP-ε",
        doc="Layer-wise relevance propagation, ε-rule: the seed's relevance shared out by "
        "each input's contribution a·w / (z + ε·sign z).",
        rectifier=_passes,
        rectifier_text="g (relevance passes unchanged)",
        linear=epsilon_rule(epsilon),
        linear_text="R_i = Σ_j a_i w_ij / (z_j + ε·sign z_j) · R_j",
        seeds=("activation", "max"),
        params=(("epsilon", epsilon),),
    )


def lrp_alpha_beta(alpha: float = 1.0, beta: float = 0.0) -> Method:
    """LRP-αβ (Bach et al. 2015): positive and negative contributions weighed apart.

    Raises:
        TypeError: alpha or beta not a number. ValueError: alpha - beta != 1, beta < 0.
    """
    alpha, beta = _number(alpha, "alpha"), _number(beta, "beta")
    if beta < 0 or not math.isclose(alpha - beta, 1.0, rel_tol=0.0, abs_tol=1e-9):
        raise ValueError(
            f"LRP-αβ needs alpha - beta = 1 and beta >= 0 (so relevance is conserved), got "
            f"alpha={alpha!r}, beta={beta!r}; e.g. lrp_alpha_beta(1, 0) or lrp_alpha_beta(2, 1)"
        )
    return Method(
        name="lrp_alpha_beta",
        label="LRP-αβ",
        doc="Layer-wise relevance propagation, αβ-rule: positive contributions count α, "
        "negative ones −β; biases left out.",
        rectifier=_passes,
        rectifier_text="g (relevance passes unchanged)",
        linear=alpha_beta_rule(alpha, beta),
        linear_text="R_i = α Σ_j (a_i w_ij)⁺ / z⁺_j R_j − β Σ_j (a_i w_ij)⁻ / z⁻_j R_j",
        seeds=("activation", "max"),
        params=(("alpha", alpha), ("beta", beta)),
    )


DECONVNET = Method(
    "deconvnet",
    "DeconvNet",
    "Zeiler & Fergus (2014): rectify the signal at every rectifier, ignore its forward mask.",
    _deconvnet,
    "max(g, 0)",
)
GUIDED = Method(
    "guided",
    "guided backprop",
    "Springenberg et al. (2015): the DeconvNet's rectified signal, also masked by the "
    "forward pass.",
    _guided,
    "max(g, 0) · f'(x)",
)
SALIENCY = Method(
    "saliency",
    "saliency",
    "Simonyan et al. (2014): the plain gradient of the seed with respect to the pixels.",
    _saliency,
    "g · f'(x)",
)

_REGISTRY: dict[str, Callable[..., Method]] = {
    "deconvnet": lambda: DECONVNET,
    "guided": lambda: GUIDED,
    "saliency": lambda: SALIENCY,
    "lrp_epsilon": lrp_epsilon,
    "lrp_alpha_beta": lrp_alpha_beta,
}
NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""Every method's name, in display order."""

_KEY = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


def get(method: str | Method) -> Method:
    """The Method of a name or key ("lrp_epsilon(epsilon=0.1)"); a Method is returned as is.

    Raises:
        ValueError: an unknown name or a value that is neither text nor a Method (the message
            lists NAMES), a key that does not parse, parameters its method refuses.
    """
    if isinstance(method, Method):
        return method
    match = _KEY.match(method) if isinstance(method, str) else None
    name = match.group(1) if match else None
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {shown(method)}; choose one of: {', '.join(NAMES)}")
    args = match.group(2) if match else None
    if args is None or not args.strip():
        return _REGISTRY[name]()
    params = _parse_params(method, args)
    allowed = list(inspect.signature(_REGISTRY[name]).parameters)
    unknown = [p for p in params if p not in allowed]
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(
            f"method {name!r} has no parameter {unknown[0]!r}; its parameters: {valid}"
        )
    return _REGISTRY[name](**params)


def _parse_params(text: str, args: str) -> dict[str, float]:
    """`epsilon=0.1, beta=1` as {name: float}; ValueError naming the text otherwise."""
    params: dict[str, float] = {}
    for part in args.split(","):
        name, _, value = part.partition("=")
        if name.strip() in params:
            raise ValueError(f"cannot read method {shown(text)}: {name.strip()!r} given twice")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            raise ValueError(
                f"cannot read method {shown(text)}: write parameters as name=number, e.g. "
                "'lrp_epsilon(epsilon=0.1)' or 'lrp_alpha_beta(alpha=2, beta=1)'"
            ) from None
    return params


def keys(methods: Sequence[str | Method]) -> list[str]:
    """The keys of several methods (each checked by `get`)."""
    return [get(m).key for m in methods]
