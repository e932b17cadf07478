"""The `deconv-widgets` command: `lab` (the tour), `render` (a PNG), `scan` and `atlas-html`.

This module parses the command line; what each command does is in `_cli_commands`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deconv_widgets import zoo  # names and small data only; models load when asked for
from deconv_widgets._cli_commands import (
    LENS_CHOICES,
    CommandError,
    run_atlas_html,
    run_lab,
    run_render,
    run_scan,
)

SEED_CHOICES = ("activation", "max", "ones")
METHOD_NAMES = "{method_names}"  # in a help text: `methods.NAMES`, read when the help is shown


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
    scan.add_argument(
        "--visualize",
        action="store_true",
        help="also visualise every unit (what it wants to see; a stage of its own, resumable)",
    )
    scan.add_argument(
        "--visualize-steps", type=int, default=512, help="Adam steps per visualisation (512)"
    )
    scan.add_argument(
        "--visualize-size",
        type=int,
        default=None,
        help="the visualisations' side (default: the model's own square size, else 128)",
    )
    scan.set_defaults(handler=run_scan)

    html = commands.add_parser(
        "atlas-html", help="static unit pages of an atlas (open index.html from file://)"
    )
    html.add_argument("atlas", help="the scan's --out folder")
    html.add_argument("--out", required=True, type=Path, help="folder for the pages")
    html.set_defaults(handler=run_atlas_html)


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
        help="image file (PNG, JPEG, ...); turned upright by its EXIF orientation, converted "
        "to the model's channels (grey: ITU-R BT.601 luma), centre-cropped to its aspect ratio "
        "and resized (Lanczos) to its input size, like the Explorer's uploads (default: a zoo "
        "shapes image)",
    )
    render.add_argument("--index", type=int, default=0, help="which zoo image or photo (default 0)")
    render.add_argument(
        "--raw-pixels",
        action="store_true",
        help="feed pixel values 0..255 instead of scaling them to 0..1",
    )
    render.add_argument("--out", required=True, type=Path, help="PNG file to write")
    render.set_defaults(handler=run_render)

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
    lab.set_defaults(handler=run_lab)
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
