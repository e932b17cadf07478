"""What the `deconv-widgets` commands do: `render` (a PNG), `lab`, `scan` and `atlas-html`.

`cli` parses the command line and calls the `run_*` function of the command with its arguments;
a user error raises CommandError (one line, exit code 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from deconv_widgets import zoo  # names and small data only; models load when asked for

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from deconv_widgets.projection import Projector

LENS_CHOICES = ("gradcam", "guided_gradcam", "occlusion")


class CommandError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""


def _load_model(path: Path | None) -> keras.Model:
    """The zoo model, or a .keras file loaded with safe_mode=True."""
    if path is None:
        return zoo.shapes_model()
    from deconv_widgets.projection import load_model

    try:
        return load_model(path, safe_mode=True)
    except (ValueError, TypeError) as error:
        raise CommandError(str(error)) from error


def _zoo_preset(name: str) -> zoo.Preset:
    """A zoo preset by name; a missing extra is a user error (the message gives the pip line)."""
    try:
        return zoo.preset(name)
    except ModuleNotFoundError as error:
        raise CommandError(str(error)) from error


def _load_image(args: argparse.Namespace, input_shape: tuple) -> np.ndarray:
    """The image to project: --image or a zoo image, as the model's input.

    Both go through `image_files` like the Explorer's uploads and the scan's files (a file:
    checked, EXIF-rotated, BT.601 grey or RGB, centre-cropped, Lanczos-resized), as float32 in
    [0, 1], or 0..255 with --raw-pixels.
    """
    from deconv_widgets.projection.image_files import decode_image, to_model_input

    height, width, channels = input_shape
    if channels not in (1, 3):
        raise CommandError(f"render supports models with 1 or 3 input channels, not {channels}")
    size = (height or 64, width or 64)
    if args.image is None:
        if args.index < 0:
            raise CommandError(f"--index must be >= 0, got {args.index}")
        images, _ = zoo.shapes_images(args.index + 1, size=64, random_seed=0)
        image = to_model_input(images[args.index], size, channels)
    else:
        path = str(args.image)
        try:
            data = args.image.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read image {path!r}: {error}") from error
        notes: list[str] = []
        try:
            image = decode_image(data, size, channels, name=f"image {path!r}", notes=notes)
        except ValueError as error:  # ImageFileError: what is wrong with the file, in words
            raise CommandError(f"cannot read {error}") from error
        if notes:
            print(f"note: image {path!r}: {', '.join(notes)}", file=sys.stderr)
    return image * np.float32(255.0) if args.raw_pixels else image


def _figure(
    image: np.ndarray,
    activation: np.ndarray,
    last: np.ndarray,
    args: argparse.Namespace,
    layer_name: str,
) -> Figure:
    """Input, activation and projection (or lens) panels with colour bars (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(12, 4), constrained_layout=True)
    if image.shape[-1] == 1:
        shown = axes[0].imshow(image[..., 0], cmap="gray")
        figure.colorbar(shown, ax=axes[0], shrink=0.8)
    else:
        low, high = float(image.min()), float(image.max())
        axes[0].imshow((image - low) / (high - low + 1e-12))
    axes[0].set_title("input")
    shown = axes[1].imshow(activation, cmap="viridis")
    figure.colorbar(shown, ax=axes[1], shrink=0.8)
    axes[1].set_title(f"{layer_name} channel {args.channel}: activation")
    if args.method in LENS_CHOICES:
        _lens_panel(figure, axes[2], image, last, args)
    else:
        summed = last.sum(axis=-1)
        limit = float(np.abs(summed).max()) or 1.0
        shown = axes[2].imshow(summed, cmap="RdBu_r", vmin=-limit, vmax=limit)
        figure.colorbar(shown, ax=axes[2], shrink=0.8)
        summed_note = "" if last.shape[-1] == 1 else " (sum over colour channels)"
        axes[2].set_title(f"{args.method} projection, seed {args.seed}{summed_note}")
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return figure


def _lens_panel(
    figure: Figure, axis: Axes, image: np.ndarray, lens: np.ndarray, args: argparse.Namespace
) -> None:
    """Draw a Grad-CAM (over the image), Guided Grad-CAM or occlusion map on the last axis."""
    if args.target_class is not None:
        target = f"class {args.target_class}"
    else:
        target = f"{args.layer} channel {args.channel}"
    if args.method == "gradcam":
        axis.imshow(image.mean(axis=-1), cmap="gray")
        shown = axis.imshow(lens, cmap="inferno", alpha=0.6)
        axis.set_title(f"Grad-CAM of {target} on {args.layer}")
    elif args.method == "guided_gradcam":
        summed = lens.sum(axis=-1)
        limit = float(np.abs(summed).max()) or 1.0
        shown = axis.imshow(summed, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_title(f"Guided Grad-CAM of {target}")
    else:
        height, width = image.shape[:2]  # the map's cells over the image they cover
        shown = axis.imshow(lens, cmap="viridis", extent=(0, width, height, 0))
        axis.set_title(f"occlusion map of {target}")
    figure.colorbar(shown, ax=axis, shrink=0.8)


def _lens(projector: Projector, model_input: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    """The --method lens of the target (--class, else the channel's summed activation)."""
    target = args.target_class if args.target_class is not None else (args.layer, args.channel)
    if args.method == "gradcam":
        return projector.gradcam(model_input, args.layer, target, size="input")
    if args.method == "guided_gradcam":
        return projector.guided_gradcam(model_input, args.layer, target)
    return projector.occlusion(model_input, target, progress=False)


def run_render(args: argparse.Namespace) -> int:
    """Write the input / activation / projection (or lens) figure to --out."""
    from deconv_widgets.projection import Projector
    from deconv_widgets.projection.shown_space import affine_matrix, to_shown

    name = str(args.model) if args.model is not None else "shapes"
    preset = _zoo_preset(name) if name in zoo.MODEL_NAMES and name != "shapes" else None
    model = preset.model if preset else _load_model(None if name == "shapes" else args.model)
    try:
        projector = Projector(model)
        if preset and args.image is None:
            if not 0 <= args.index < len(preset.images):
                raise CommandError(f"--index must be 0..{len(preset.images) - 1}, got {args.index}")
            image = preset.images[args.index]
        else:
            image = _load_image(args, projector.input_shape)
        model_input = preset.preprocess(image) if preset and preset.preprocess else image
        if args.method in LENS_CHOICES:
            projection = _lens(projector, model_input, args)
        else:
            projection = projector.project(
                model_input, args.layer, args.channel, method=args.method, seed=args.seed
            )
        if preset and preset.preprocess and projection.ndim == 3:  # shown in the image's space
            matrix = affine_matrix(preset.preprocess, image.shape)
            projection = to_shown(projection, matrix)
        activation = projector.activations(model_input, args.layer)[..., args.channel]
    except (ValueError, TypeError) as error:
        raise CommandError(str(error)) from error
    figure = _figure(image, activation, projection, args, args.layer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(args.out, format="png", dpi=100)
    except OSError as error:
        raise CommandError(f"cannot write {str(args.out)!r}: {error}") from error
    print(f"wrote {args.out}")
    return 0


def run_lab(args: argparse.Namespace) -> int:
    """Open JupyterLab on the tour; returns jupyter lab's exit code."""
    from deconv_widgets.launch import open_lab

    try:
        return open_lab(args.dir, args.jupyter_args)
    except (FileNotFoundError, OSError) as error:
        raise CommandError(str(error)) from error


def run_scan(args: argparse.Namespace) -> int:
    """Run the Beam scan; extra options go to the pipeline (e.g. --project for Dataflow)."""
    try:
        from deconv_widgets import scan
    except ModuleNotFoundError as error:
        raise CommandError(
            f'{error}; the scan needs the scan extra: pip install "deconv-widgets[scan]"'
        ) from error
    try:
        atlas = scan.run(
            args.model,
            args.images,
            args.layers,
            k=args.k,
            out=args.out,
            runner=args.runner,
            workers=args.workers,
            batch_size=args.batch_size,
            preprocess=args.preprocess,
            pipeline_args=args.jupyter_args,
            method=args.method,
            shard_size=args.shard_size,
            image_size=args.image_size,
            overwrite=args.overwrite,
            progress=True,
            visualize=args.visualize,
            visualize_steps=args.visualize_steps,
            visualize_size=args.visualize_size,
        )
    except (ValueError, TypeError) as error:
        raise CommandError(str(error)) from error
    report = atlas.report
    print(
        f"atlas of {len(atlas.layers)} layers over {report['images']} images in {atlas.folder} "
        f"(shards: {report.get('shards_computed', 0)} computed, "
        f"{report.get('shards_reused', 0)} reused"
        + (
            f"; visualisations: {report.get('visualizations_computed', 0)} computed, "
            f"{report.get('visualizations_reused', 0)} reused)"
            if atlas.visualized
            else ")"
        )
    )
    for number, reason in report["skipped"]:
        print(f"skipped image {number}: {reason}", file=sys.stderr)
    return 0


def run_atlas_html(args: argparse.Namespace) -> int:
    """Write the static unit pages of an atlas."""
    try:
        from deconv_widgets.scan import Atlas

        index = Atlas.load(args.atlas).to_html(args.out)
    except ModuleNotFoundError as error:
        raise CommandError(
            f'{error}; reading an atlas needs the scan extra: pip install "deconv-widgets[scan]"'
        ) from error
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from error
    print(f"wrote {index}")
    return 0
