"""What a part of the Explorer may use of its widget: `PartHost`, built by the widget itself.

A part (images, lenses, classifier, search, jobs) owns its traits' behaviour and its state;
everything else it needs comes through this small interface: the Projector, the current image,
the pick's traits, the widget's status and guarded setters, the worker's jobs, and hooks run
after each pick and each new image. Parts never import the widget, nor each other's modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ...projection import LayerInfo, Projector
from ...projection.shown_space import to_shown
from ...projection.steps import Steps

Hook = Callable[[], None]


class Current(NamedTuple):
    """The image on show: as shown ([0, 1]), as the model takes it, and its version."""

    shown: np.ndarray
    model_input: np.ndarray
    version: int


@dataclass(frozen=True)
class PartHost:
    """The widget's side of its parts (one per widget; see the module's docstring).

    `widget` carries the traits: the pick's (layer, channel, method, seed, methods, status) and
    each part's own, declared in the part's traits class.
    """

    widget: Any
    projector: Projector
    current: Callable[[], Current]
    model_input: Callable[[np.ndarray], np.ndarray]  # a shown image -> the model's input
    preprocess: Callable[[Any], Any] | None  # the same map as given (None: the identity)
    shown_matrix: np.ndarray | None  # the preprocess as a matrix, when per-pixel affine:
    # `in_shown_space` maps model-space arrays to the shown image's space with it
    set_image: Callable[[np.ndarray, bool], None]  # make an image current (True: unchecked)
    repick: Hook  # bring the pick up to date with the current image (runs the pick hooks)
    stream: Callable[[bool], None]  # camera frames: compute the shown method only (True)
    all_at_once: Callable[[LayerInfo], bool]  # the layer's projections go to the page whole
    job: Callable[[str, str, Callable[[], Steps[Any]], Callable[[Any, str], None]], int]
    guarded: Callable[[dict[str, Any], Hook], None]  # apply a trait change, revert on error
    safely: Callable[[Callable[[], object]], bool]  # run an action, report an error
    on_pick: Callable[[Hook], None]  # run a hook after each pick (layer, channel, method, …)
    on_image: Callable[[Hook], None]  # run a hook after each new current image

    def in_shown_space(self, array: np.ndarray) -> np.ndarray:
        """A model-input-space (H, W, C) array in the shown image's space."""
        return np.asarray(to_shown(np.asarray(array, np.float32), self.shown_matrix))
