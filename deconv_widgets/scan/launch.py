"""`scan.run`: check the request, claim `out`, run the Beam pipeline, assemble the atlas."""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras

from .. import zoo
from ..methods import Method
from ..projection.engine import Projector
from ..projection.loading import model_from
from ..projection.shown_space import affine_matrix
from ..projection.visualize import image_side, visualize_steps
from . import manifest, pipeline, work
from .atlas import Atlas, assemble, is_complete
from .files import ScanError, file_stamp, image_files

FREE_SIZE = 224  # the side images are fitted to when the model takes any size
SHARD_SIZE = 1024  # files per shard: the unit of work on a worker and of resumption


def _local(path: str) -> str:
    """An absolute path for a local file, a URL (gs://...) as it is."""
    return path if "://" in path else os.path.abspath(path)


def _model_spec(model: Any) -> tuple[str, keras.Model]:
    """(what workers load: a zoo name or a .keras path, the model itself)."""
    if isinstance(model, str) and model in zoo.MODEL_NAMES:
        return model, zoo.load(model)
    if isinstance(model, str | os.PathLike):
        return _local(os.fspath(model)), model_from(model)
    if isinstance(model, keras.Model):
        return "", model  # saved under out once out is claimed
    raise TypeError(
        f"model must be a zoo name ({', '.join(zoo.MODEL_NAMES)}), the path of a .keras file "
        f"or a keras.Model, got {type(model).__name__}"
    )


def _layer_names(projector: Projector, layers: Any) -> tuple[str, ...]:
    """The scanned layers, checked (a name, a comma-separated string or a list)."""
    listed = layers
    if isinstance(layers, str):
        listed = [name.strip() for name in layers.split(",") if name.strip()]
    if not isinstance(listed, Sequence) or not listed:
        known = ", ".join(info.name for info in projector.layers)
        raise ValueError(f"layers must name at least one layer; choose from: {known}")
    names = tuple(projector.layer_info(layer).name for layer in listed)
    if len(set(names)) != len(names):
        raise ValueError(f"layers lists a layer twice: {list(names)}")
    return names


def _image_size(projector: Projector, image_size: int | None) -> tuple[int, int]:
    """(H, W) the files are fitted to: the model's, or `image_size` for a model of any size."""
    height, width, _ = projector.input_shape
    if height is not None and width is not None:
        if image_size is not None and (image_size, image_size) != (height, width):
            raise ValueError(
                f"image_size={image_size} does not fit the model's input {height}x{width}; "
                "leave it out (images are fitted to the model's size)"
            )
        return int(height), int(width)
    side = FREE_SIZE if image_size is None else image_size
    return int(height or side), int(width or side)


def _check_visualize(
    projector: Projector, layer: str, steps: Any, size: int, preprocess: Any
) -> None:
    """Check the visualisation's settings before any work (the same errors as visualize)."""
    checked = visualize_steps(
        projector, layer, 0, steps, size, preprocess=work.visual_preprocess(preprocess)
    )
    next(checked)  # its step 0: everything checked, nothing computed
    checked.close()


def run(
    model: str | os.PathLike | keras.Model,
    images: str | os.PathLike | Sequence[str | os.PathLike],
    layers: str | Sequence[str],
    k: int = 9,
    out: str | os.PathLike = "atlas/",
    runner: str = "DirectRunner",
    workers: int = 2,
    batch_size: int = 64,
    preprocess: str | Callable | None = None,
    pipeline_args: Sequence[str] | None = None,
    *,
    method: str | Method = "deconvnet",
    shard_size: int = SHARD_SIZE,
    image_size: int | None = None,
    overwrite: bool = False,
    progress: Any = True,
    visualize: bool = False,
    visualize_steps: int = 512,
    visualize_size: int | None = None,
) -> Atlas:
    """Scan image files for the k strongest activations of every channel of `layers`.

    Args:
        model: a zoo name (`zoo.MODEL_NAMES`), the path of a .keras file, or a keras.Model
            (saved under `out` for the workers).
        images: a folder or a glob pattern (PNG/JPEG files, sorted), or a list of files (in
            its order). Each is fitted to the model's input: centre crop, resize.
        layers: the layers to scan (names, or one comma-separated string); a nested model's
            inner layers as "outer/inner", as `Projector.layers` lists them.
        k: hits kept per channel.
        out: the scan's folder: shards, projections and the atlas are kept there.
        runner: the Beam runner ("DirectRunner" here; "DataflowRunner", "FlinkRunner", ...).
        workers: worker processes for DirectRunner.
        pipeline_args: any runner's own flags (e.g. ["--project=...", "--region=..."] for
            Dataflow).
        batch_size: images per forward pass on a worker.
        preprocess: None, a zoo name ("vgg16", "efficientnet_lite0"), or a picklable function
            shown images -> model inputs.
        method: the projection of each hit: a name of `deconv_widgets.methods.NAMES`, a
            configured key ("lrp_epsilon(epsilon=0.1)") or a configured Method
            (`methods.lrp_epsilon(0.1)`). The workers get its key; `Atlas.method` is that key.
        shard_size: files per shard (the unit of work and of resumption).
        image_size: the side images are fitted to when the model takes any size (224).
        overwrite: replace a different scan held in `out` instead of refusing.
        progress: True (a progress bar), False, or a function (done, total).
        visualize: also visualise every unit of `layers` (`Projector.visualize`: Fourier,
            decorrelated, robust, `random_seed=0`, the scan's preprocess), as a stage of its
            own on the workers, VISUAL_CHANNELS units to a batch; resumable like the rest.
            Asked of a finished scan, only the visualisations are computed.
        visualize_steps: Adam steps per visualisation (lucid's default: 512).
        visualize_size: their side (None: the model's own square size, else 128).

    Returns:
        The Atlas; the same as `Projector.top_k` over the same images in the same order.

    Raises:
        ScanError: no files match, or `out` holds another scan (unreadable files are not an
            error: they are skipped and listed in `atlas.report["skipped"]`).
        ValueError: a bad layer, k, size or model.
        TypeError: a layer, k, size or model of the wrong type.
    """
    method = pipeline.check_scan_args(k, batch_size, shard_size, workers, method)
    if not isinstance(runner, str):
        raise TypeError(f"runner must be a Beam runner's name, got {type(runner).__name__}")
    out = _local(os.fspath(out))
    sources = [_local(path) for path in image_files(images)]
    model_name, keras_model = _model_spec(model)
    projector = Projector(keras_model)
    names = _layer_names(projector, layers)
    size = _image_size(projector, image_size)
    channels = int(projector.input_shape[-1] or 0)
    if channels not in (1, 3):
        raise ValueError(f"the scan reads grey or RGB files; the model takes {channels} channels")
    if isinstance(preprocess, str):
        zoo.preprocess_named(preprocess)  # ValueError listing the names
    elif preprocess is not None and not callable(preprocess):
        raise ValueError(
            f"preprocess must be None, a function or one of {', '.join(zoo.PREPROCESS_NAMES)}, "
            f"got {preprocess!r}"
        )
    wanted = manifest.manifest(
        {
            "model": manifest.model_fingerprint(keras_model),
            "layers": list(names),
            "k": k,
            "method": method,
            "preprocess": manifest.callable_name(preprocess),
            "size": list(size),
            "batch_size": batch_size,
            "shard_size": shard_size,
            "files": [list(stamp) for stamp in file_stamp(sources)],
        }
    )
    if not isinstance(visualize, bool):
        raise TypeError(f"visualize must be True or False, got {type(visualize).__name__}")
    visual_side, visual_key = 0, ""
    if visualize:
        visual_side = image_side(visualize_size, *projector.input_shape[:2])
        for name in names:
            _check_visualize(projector, name, visualize_steps, visual_side, preprocess)
        visual_key = manifest.manifest(
            {"scan": wanted["key"], "steps": visualize_steps, "size": visual_side,
             "recipe": "fourier, decorrelated, robust, seed 0, lr 0.05"}
        )["key"]  # fmt: skip
    resumed = manifest.claim(out, wanted, overwrite)
    if not model_name:
        model_name = str(Path(out) / "model.keras")
        if not (resumed and Path(model_name).is_file()):
            keras_model.save(model_name)
    spec = work.ScanSpec(
        model=model_name,
        layers=names,
        k=int(k),
        method=method,
        preprocess=preprocess,
        size=size,
        channels=channels,
        batch_size=int(batch_size),
        shard_size=int(shard_size),
        files=tuple(sources),
        out=out,
        key=wanted["key"],
        threads=pipeline.local_threads(runner, workers),
        visualize_steps=int(visualize_steps) if visualize else 0,
        visualize_size=visual_side,
        visualize_key=visual_key,
    )
    if resumed and is_complete(out, spec.key, visual_key):
        return Atlas.load(out)
    infos = [projector.layer_info(name) for name in names]
    counts = [int(info.output_shape[-1] or 0) for info in infos]
    found = pipeline.execute(spec, runner, workers, pipeline_args, progress, counts)
    layer_rows = [
        {
            "name": info.name,
            "kind": info.kind,
            "output_shape": list(info.output_shape),
            "channels": count,
            "receptive_field": info.receptive_field,
        }
        for info, count in zip(infos, counts, strict=True)
    ]
    prepare = work.preprocess_of(preprocess)
    matrix = affine_matrix(prepare if preprocess is not None else None, (*size, channels))
    report = {"shards": spec.shard_count, "resumed": resumed, "runner": runner, **found}
    assemble(spec, layer_rows, matrix, report)
    atlas = Atlas.load(out)
    skipped = atlas.report["skipped"]
    if len(skipped) == len(sources):
        raise ScanError(
            f"none of the {len(sources)} files could be read, e.g. {skipped[0][1]}; the scan's "
            f"report is in {out}"
        )
    return atlas
