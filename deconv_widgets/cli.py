"""The `deconv-widgets` command: `lab` (the tour), `render` (a PNG), `scan` and `atlas-html`."""

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
SEED_CHOICES = ("activation", "max", "ones")
METHOD_NAMES = "{method_names}"  # in a help text: `methods.NAMES`, read when the help is shown


class CommandError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""


class _Help(argparse.HelpFormatter):
    """Help that lists the registry's methods (deconv_widgets.methods: TensorFlow, so lazily)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        if text is None or METHOD_NAMES not in text:
            return text
        from deconv_widgets import methods

        return text.replace(METHOD_NAMES, ", ".join(methods.NAMES))


def _method(text: str) -> str:
    """A --method of `scan`: a name of `methods.NAMES` or a configured key, as its key."""
    from deconv_widgets import methods

    try:
        return methods.get(text).key
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _method_or_lens(text: str) -> str:
    """A --method of `render`: a lens of LENS_CHOICES, or a method as `_method` reads it."""
    if text in LENS_CHOICES:
        return text
    try:
        return _method(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error}; or a lens: {', '.join(LENS_CHOICES)}") from None


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


def _fit_image(pixels: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """Resize an (h, w, c) uint8 or [0, 1] image to (height, width) and `channels` channels."""
    from PIL import Image

    if pixels.shape[-1] != channels:
        if channels == 3 and pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        elif channels == 1 and pixels.shape[-1] == 3:
            pixels = pixels.mean(axis=-1, keepdims=True)
        else:
            raise CommandError(f"cannot convert a {pixels.shape[-1]}-channel image to {channels}")
    if pixels.shape[:2] != (height, width):
        print(
            f"note: resizing the image from {pixels.shape[1]}x{pixels.shape[0]} to the model's "
            f"input {width}x{height}",
            file=sys.stderr,
        )
        planes = [
            np.asarray(
                Image.fromarray(pixels[..., c].astype(np.float32), mode="F").resize(
                    (width, height), Image.Resampling.BILINEAR
                )
            )
            for c in range(channels)
        ]
        pixels = np.stack(planes, axis=-1)
    return pixels.astype(np.float32)


def _check_image_pixels(size: tuple[int, int], path: Path) -> None:
    """Refuse an image file above MAX_IMAGE_PIXELS before decoding it."""
    from deconv_widgets.projection import MAX_IMAGE_PIXELS

    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise CommandError(
            f"image {str(path)!r} is {width}x{height} = {width * height} pixels, above the "
            f"limit MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (4096 x 4096); resize it first"
        )


def _load_image(args: argparse.Namespace, input_shape: tuple) -> np.ndarray:
    """The image to project: a PNG (scaled to [0, 1] unless --raw-pixels) or a zoo image."""
    height, width, channels = input_shape
    if channels not in (1, 3):
        raise CommandError(f"render supports models with 1 or 3 input channels, not {channels}")
    if height is None or width is None:
        height = height or 64
        width = width or 64
    if args.image is None:
        if args.index < 0:
            raise CommandError(f"--index must be >= 0, got {args.index}")
        images, _ = zoo.shapes_images(args.index + 1, size=64, random_seed=0)
        if args.raw_pixels:
            images = images * 255.0
        return _fit_image(images[args.index], height, width, channels)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(args.image) as opened:  # reads the header only
            _check_image_pixels(opened.size, args.image)
            mode = "L" if channels == 1 else "RGB"
            pixels = np.asarray(opened.convert(mode), np.float32)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise CommandError(f"cannot read image {str(args.image)!r}: {error}") from error
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if not args.raw_pixels:
        pixels = pixels / 255.0
    return _fit_image(pixels, height, width, channels)


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


def _render(args: argparse.Namespace) -> int:
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


def _lab(args: argparse.Namespace) -> int:
    """Open JupyterLab on the tour; returns jupyter lab's exit code."""
    from deconv_widgets.launch import open_lab

    try:
        return open_lab(args.dir, args.jupyter_args)
    except (FileNotFoundError, OSError) as error:
        raise CommandError(str(error)) from error


def _scan(args: argparse.Namespace) -> int:
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
        )
    except (ValueError, TypeError) as error:
        raise CommandError(str(error)) from error
    report = atlas.report
    print(
        f"atlas of {len(atlas.layers)} layers over {report['images']} images in {atlas.folder} "
        f"(shards: {report.get('shards_computed', 0)} computed, "
        f"{report.get('shards_reused', 0)} reused)"
    )
    for number, reason in report["skipped"]:
        print(f"skipped image {number}: {reason}", file=sys.stderr)
    return 0


def _atlas_html(args: argparse.Namespace) -> int:
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


def _add_scan_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `scan` and `atlas-html` commands."""
    scan = commands.add_parser(
        "scan",
        help="the top-k of every channel of some layers over image files, on Apache Beam",
        formatter_class=_Help,
        description="Scan image files with an Apache Beam pipeline and write an atlas to --out. "
        "Options this command does not know go to the pipeline: e.g. --project, --region and "
        "--temp_location with --runner DataflowRunner. A killed scan resumes when started again "
        "with the same arguments.",
    )
    scan.add_argument(
        "--model",
        required=True,
        help="a zoo name (shapes, vgg16, efficientnet_lite0) or a .keras file",
    )
    scan.add_argument(
        "--images", required=True, help="a folder or a glob pattern of PNG/JPEG files"
    )
    scan.add_argument("--layers", required=True, help="layer names, comma-separated")
    scan.add_argument("--k", type=int, default=9, help="hits kept per channel (default 9)")
    scan.add_argument("--out", required=True, help="the scan's folder (resumable)")
    scan.add_argument("--runner", default="DirectRunner", help="a Beam runner (DirectRunner)")
    scan.add_argument(
        "--workers", type=int, default=2, help="DirectRunner's worker processes (default 2)"
    )
    scan.add_argument("--batch-size", type=int, default=64, help="images per forward pass")
    scan.add_argument(
        "--shard-size", type=int, default=1024, help="files per shard, the unit of resumption"
    )
    scan.add_argument(
        "--preprocess",
        default=None,
        choices=zoo.PREPROCESS_NAMES,
        help="a zoo model's own preprocess",
    )
    scan.add_argument(
        "--method",
        default="deconvnet",
        type=_method,
        help=f"the projection of each hit: one of {METHOD_NAMES}, or a configured one such as "
        "'lrp_epsilon(epsilon=0.1)' (default deconvnet)",
    )
    scan.add_argument(
        "--image-size", type=int, default=None, help="side for a model that takes any size"
    )
    scan.add_argument(
        "--overwrite", action="store_true", help="replace a different scan held in --out"
    )
    scan.set_defaults(handler=_scan)

    html = commands.add_parser(
        "atlas-html", help="static unit pages of an atlas (open index.html from file://)"
    )
    html.add_argument("atlas", help="the scan's --out folder")
    html.add_argument("--out", required=True, type=Path, help="folder for the pages")
    html.set_defaults(handler=_atlas_html)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="deconv-widgets", description="DeconvNet projections of Keras CNNs."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser(
        "render",
        help="write input, activation and projection of one channel to a PNG",
        formatter_class=_Help,
    )
    render.add_argument(
        "--layer", required=True, help="layer name (a nested model's inner layer: outer/inner)"
    )
    render.add_argument("--channel", required=True, type=int, help="channel index")
    render.add_argument(
        "--method",
        default="deconvnet",
        type=_method_or_lens,
        help=f"a projection of the channel: one of {METHOD_NAMES}, or a configured one such as "
        "'lrp_epsilon(epsilon=0.1)'; or a lens: Grad-CAM on --layer (gradcam), Guided Grad-CAM "
        "(guided_gradcam), an occlusion map (occlusion; of the channel's summed activation, or "
        "of --class). Default deconvnet",
    )
    render.add_argument(
        "--class",
        dest="target_class",
        type=int,
        default=None,
        help="with a lens: the class to explain (the model's output before its softmax) "
        "instead of the channel",
    )
    render.add_argument("--seed", default="activation", choices=SEED_CHOICES)
    render.add_argument(
        "--model",
        type=Path,
        help="a .keras file, or a zoo name: shapes (the default), vgg16 (the trained VGG16 on "
        "the photos, with its preprocess; needs the vgg16 extra), efficientnet_lite0 (the "
        "ImageNet classifier on the photos; needs the classifier extra)",
    )
    render.add_argument(
        "--image",
        type=Path,
        help="image file (PNG, ...); converted to the model's channels and resized to its "
        "input size if needed (default: a zoo shapes image)",
    )
    render.add_argument("--index", type=int, default=0, help="which zoo image or photo (default 0)")
    render.add_argument(
        "--raw-pixels",
        action="store_true",
        help="feed pixel values 0..255 instead of scaling them to 0..1",
    )
    render.add_argument("--out", required=True, type=Path, help="PNG file to write")
    render.set_defaults(handler=_render)

    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on the tour notebook (other options go to jupyter lab)",
        description="Open JupyterLab on the tour. The notebooks are copied to --dir first when "
        "the package is installed (never overwriting a notebook already there); options this "
        "command does not know, e.g. --no-browser or --port=8899, are passed to jupyter lab.",
    )
    lab.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="writable folder for the notebooks (default: the checkout's notebooks/ folder, "
        "else ~/deconv-widgets-notebooks)",
    )
    lab.set_defaults(handler=_lab)
    _add_scan_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `deconv-widgets` command."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("lab", "scan"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    try:
        return args.handler(args)
    except CommandError as error:
        print(f"deconv-widgets {args.command}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    sys.exit(main())
