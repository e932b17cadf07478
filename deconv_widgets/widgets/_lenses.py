"""The Explorer's lenses: Grad-CAM, Guided Grad-CAM, occlusion maps and the sanity cascade.

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
from typing import Any

import numpy as np
import traitlets

from ..projection.lenses import gradcam_pair, occlusion_steps, sanity_cascade_steps
from ..projection.shown_space import to_shown
from ..projection.steps import Step, Steps
from ._base import IntSetting, pack_arrays
from ._jobs import JobRow, Jobs
from ._projection import ProjectionWidget

CHANNEL_TARGET = -1  # lens_target: the current channel (k >= 0: class k)
LENS_MESSAGES = ("lenses", "occlusion", "sanity")  # page requests, answered by show_<type>()


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


class LensWidget(ProjectionWidget):
    """Lens panels over the current pick (see the module's docstring for when they recompute)."""

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
    jobs = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The long computations asked for, oldest first: {id, kind ("ladder", "topk", "lenses",
    "occlusion", "sanity", "faithfulness"), label, done, total (0: unknown), state ("queued",
    "running", "done", "stopped", "failed"), error (failed only)}; the last few finished ones
    are kept. Set by Python only; the page draws a progress bar with a stop button for each
    (which sends {"type": "stop", "job": id})."""

    def _init_lenses(self, names: Sequence[str] | None) -> None:
        """Check and set the class names (constructor: ValueError/TypeError)."""
        self._lens_follow = False  # Grad-CAM was shown: picks recompute it (small layers)
        self._lens_keys: dict[str, tuple] = {}  # what each shown lens was computed for
        self.classes = class_names(self._projector.class_count, names)
        self._jobs = Jobs(self._worker, self._publish_jobs, self._say, inline=self._loop is None)

    # ------------------------------------------------------------------ jobs
    def _publish_jobs(self, rows: list[JobRow]) -> None:
        self.jobs = [dict(row) for row in rows]

    def _say(self, text: str) -> None:
        self.status = text

    def _job(self, kind: str, label: str, steps: Any, show: Any) -> int:
        """Queue a job on the worker (outside a kernel: run it now); returns its id."""
        assert self._jobs is not None  # made in _init_lenses
        job_id = self._jobs.submit(kind, label, steps, show)
        if self._loop is None:
            self._drain()
        return job_id

    def stop(self, job_id: int) -> None:
        """Stop a job of `jobs`: a queued one at once, a running one after its current step.

        What a stopped job computed so far stays shown (a partial occlusion map, the cascade's
        first steps, the top-k of the images searched so far).

        Raises:
            ValueError: no job has this id (the message lists those that can be stopped).
        """
        assert self._jobs is not None
        self._jobs.stop(job_id)

    # ------------------------------------------------------------------ targets
    def _check_target(self, value: int) -> int:
        """A lens_target in range, else ValueError naming the valid choices."""
        if value == CHANNEL_TARGET or 0 <= value < len(self.classes):
            return value
        if not self.classes:
            raise ValueError(
                f"lens_target {value} names a class, but the model has no class head; "
                f"choose {CHANNEL_TARGET} (the current channel)"
            )
        raise ValueError(
            f"lens_target {value} is out of range; choose {CHANNEL_TARGET} (the current channel) "
            f"or a class 0..{len(self.classes) - 1} ({self._target_text()})"
        )

    def _target_text(self) -> str:
        """The class names as a bad lens_target's message lists them."""
        return ", ".join(self.classes)

    def _target(self) -> tuple[Any, str]:
        """The engine's target for lens_target, and its label."""
        if self.lens_target == CHANNEL_TARGET:
            return (self.layer, int(self.channel)), f"channel {self.channel}"
        return int(self.lens_target), f"class {self.classes[self.lens_target]}"

    def _lens_key(self, kind: str) -> tuple:
        """What a lens depends on: layer, image and channel (the lens target / + method)."""
        if kind == "lenses":
            channel = int(self.channel) if self.lens_target == CHANNEL_TARGET else None
            return (self.layer, self._image_version, self.lens_target, channel)
        base = (self.layer, self._image_version, int(self.channel))
        return (*base, self.method) if kind == "sanity" else base

    @traitlets.observe("lens_target")
    def _lens_target_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            self._check_target(change["new"])
            if self._lens_follow:  # small layers at once, as picks do; large ones as a job
                if self._all_at_once(self._projector.layer_info(self.layer)):
                    self._compute_lenses()
                else:
                    self.show_lenses()
            self._clear_stale()

        self._guarded(change, apply)

    # ------------------------------------------------------------------ picks
    def _on_pick(self) -> None:
        super()._on_pick()
        shown = self._lens_keys.get("lenses")
        info = self._projector.layer_info(self.layer)
        follow = shown not in (None, self._lens_key("lenses")) and self._lens_follow
        if follow and self._all_at_once(info) and not self._safely(self._compute_lenses):
            self._set_lens("lenses", b"", [])  # a lens error never reverts the pick
        self._clear_stale()

    def _clear_stale(self) -> None:
        """Clear every lens shown for another layer, image, channel or target than the current."""
        for kind in [k for k, key in self._lens_keys.items() if key != self._lens_key(k)]:
            self._set_lens(kind, b"", [])

    def _set_lens(
        self, kind: str, buffer: bytes, index: list[dict[str, Any]], key: tuple | None = None
    ) -> None:
        """Replace one lens's payload (empty: cleared) and bump its version.

        `key`: what it was computed for (`_lens_key(kind)` when it was asked; default: now).
        """
        version = {"lenses": "lens_version"}.get(kind, f"{kind}_version")
        with self.hold_sync():
            setattr(self, kind, buffer)
            setattr(self, f"{kind}_index", index)
            setattr(self, version, getattr(self, version) + 1)
        if index:
            self._lens_keys[kind] = self._lens_key(kind) if key is None else key
        else:
            self._lens_keys.pop(kind, None)

    def _in_shown_space(self, array: np.ndarray) -> np.ndarray:
        """A model-input-space (H, W, C) array in the shown image's space."""
        return np.asarray(to_shown(np.asarray(array, np.float32), self._shown_matrix))

    # ------------------------------------------------------------------ lenses
    def show_lenses(self) -> int:
        """Grad-CAM (input size) and Guided Grad-CAM of the lens target on the current layer.

        A job (see `jobs`); returns its id. Once shown, they follow the picks on small layers.
        A class target that does not depend on the current layer (another branch), or a layer
        guided backprop cannot pass, fails the job (its row and the status line say why).
        """
        target, label = self._target()
        key, layer, image = self._lens_key("lenses"), self.layer, self._input

        def steps() -> Steps[tuple[np.ndarray, np.ndarray]]:
            yield Step(0, 1)
            return gradcam_pair(self._projector, image, layer, target)

        def show(pair: tuple[np.ndarray, np.ndarray], _state: str) -> None:
            self._send_lenses(pair, layer, label, key)
            self.status = f"Grad-CAM of {label} on {layer}"

        return self._job("lenses", f"Grad-CAM of {label}", steps, show)

    def _compute_lenses(self) -> str:
        """Compute and send Grad-CAM and Guided Grad-CAM now; returns the target's label."""
        target, label = self._target()
        pair = gradcam_pair(self._projector, self._input, self.layer, target)
        self._send_lenses(pair, self.layer, label, self._lens_key("lenses"))
        return label

    def _send_lenses(
        self, pair: tuple[np.ndarray, np.ndarray], layer: str, label: str, key: tuple
    ) -> None:
        """Put Grad-CAM and Guided Grad-CAM into the `lenses` traits; picks follow them now."""
        cam, guided = pair
        buffer, index = pack_arrays([cam, self._in_shown_space(guided)])
        for entry, kind in zip(index, ("gradcam", "guided_gradcam"), strict=True):
            entry.update(kind=kind, layer=layer, target=label)
        self._lens_follow = True
        self._set_lens("lenses", buffer, index, key)

    def show_occlusion(self) -> int:
        """The occlusion map of the current channel (a class head: ClassifierWidget's Fig. 7).

        A job (see `jobs`) whose map fills in as it goes; returns its id.
        """
        layer, channel, image = self.layer, int(self.channel), self._input
        label, key = f"channel {channel}", self._lens_key("occlusion")
        whole: list[float] = []  # the channel's sum on the whole image

        def steps() -> Steps[np.ndarray]:
            whole.append(float(self._projector.activations(image, layer)[..., channel].sum()))
            target = (layer, channel)
            return (yield from occlusion_steps(self._projector, image, target, batch_size=None))

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
            self._set_lens("occlusion", buffer, index, key)
            if state == "done":
                self.status = f"occlusion map of {label}"

        return self._job("occlusion", f"occlusion of {label}", steps, show)

    def show_sanity(self) -> int:
        """The sanity cascade of the current channel with the method on show (a copy is changed).

        A job (see `jobs`), drawn step by step; returns its id. A model that cannot be copied
        (keras.models.clone_model), a layer with no initializer to re-draw its weights, or a
        method that cannot pass a layer fails the job (its row says why).
        """
        layer, channel, method, image = self.layer, int(self.channel), self.method, self._input
        key = self._lens_key("sanity")

        def steps() -> Steps[list[Any]]:
            return sanity_cascade_steps(self._projector, image, layer, channel, method=method)

        def show(cascade: list[Any], state: str) -> None:
            arrays = [self._in_shown_space(step.projection) for step in cascade]
            buffer, index = pack_arrays(arrays)
            for entry, step in zip(index, cascade, strict=True):
                entry.update(layer=step.layer, rho=float(step.rho))
            self._set_lens("sanity", buffer, index, key)
            if state == "done":
                self.status = (
                    f"sanity cascade of channel {channel} ({method}): "
                    f"{len(cascade) - 1} layers randomised from {layer} down"
                )

        return self._job("sanity", f"sanity cascade of channel {channel}", steps, show)
