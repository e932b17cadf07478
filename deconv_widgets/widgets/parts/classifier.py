"""The classifier part: its top-5, the class search, Fig. 7's occlusion maps, faithfulness.

On a model with a class head (output (N, classes)), the page shows the predicted classes under
the input (`predictions`, updated with every new image: a pick, an upload, a camera frame),
searches the class names for a lens target (`search_classes`, the same rules in the page), the
occlusion panel shows Zeiler & Fergus's Fig. 7 (`Projector.occlusion_maps`: (b) the strongest
unit of the layer, (d) the probability of the class, (e) the most probable class at each
position of the grey square) and, on request, RISE's deletion and insertion curves of every
method (`show_faithfulness`). Without a class head the occlusion panel keeps the channel's
map, and the top-5, the search and faithfulness are absent (faithfulness: a status line).

The class the occlusion maps and faithfulness explain is `lens_target` when it names a class,
else the top-1 class of the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ... import methods as registry
from ..._values import check_int
from ...projection.classifier import OcclusionMaps, occlusion_maps_steps
from ...projection.faithfulness import (
    MAX_STEPS,
    MODES,
    Faithfulness,
    box_upsample,
    occlusion_square,
)
from ...projection.lenses import occlusion_steps
from ...projection.steps import Step, Steps, within
from .._base import pack_arrays
from .._classes import SEARCH_LIMIT, imagenet_synonyms_of, search_classes
from .host import PartHost
from .lenses import CHANNEL_TARGET, LensesPart, LensKey

TOP_K = 5  # predictions shown under the input (fewer when the head has fewer classes)
LENS_METHODS = {
    "gradcam": "Grad-CAM",
    "guided_gradcam": "Guided Grad-CAM",
    "occlusion": "occlusion",
}
"""The lenses that faithfulness scores after the projection methods: their keys and labels."""


class ClassifierTraits(traitlets.HasTraits):
    """The classifier part's synced traits."""

    predictions = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The image's most probable classes, best first: [{class (int), name, probability (the
    softmax over the class head)}], min(5, classes) of them; [] without a class head. Updated
    with every new image (a pick, an upload, a camera frame). Set by Python only."""
    class_synonyms = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Other names of each class, comma-separated, index k for class k (WordNet's for ImageNet's
    1000 classes: "tabby, tabby cat"); [] when there are none. The page's class search matches
    them as well as `classes`. Set by Python only."""
    faithfulness = traitlets.Bytes(b"").tag(sync=True)
    """RISE's curves, float32 little-endian, packed as `faithfulness_index` says: the fractions
    of pixels changed (steps + 1), then per method its deletion and its insertion curve (the
    class's probability at each step); b"" when cleared. Set by Python only."""
    faithfulness_index = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Per method (the entries of `methods`, then "gradcam", "guided_gradcam", "occlusion"):
    {method, label, target (the class's label), class, deletion_auc, insertion_auc, fractions,
    deletion, insertion ({shape, offset} in `faithfulness`)}, or {method, label, error} for a
    method that cannot explain the class; [] when cleared. Set by Python only."""
    faithfulness_version = traitlets.Int(0).tag(sync=True)
    """Counts changes of `faithfulness` (computed or cleared); the page redraws on it. Set by
    Python only."""


class ClassifierPart:
    """Top-5, class search, Fig. 7's occlusion maps and faithfulness (see the module's doc)."""

    MESSAGES = ("faithfulness",)  # page requests, answered by show_<type>()

    def __init__(self, host: PartHost, lenses: LensesPart) -> None:
        self._host = host
        self._widget = host.widget
        self._lenses = lenses
        self._widget.class_synonyms = imagenet_synonyms_of(self._widget.classes)
        self._predict()
        host.on_image(self._on_image)

    # ------------------------------------------------------------------ predictions
    def _predict(self) -> None:
        """Put the current image's top classes into `predictions` ([] without a class head)."""
        classes = self._widget.classes
        if not classes:
            self._widget.predictions = []
            return
        image = self._host.current().model_input
        top = self._host.projector.top_classes(image, k=min(TOP_K, len(classes)))
        self._widget.predictions = [
            {"class": k, "name": classes[k], "probability": p} for k, p in top
        ]

    def _on_image(self) -> None:
        if self._widget.classes and not self._host.safely(self._predict):
            self._widget.predictions = []  # the status line says why

    def search_classes(self, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[int, str]]:
        """The classes whose name or synonyms contain `query` (case-insensitive): [(k, name)]."""
        if not isinstance(query, str):
            raise TypeError(f"query must be text, got {type(query).__name__}")
        widget = self._widget
        return search_classes(query, widget.classes, widget.class_synonyms, limit)

    # ------------------------------------------------------------------ the class explained
    def class_target(self) -> int:
        """lens_target when it names a class, else the image's top-1 class."""
        if not self._widget.classes:
            self._host.projector.require_head()  # ValueError: the model has no class head …
        if self._widget.lens_target != CHANNEL_TARGET:
            return int(self._widget.lens_target)
        if self._widget.predictions:  # the current image's, best first
            return int(self._widget.predictions[0]["class"])
        scores = self._host.projector.class_scores(self._host.current().model_input)
        return int(np.argmax(scores))

    def class_label(self, index: int) -> str:
        """A class as its label names it: "class tabby cat (281)"."""
        return f"class {self._widget.classes[index]} ({index})"

    # ------------------------------------------------------------------ Fig. 7
    def show_occlusion(self) -> int:
        """Fig. 7's three occlusion maps, as a job (see `Explorer.show_occlusion`)."""
        target = self.class_target()
        layer, image, key = (
            self._widget.layer,
            self._host.current().model_input,
            self._lenses.key("occlusion"),
        )
        label = self.class_label(target)

        def steps() -> Steps[OcclusionMaps]:
            projector = self._host.projector
            return occlusion_maps_steps(projector, image, layer, target, batch_size=None)

        def show(maps: OcclusionMaps, state: str) -> None:
            self._send_maps(maps, state, key)
            if state == "done":
                found = len(self._widget.occlusion_index[2]["classes"])
                self._widget.status = (
                    f"occlusion (Fig. 7) of {label}: {found} "
                    f"classes most probable over {maps.unit.size} positions of a "
                    f"{maps.patch}-pixel square"
                )

        return self._host.job("occlusion", f"occlusion (Fig. 7) of {label}", steps, show)

    def _send_maps(self, maps: OcclusionMaps, state: str, key: LensKey) -> None:
        """Fig. 7's maps (positions not occluded yet: the whole image's values) to the page."""
        unit, probability, argmax = maps.unoccluded
        names = self._widget.classes
        done = maps.most_probable >= 0
        found, counts = np.unique(maps.most_probable[done], return_counts=True)
        order = sorted(zip(found.tolist(), counts.tolist(), strict=True), key=lambda c: -c[1])
        arrays = [
            np.where(done, maps.unit, np.float32(unit)),
            np.where(done, maps.probability, np.float32(probability)),
            np.where(done, maps.most_probable, argmax).astype(np.float32),
        ]
        buffer, index = pack_arrays(arrays)
        details = [
            {
                "kind": "unit",
                "target": f"strongest unit: channel {maps.channel} of {maps.layer}",
                "layer": maps.layer,
                "channel": maps.channel,
                "unoccluded": unit,
            },
            {
                "kind": "probability",
                "target": f"p({names[maps.target]})",
                "class": maps.target,
                "unoccluded": probability,
            },
            {
                "kind": "most_probable",
                "target": "most probable class",
                "class": argmax,
                "unoccluded": argmax,
                "classes": [
                    {"class": int(k), "name": self._widget.classes[k], "count": int(n)}
                    for k, n in order
                ],
            },
        ]
        progress = {"done": int(done.sum()), "total": int(done.size), "state": state}
        for entry, detail, array in zip(index, details, arrays, strict=True):
            entry.update(detail, min=float(array.min()), max=float(array.max()))
            entry.update(patch=maps.patch, stride=maps.stride, **progress)
        self._lenses.set_lens("occlusion", buffer, index, key)

    # ------------------------------------------------------------------ faithfulness
    def show_faithfulness(self, steps: int = 20) -> int:
        """RISE's curves of every method, as a job (see `Explorer.show_faithfulness`)."""
        check_int(steps, "steps", 1, MAX_STEPS)
        target = self.class_target()
        label = self.class_label(target)
        key = self._lenses.key("faithfulness")
        names = [*self._widget.methods, *LENS_METHODS]
        image, shown, layer = (
            self._host.current().model_input,
            self._host.current().shown,
            self._widget.layer,
        )

        def run() -> Steps[tuple[list[dict[str, Any]], list[np.ndarray]]]:
            cache: dict[str, np.ndarray] = {}
            arrays: list[np.ndarray] = []  # the fractions, then each method's two curves
            rows: list[dict[str, Any]] = []
            yield Step(0, len(names))
            for number, name in enumerate(names):
                row: dict[str, Any] = {"method": name, "label": self._method_label(name)}
                try:
                    attribution = yield from self._attribution(
                        name, target, cache, (image, layer, number, len(names))
                    )
                    curves = [self._curve(shown, target, attribution, m, steps) for m in MODES]
                except ValueError as err:
                    rows.append({**row, "error": str(err)})
                    yield Step(number + 1, len(names), (list(rows), list(arrays)))
                    continue
                if not arrays:
                    arrays.append(curves[0].fractions)
                row.update(target=label, **{"class": target})
                for mode, curve in zip(MODES, curves, strict=True):
                    row[f"{mode}_auc"] = curve.auc
                    row[mode] = len(arrays)  # its curve's place in `arrays`, packed when shown
                    arrays.append(curve.curve)
                rows.append(row)
                yield Step(number + 1, len(names), (list(rows), list(arrays)))
            if not arrays:
                raise ValueError(f"no method could explain {label}: {rows[0]['error']}")
            return rows, arrays

        def show(table: tuple[list[dict[str, Any]], list[np.ndarray]], state: str) -> None:
            rows, arrays = table
            buffer, index = pack_arrays(arrays)
            packed = [dict(row) for row in rows]
            for row in packed:
                if "error" not in row:
                    row["fractions"] = index[0]
                    row.update({mode: index[row[mode]] for mode in MODES})
            self._lenses.set_lens("faithfulness", buffer, packed, key)
            scored = [row for row in packed if "error" not in row]
            if state == "done" and scored:
                low = min(scored, key=lambda r: r["deletion_auc"])["label"]
                high = max(scored, key=lambda r: r["insertion_auc"])["label"]
                self._widget.status = (
                    f"faithfulness of {label} ({steps} steps): {low} has the lowest deletion "
                    f"AUC, {high} the highest insertion AUC"
                )

        return self._host.job("faithfulness", f"faithfulness of {label}", run, show)

    def faithfulness_table(self) -> dict[str, tuple[float, float]]:
        """{method: (deletion AUC, insertion AUC)} of the last `show_faithfulness` ({} if none)."""
        return {
            row["method"]: (row["deletion_auc"], row["insertion_auc"])
            for row in self._widget.faithfulness_index
            if "error" not in row
        }

    @staticmethod
    def _method_label(name: str) -> str:
        """A method's label for the table: the registry's, or the lens's."""
        return LENS_METHODS.get(name) or registry.get(name).label

    def _attribution(
        self,
        name: str,
        target: int,
        cache: dict[str, np.ndarray],
        where: tuple[np.ndarray, str, int, int],
    ) -> Steps[np.ndarray]:
        """The class's attribution by one method, (H, W) or (H, W, C) in the shown space.

        `where`: the model input, the layer, and this method's step number of the job's total;
        occlusion's own steps are reported as that step (so that it can be stopped midway).
        """
        projector, (image, layer, number, total) = self._host.projector, where
        if name not in LENS_METHODS:
            cache[name] = self._host.in_shown_space(projector.project_class(image, target, name))
            return cache[name]
        if name == "occlusion":
            patch, stride = occlusion_square(*image.shape[:2])
            squares = occlusion_steps(projector, image, target, patch, stride, batch_size=None)
            occluded = yield from within(squares, Step(number, total))
            drop = projector.class_scores(image)[target] - occluded
            return box_upsample(drop, image.shape[:2], patch, stride)
        if "gradcam" not in cache:
            cache["gradcam"] = projector.gradcam(image, layer, target, size="input")
        if name == "gradcam":
            return cache["gradcam"]
        if "guided" not in cache:
            cache["guided"] = self._host.in_shown_space(
                projector.project_class(image, target, "guided")
            )
        return cache["guided"] * cache["gradcam"][..., None]

    def _curve(
        self, shown: np.ndarray, target: int, attribution: np.ndarray, mode: str, steps: int
    ) -> Faithfulness:
        """One deletion or insertion curve of a shown image."""

        def preprocess(batch: np.ndarray) -> np.ndarray:
            return np.stack([self._host.model_input(image) for image in batch])

        return self._host.projector.faithfulness(
            shown, target, attribution, mode=mode, steps=steps, preprocess=preprocess
        )
