"""The layer kinds the projections know: one entry each, its forward beside its backward.

Each `Kind` says how to recognise a layer, what its nonlinearity is, the adjoint of its linear
part (the engine's rule for every method, traced in TensorFlow), its ladder rung (the same step
done explicitly with `deconv_widgets.ops`, in NumPy) and, where it is not the generic one, its
geometry for receptive fields. Adding a layer kind is adding one entry (`register`).
Layers no entry matches are "other": every method passes them by their exact vector-Jacobian
product (the layer's own gradient at its recorded input). `affine` gives LRP a layer's linear
part (z = W a + b); kinds without one take the adjoint under LRP too.

The entries live by what the layers do: `kinds_pointwise` (identities and activation layers,
BN, Rescaling, merges), `kinds_windows` (convolutions, pooling, padding and cropping) and
`kinds_head` (the class head above the maps), on the `Kind` record of `kind_base`. This module
is the public place: the table `KINDS`, `kind_of`, `register`, `registered` and `names`, and
every entry by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .kind_base import (
    AffineOf,
    Backward,
    Kind,
    PadBefore,
    Step,
    activation_kind,
    batch_like,
    same_padding_before,
)
from .kinds_head import DENSE, GAP, GMP, RESHAPE
from .kinds_pointwise import (
    ACTIVATION_LAYERS,
    ADD,
    BN,
    CONCAT,
    IDENTITY,
    IDENTITY_KINDS,
    RESCALE,
    SUBTRACT,
    Alias,
    bn_scale,
    bn_shift,
)
from .kinds_windows import AVGPOOL, CONV, CROP, DEPTHWISE, MAXPOOL, SEPARABLE, ZEROPAD

__all__ = [
    "ACTIVATION_LAYERS",
    "ADD",
    "AVGPOOL",
    "BN",
    "CONCAT",
    "CONV",
    "CROP",
    "DENSE",
    "DEPTHWISE",
    "GAP",
    "GMP",
    "IDENTITY",
    "IDENTITY_KINDS",
    "KINDS",
    "MAXPOOL",
    "RESCALE",
    "RESHAPE",
    "SEPARABLE",
    "SUBTRACT",
    "ZEROPAD",
    "AffineOf",
    "Alias",
    "Backward",
    "Kind",
    "PadBefore",
    "Step",
    "activation_kind",
    "batch_like",
    "bn_scale",
    "bn_shift",
    "kind_of",
    "names",
    "register",
    "registered",
    "same_padding_before",
]


# ---------------------------------------------------------------------------- table
KINDS: list[Kind] = [
    IDENTITY, CONV, DEPTHWISE, SEPARABLE, MAXPOOL, AVGPOOL, BN, ZEROPAD, CROP,
    ADD, SUBTRACT, CONCAT, RESCALE, DENSE, RESHAPE, GAP, GMP,
]  # fmt: skip
"""Every known kind, searched in order; the first whose `matches` is true is a layer's."""


def kind_of(layer: Any) -> Kind | None:
    """The layer's Kind, or None ('other': no explicit rule)."""
    for kind in KINDS:
        if kind.matches(layer):
            return kind
    return None


@contextmanager
def registered(*kinds: Kind) -> Iterator[None]:
    """Know `kinds` (first, before the built-in ones) inside the block; for tests and trials.

    A Projector reads the kinds when it compiles a layer: build it inside the block.
    """
    KINDS[:0] = kinds
    try:
        yield
    finally:
        del KINDS[: len(kinds)]


def register(kind: Kind) -> None:
    """Know `kind` from now on, before the built-in kinds (so it can refine one of them)."""
    KINDS.insert(0, kind)


def names() -> Sequence[str]:
    """The names of the known kinds, in search order."""
    return [kind.name for kind in KINDS]
