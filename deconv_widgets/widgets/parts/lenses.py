"""The lenses part: Grad-CAM, Guided Grad-CAM, occlusion maps and the sanity cascade.

Each lens is computed as a job on the widget's worker (`jobs`, `stop`, `wait(jobs=True)`):
the kernel stays free, picks go first, and the occlusion map and the cascade fill in as they
go. Grad-CAM and Guided Grad-CAM follow the picks once shown: after `show_lenses()` every pick
(layer, channel, image, `lens_target`) recomputes them at once on layers small enough to send
every channel at once (a fraction of a second); on larger layers (VGG16) a pick clears them
and the button computes them again, so that clicking through channels stays fast. Occlusion
maps and the sanity cascade (hundreds of forward passes; a copy of the model) are computed on
request only. A lens shows what it was computed for (its label); a pick that changes what it
would show clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import traitlets

from ...projection.lenses import gradcam_pair, occlusion_steps, sanity_cascade_steps
from ...projection.steps import Step, Steps
from .._base import IntSetting, pack_arrays
from .host import PartHost

CHANNEL_TARGET = -1  # lens_target: the current channel (k >= 0: class k)


class LensKey(NamedTuple):
    """What a shown lens was computed for: a pick that changes it makes the lens stale."""

    layer: str
    image: int  # the image version
    target: int  # lens_target (CHANNEL_TARGET: the channel)
    channel: int | None  # the channel, when the lens depends on it
    method: str | None = None  # the sanity cascade's method
    methods: tuple[str, ...] = ()  # faithfulness: every method it scored


def class_names(count: int | None, names: Sequence[str] | None) -> list[str]:
    """The names of a class head's `count` classes ("class N" for unnamed); [] without a head."""
    if count is None:
        if names:
            raise ValueError("classes were given, but the model has no class head (output (N, k))")
        return []
    if names is None:
        return [f"class {k}" for k in range(count)]
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError("classes must be a list of class names (str), one per class")
    if len(names) != count:
        raise ValueError(f"classes has {len(names)} names, but the model has {count} classes")
    return list(names)


class LensTraits(traitlets.HasTraits):
    """The lenses part's synced traits."""

    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the class head's class names
    """The class head's class names, index k for class k ([] without a class head). Set by
    Python only (at construction); the page lists them as lens targets."""
    lens_target = IntSetting(CHANNEL_TARGET).tag(sync=True)  # -1: the current channel; k: class k
    """What the lenses explain, an int: -1 (CHANNEL_TARGET) the current channel, k >= 0 class k
    of `classes`. Set from Python or in the page (target menu); a bad one reverts, see `status`."""
    lenses = traitlets.Bytes(b"").tag(sync=True)  # Grad-CAM (H, W), Guided Grad-CAM (H, W, C)
    """float32 little-endian, packed as `lenses_index` says: Grad-CAM (H, W) at input size, then
    Guided Grad-CAM (H, W, C) in the shown image's space; b"" when cleared. Set by Python only."""
    lenses_index = traitlets.List(traitlets.Dict()).tag(sync=True)  # [{kind, shape, offset, …}]
    """Per array of `lenses`: {shape, offset (in floats), kind ("gradcam", "guided_gradcam"),
    layer, target (its label)}; [] when cleared. Set by Python only."""
    lens_version = traitlets.Int(0).tag(sync=True)  # counts changes of `lenses`
    """Counts changes of `lenses` (computed or cleared); the page redraws on it. Set by Python
    only."""
    occlusion = traitlets.Bytes(b"").tag(sync=True)  # occlusion maps (rows, cols), packed
    """Occlusion maps, float32 (rows, cols) little-endian, packed as `occlusion_index` says: the
    current channel's without a class head; with one, Zeiler & Fergus's Fig. 7 (the strongest
    unit's, the class's probability, the most probable class: `show_occlusion`); b"" when
    cleared. Set by Python only."""
    occlusion_index = traitlets.List(traitlets.Dict()).tag(sync=True)  # one entry per map
    """Per map: {shape, offset (in floats), kind ("channel"; with a class head "unit",
    "probability", "most_probable"), target (its label), unoccluded (the value on the whole
    image), min, max; "unit": layer, channel; "probability": class; "most_probable": class (on
    the whole image), classes ([{class, name, count}] of those that appear, most frequent
    first); with a class head also patch, stride}. Set by Python only."""
    occlusion_version = traitlets.Int(0).tag(sync=True)  # counts changes of `occlusion`
    """Counts changes of `occlusion` (computed or cleared); the page redraws on it. Set by
    Python only."""
    sanity = traitlets.Bytes(b"").tag(sync=True)  # the cascade's projections (H, W, C), packed
    """The cascade's projections, float32 (H, W, C) little-endian in the shown image's space, one
    a step (trained first), packed as `sanity_index` says; b"" if cleared. Set by Python only."""
    sanity_index = traitlets.List(traitlets.Dict()).tag(sync=True)  # one per step: layer, rho
    """Per step: {shape, offset (in floats), layer (the last randomised; None: trained), rho
    (Spearman correlation of its |projection| with the trained one's)}. Set by Python only."""
    sanity_version = traitlets.Int(0).tag(sync=True)  # counts changes of `sanity`
    """Counts changes of `sanity` (computed or cleared); the page redraws on it. Set by Python
    only."""


class LensesPart:
    """Lens panels over the current pick (see the module's docstring for when they recompute)."""

    MESSAGES = ("lenses", "occlusion", "sanity")  # page requests, answered by show_<type>()

    def __init__(self, host: PartHost, names: Sequence[str] | None) -> None:
        """Check and set the class names (constructor: ValueError/TypeError)."""
        self._host = host
        self._widget = host.widget
        self._follow = False  # Grad-CAM was shown: picks recompute it (small layers)
        self._keys: dict[str, LensKey] = {}  # what each shown lens was computed for
        self._widget.classes = class_names(host.projector.class_count, names)
        self._widget.observe(self._target_changed, names=["lens_target"])
        host.on_pick(self._on_pick)

    # ------------------------------------------------------------------ targets
    def check_target(self, value: int) -> int:
        """A lens_target in range, else ValueError naming the valid choices."""
        classes = self._widget.classes
        if value == CHANNEL_TARGET or 0 <= value < len(classes):
            return value
        if not classes:
            raise ValueError(
                f"lens_target {value} names a class, but the model has no class head; "
                f"choose {CHANNEL_TARGET} (the current channel)"
            )
        if len(classes) > 20:
            listed = f"{len(classes)} classes; find one by name with explorer.search_classes"
        else:
            listed = ", ".join(classes)
        raise ValueError(
            f"lens_target {value} is out of range; choose {CHANNEL_TARGET} (the current channel) "
            f"or a class 0..{len(classes) - 1} ({listed})"
        )

    def target(self) -> tuple[Any, str]:
        """The engine's target for lens_target, and its label."""
        widget = self._widget
        if widget.lens_target == CHANNEL_TARGET:
            return (widget.layer, int(widget.channel)), f"channel {widget.channel}"
        return int(widget.lens_target), f"class {widget.classes[widget.lens_target]}"

    def key(self, kind: str) -> LensKey:
        """What a lens of `kind` depends on now.

        Grad-CAM: the layer, the image, the target (and the channel when it is the target);
        occlusion: the channel's, or with a class head Fig. 7's (the class, not the channel);
        the cascade: the channel and the method; faithfulness: the class and every method.
        """
        widget = self._widget
        layer, image, target = widget.layer, widget.image_version, int(widget.lens_target)
        channel = int(widget.channel)
        if kind == "lenses":
            return LensKey(layer, image, target, channel if target == CHANNEL_TARGET else None)
        if kind == "occlusion":
            if widget.classes:
                return LensKey(layer, image, target, None)
            return LensKey(layer, image, CHANNEL_TARGET, channel)
        if kind == "sanity":
            return LensKey(layer, image, CHANNEL_TARGET, channel, widget.method)
        return LensKey(layer, image, target, None, methods=tuple(widget.methods))

    def _target_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            self.check_target(change["new"])
            if self._follow:  # small layers at once, as picks do; large ones as a job
                if self._host.all_at_once(self._host.projector.layer_info(self._widget.layer)):
                    self.compute_lenses()
                else:
                    self.show_lenses()
            self.clear_stale()

        self._host.guarded(change, apply)

    # ------------------------------------------------------------------ picks
    def _on_pick(self) -> None:
        shown = self._keys.get("lenses")
        info = self._host.projector.layer_info(self._widget.layer)
        follow = shown not in (None, self.key("lenses")) and self._follow
        if follow and self._host.all_at_once(info) and not self._host.safely(self.compute_lenses):
            self.set_lens("lenses", b"", [])  # a lens error never reverts the pick
        self.clear_stale()

    def clear_stale(self) -> None:
        """Clear every lens shown for another layer, image, channel or target than the current."""
        for kind in [k for k, key in self._keys.items() if key != self.key(k)]:
            self.set_lens(kind, b"", [])

    def set_lens(
        self, kind: str, buffer: bytes, index: list[dict[str, Any]], key: LensKey | None = None
    ) -> None:
        """Replace one lens's payload (empty: cleared) and bump its version.

        `key`: what it was computed for (`key(kind)` when it was asked; default: now).
        """
        widget = self._widget
        version = {"lenses": "lens_version"}.get(kind, f"{kind}_version")
        with widget.hold_sync():
            setattr(widget, kind, buffer)
            setattr(widget, f"{kind}_index", index)
            setattr(widget, version, getattr(widget, version) + 1)
        if index:
            self._keys[kind] = self.key(kind) if key is None else key
        else:
            self._keys.pop(kind, None)

    # ------------------------------------------------------------------ lenses
    def show_lenses(self) -> int:
        """Grad-CAM and Guided Grad-CAM, as a job (see `Explorer.show_lenses`)."""
        target, label = self.target()
        key, layer, image = self.key("lenses"), self._widget.layer, self._host.current().model_input

        def steps() -> Steps[tuple[np.ndarray, np.ndarray]]:
            yield Step(0, 1)
            return gradcam_pair(self._host.projector, image, layer, target)

        def show(pair: tuple[np.ndarray, np.ndarray], _state: str) -> None:
            self._send_lenses(pair, layer, label, key)
            self._widget.status = f"Grad-CAM of {label} on {layer}"

        return self._host.job("lenses", f"Grad-CAM of {label}", steps, show)

    def compute_lenses(self) -> str:
        """Compute and send Grad-CAM and Guided Grad-CAM now; returns the target's label."""
        target, label = self.target()
        pair = gradcam_pair(
            self._host.projector, self._host.current().model_input, self._widget.layer, target
        )
        self._send_lenses(pair, self._widget.layer, label, self.key("lenses"))
        return label

    def _send_lenses(
        self, pair: tuple[np.ndarray, np.ndarray], layer: str, label: str, key: LensKey
    ) -> None:
        """Put Grad-CAM and Guided Grad-CAM into the `lenses` traits; picks follow them now."""
        cam, guided = pair
        buffer, index = pack_arrays([cam, self._host.in_shown_space(guided)])
        for entry, kind in zip(index, ("gradcam", "guided_gradcam"), strict=True):
            entry.update(kind=kind, layer=layer, target=label)
        self._follow = True
        self.set_lens("lenses", buffer, index, key)

    def show_occlusion(self) -> int:
        """The current channel's occlusion map, as a job (see `Explorer.show_occlusion`)."""
        layer, channel, image = (
            self._widget.layer,
            int(self._widget.channel),
            self._host.current().model_input,
        )
        label, key = f"channel {channel}", self.key("occlusion")
        whole: list[float] = []  # the channel's sum on the whole image

        def steps() -> Steps[np.ndarray]:
            whole.append(float(self._host.projector.activations(image, layer)[..., channel].sum()))
            target = (layer, channel)
            return (
                yield from occlusion_steps(self._host.projector, image, target, batch_size=None)
            )

        def show(occluded: np.ndarray, state: str) -> None:
            unoccluded = whole[0]
            done = int(np.isfinite(occluded).sum())
            filled = np.where(np.isfinite(occluded), occluded, np.float32(unoccluded))
            buffer, index = pack_arrays([filled])
            computed = occluded[np.isfinite(occluded)]
            index[0].update(
                kind="channel",
                target=label,
                unoccluded=unoccluded,
                min=float(computed.min(initial=unoccluded)),
                max=float(computed.max(initial=unoccluded)),
                done=done,
                total=int(occluded.size),
                state=state,
            )
            self.set_lens("occlusion", buffer, index, key)
            if state == "done":
                self._widget.status = f"occlusion map of {label}"

        return self._host.job("occlusion", f"occlusion of {label}", steps, show)

    def show_sanity(self) -> int:
        """The sanity cascade, as a job (see `Explorer.show_sanity`)."""
        layer, channel, method, image = (
            self._widget.layer,
            int(self._widget.channel),
            self._widget.method,
            self._host.current().model_input,
        )
        key = self.key("sanity")

        def steps() -> Steps[list[Any]]:
            return sanity_cascade_steps(self._host.projector, image, layer, channel, method=method)

        def show(cascade: list[Any], state: str) -> None:
            arrays = [self._host.in_shown_space(step.projection) for step in cascade]
            buffer, index = pack_arrays(arrays)
            for entry, step in zip(index, cascade, strict=True):
                entry.update(layer=step.layer, rho=float(step.rho))
            self.set_lens("sanity", buffer, index, key)
            if state == "done":
                self._widget.status = (
                    f"sanity cascade of channel {channel} ({method}): "
                    f"{len(cascade) - 1} layers randomised from {layer} down"
                )

        return self._host.job("sanity", f"sanity cascade of channel {channel}", steps, show)
