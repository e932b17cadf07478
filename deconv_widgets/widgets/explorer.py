"""Explorer: the whole DeconvNet app, composed of parts over one projection widget.

```
Explorer ── ProjectionWidget (layer, channel, method, seed; picks on the worker; prefetch)
   │            └─ PartHost: projector, current image, image hooks, pick hooks, jobs, status
   ├─ ImagesPart      parts/images.py      ↔ js/src/parts/images.js      images, uploads, camera
   ├─ LensesPart      parts/lenses.py      ↔ js/src/parts/lenses.js      Grad-CAM, occlusion
   ├─ ClassifierPart  parts/classifier.py  ↔ js/src/parts/classifier.js  top-5, Fig. 7, RISE
   ├─ SearchPart      parts/search.py      ↔ js/src/parts/search.js      ladder, top-k, atlas
   └─ Jobs            parts/jobs.py        ↔ js/src/parts/jobs.js        the job bar
```

Each part owns its traits' behaviour and its state; its traits are declared in its traits
class, which the Explorer inherits only to sync them. Page messages are in `messages.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from .. import zoo
from ..methods import Method
from ..projection.loading import model_from
from ._base import esm
from ._classes import SEARCH_LIMIT
from ._projection import ProjectionWidget
from .parts.classifier import ClassifierPart, ClassifierTraits
from .parts.images import ImagesPart, ImagesTraits, checked_images
from .parts.jobs import Jobs, JobsTraits
from .parts.lenses import LensesPart, LensTraits
from .parts.search import (
    TOPK_DEFAULT,
    VISUALIZE_STEPS,
    SearchPart,
    SearchTraits,
    atlas_of,
)


class Explorer(
    ProjectionWidget, ImagesTraits, LensTraits, ClassifierTraits, SearchTraits, JobsTraits
):
    """Pick a layer and a channel; see activations and projections, ladder, top-k and lenses.

    Arguments passed to the constructor are checked at once (ValueError/TypeError). Traits
    set later (from Python or by the page) never raise: a bad value shows in `status` and
    the previous valid value is kept.
    """

    _esm = esm("explorer")
    _prefetches = True

    def __init__(
        self,
        model: Any = None,
        images: Any = None,
        preprocess: Callable[[np.ndarray], Any] | None = None,
        *,
        layer: str | None = None,
        channel: int | None = None,
        method: str | Method = "deconvnet",
        seed: str = "activation",
        image_index: int = 0,
        classes: Sequence[str] | None = None,
        atlas: Any = None,
    ) -> None:
        """Build the app on a Keras model and images to pick from.

        `model` may be a zoo name: None or "shapes" (the bundled shapes CNN and 16 of its
        images), "vgg16" (the trained VGG16, the photos and VGG16's preprocess; needs the
        `vgg16` extra) or "efficientnet_lite0" (the ImageNet classifier, the photos, its
        preprocess and the 1000 class names; needs the `classifier` extra); `images` and
        `preprocess` given with a zoo name replace its own.

        `layer` defaults to the last 4-D layer and `channel` to the one that responds most to
        the first image shown; `method` (the projection shown first) is a name of
        `deconv_widgets.methods.NAMES`, a configured key ("lrp_epsilon(epsilon=0.1)") or a
        configured Method (`methods.lrp_epsilon(0.1)`). `classes` names the classes of the
        model's class head (a zoo model's own by default; "class N" otherwise). `atlas` (a
        scan's `Atlas` or its `out` folder) shows each picked unit's hits from the atlas at
        once, and its visualisation when the scan made one.
        """
        super().__init__()
        if model is None or (isinstance(model, str) and model in zoo.MODEL_NAMES):
            preset = zoo.preset(model or "shapes")
            model = preset.model
            images = preset.images if images is None else images
            preprocess = preset.preprocess if preprocess is None else preprocess
            classes = preset.classes if classes is None else classes
        model = model_from(model)  # a .keras path, or an unknown name: ValueError first
        if images is None:
            raise ValueError("images are needed with your own model: pass an array (N, H, W, C)")
        if preprocess is not None and not callable(preprocess):
            raise TypeError("preprocess must be a function image -> model input, or None")
        stack = checked_images(images, image_index)
        self._init_projection(model, stack[image_index], layer, channel, method, seed, preprocess)
        host = self._part_host(job=self._job)
        self._jobs = Jobs(self._worker, self._publish_jobs, self._say, inline=self._loop is None)
        self._images_part = ImagesPart(host, stack, image_index)
        self._lenses = LensesPart(host, classes)
        self._classifier = ClassifierPart(host, self._lenses)
        self._search = SearchPart(
            host, lambda: self._images_part.images, atlas_of(atlas, self._projector)
        )
        self._handlers: dict[str, Callable[[dict[str, Any], list[Any]], object]] = {
            "view": lambda _c, _b: self._page_shown(),
            "stop": lambda c, _b: self.stop(c.get("job")),  # checked by Jobs.stop
            "ladder": lambda _c, _b: self.show_ladder(),
            "topk": lambda c, _b: self.show_top_k(_topk_k(c)),
            "visualize": lambda _c, _b: self.show_visualization(),
            "lenses": lambda _c, _b: self.show_lenses(),
            "occlusion": lambda _c, _b: self.show_occlusion(),
            "sanity": lambda _c, _b: self.show_sanity(),
            "faithfulness": lambda _c, _b: self.show_faithfulness(),
        }
        for kind in ImagesPart.MESSAGES:
            self._handlers[kind] = partial(self._images_part.message, kind)
        self.on_msg(self._on_message)

    def _job(self, kind: str, label: str, steps: Any, show: Any) -> int:
        """Queue a job on the worker (outside a kernel: run it now); returns its id."""
        assert self._jobs is not None  # made in __init__
        job_id = self._jobs.submit(kind, label, steps, show)
        if self._loop is None:
            self._drain()
        return job_id

    def _publish_jobs(self, rows: list[Any]) -> None:
        self.jobs = [dict(row) for row in rows]

    def _say(self, text: str) -> None:
        self.status = text

    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        """Page requests (`messages.PAGE_MESSAGES`), each answered by its part; never raises."""
        kind = content.get("type") if isinstance(content, dict) else None
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is not None:
            self._safely(lambda: handler(content, list(buffers or [])))

    # ------------------------------------------------------------------ images
    @property
    def images(self) -> np.ndarray:
        """The images to pick from, (N, H, W, C) float32 in [0, 1] (read-only)."""
        return self._images_part.images

    def add_images(self, images: Any) -> int:
        """Append images and show the first of them; returns its index.

        Args:
            images: an array (N, H, W, C) or (H, W, C): floats in [0, 1], uint8 0..255 or
                uint16 0..65535, C = 1 to 4 (grey, grey and alpha, RGB, RGBA); or the path of
                an image file, or a list of paths. Each becomes one of the Explorer's images
                by the conversion of every model input (`projection.image_files`: EXIF
                orientation, alpha over white, BT.601 grey or grey repeated to RGB, centre
                crop to their aspect ratio, Lanczos resize to their size).

        Returns:
            The index of the first image added (now `image_index`).

        Raises:
            ValueError, TypeError: a bad array or file (nothing is added).
        """
        return self._images_part.add_images(images)

    def camera_frame(self, frame: Any) -> None:
        """Show one frame as the page's camera sends it (RGB uint8 (H, W, 3), the images' size).

        Raises:
            ValueError: a frame of another shape.
        """
        self._images_part.camera_frame(frame)

    def freeze(self) -> int:
        """Keep the last camera frame as an image (appended and shown); returns its index.

        Raises:
            ValueError: no camera frame has been shown yet.
        """
        return self._images_part.freeze()

    # ------------------------------------------------------------------ jobs
    def stop(self, job_id: Any) -> None:
        """Stop a job of `jobs`: a queued one at once, a running one after its current step.

        What a stopped job computed so far stays shown (a partial occlusion map, the cascade's
        first steps, the top-k of the images searched so far).

        Raises:
            ValueError: no job has this id (the message lists those that can be stopped).
        """
        assert self._jobs is not None
        self._jobs.stop(job_id)

    # ------------------------------------------------------------------ search
    def show_ladder(self) -> int:
        """The current channel's ladder (one rung per layer), as a job; returns its id.

        A path down to the input that branches or merges, or has a layer with no explicit step
        or that the DeconvNet cannot pass, fails the job (its row names the layer).
        """
        return self._search.show_ladder()

    def show_top_k(self, k: int = TOPK_DEFAULT) -> int:
        """Search every image for the current channel's k strongest activations, as a job.

        Stopped, it shows the top-k of the images searched so far. Returns the job's id.

        Args:
            k: the number of hits kept, an int >= 1.

        Raises:
            TypeError: a k that is not an int.
            ValueError: k < 1.
        """
        return self._search.show_top_k(k)

    def show_visualization(self, steps: int = VISUALIZE_STEPS) -> int:
        """What the current channel wants to see, beside what it gets (its top-k), as a job.

        `Projector.visualize` with the Explorer's preprocess at the model's input size (128
        when it takes any): `visualization` is redrawn as the image sharpens, with the
        objective's curve; a stopped job keeps the last image. Returns the job's id.

        Args:
            steps: Adam steps, an int >= 1 (the page asks for VISUALIZE_STEPS, 256).
        """
        return self._search.show_visualization(steps)

    # ------------------------------------------------------------------ lenses
    def show_lenses(self) -> int:
        """Grad-CAM (input size) and Guided Grad-CAM of the lens target on the current layer.

        A job (see `jobs`); returns its id. Once shown, they follow the picks on small layers.
        A class target that does not depend on the current layer (another branch), or a layer
        guided backprop cannot pass, fails the job (its row and the status line say why).
        """
        return self._lenses.show_lenses()

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
        if self.classes:
            return self._classifier.show_occlusion()
        return self._lenses.show_occlusion()

    def show_sanity(self) -> int:
        """The sanity cascade of the current channel with the method on show (a copy is changed).

        A job (see `jobs`), drawn step by step; returns its id. A model that cannot be copied
        (keras.models.clone_model), a layer with no initializer to re-draw its weights, or a
        method that cannot pass a layer fails the job (its row says why).
        """
        return self._lenses.show_sanity()

    # ------------------------------------------------------------------ classifier
    def search_classes(self, query: str, limit: int = SEARCH_LIMIT) -> list[tuple[int, str]]:
        """The classes whose name or synonyms contain `query` (case-insensitive): [(k, name)].

        As the page's lens-target search: `explorer.lens_target = explorer.search_classes(
        "tabby")[0][0]` explains "tabby cat" (281 on ImageNet). Ranked: the index, a whole
        name, a name that starts with the query, any other; ties by class index.
        """
        return self._classifier.search_classes(query, limit)

    def show_faithfulness(self, steps: int = 20) -> int:
        """RISE's deletion and insertion curves of every method, for the class explained.

        For `lens_target` (or the top-1 class): each projection method (`methods`, the class
        projected back to the pixels), Grad-CAM and Guided Grad-CAM on the current layer, and
        occlusion (the drop of the class's score under the square, box-upsampled to pixels)
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
        return self._classifier.show_faithfulness(steps)

    @property
    def faithfulness_table(self) -> dict[str, tuple[float, float]]:
        """{method: (deletion AUC, insertion AUC)} of the last `show_faithfulness` ({} if none)."""
        return self._classifier.faithfulness_table()


def _topk_k(content: dict[str, Any]) -> int:
    """The k of a "topk" message (TOPK_DEFAULT when it is not an int)."""
    k = content.get("k", TOPK_DEFAULT)
    return k if isinstance(k, int) and not isinstance(k, bool) else TOPK_DEFAULT
