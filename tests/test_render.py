"""`deconv-widgets render`: writes a real, non-blank PNG; clear errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from deconv_widgets.cli import main
from deconv_widgets.methods import NAMES

ROOT = Path(__file__).resolve().parents[1]


def _assert_nonblank_png(path: Path) -> np.ndarray:
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"), np.float32)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 600
    assert pixels.std() > 10  # not a blank canvas
    # colour appears (the viridis / RdBu panels), not only grey axes
    assert np.abs(pixels[..., 0] - pixels[..., 2]).max() > 50
    return pixels


def test_render_zoo_default(tmp_path, capsys):
    out = tmp_path / "figure.png"
    assert main(["render", "--layer", "conv3_2", "--channel", "3", "--out", str(out)]) == 0
    _assert_nonblank_png(out)
    assert "wrote" in capsys.readouterr().out


def test_render_methods_give_different_pictures(tmp_path):
    pictures = []
    for method in ("deconvnet", "saliency"):
        out = tmp_path / f"{method}.png"
        args = ["render", "--layer", "pool2", "--channel", "7", "--index", "3"]
        main([*args, "--method", method, "--seed", "max", "--out", str(out)])
        pictures.append(_assert_nonblank_png(out))
    assert not np.array_equal(*pictures)


@pytest.mark.slow("renders Grad-CAM, occlusion and the cascade to files (~4 s)")
def test_render_lenses_write_the_lens_beside_the_activation(tmp_path):
    pictures = {}
    base = ["render", "--layer", "conv3_2", "--channel", "3", "--index", "2"]
    for method, extra in [
        ("gradcam", []),
        ("gradcam", ["--class", "1"]),
        ("guided_gradcam", []),
        ("occlusion", ["--class", "1"]),
    ]:
        out = tmp_path / f"{method}{len(extra)}.png"
        assert main([*base, "--method", method, *extra, "--out", str(out)]) == 0
        pictures[(method, len(extra))] = _assert_nonblank_png(out)
    # the first two panels are the same; the third shows what was asked for
    third = [picture[:, 800:] for picture in pictures.values()]
    assert all(not np.array_equal(a, b) for i, a in enumerate(third) for b in third[i + 1 :])


def test_render_own_model_and_rgb_image_resized(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
            keras.layers.MaxPooling2D(2, name="p1"),
        ]
    )
    model_file = tmp_path / "tiny.keras"
    model.save(model_file)
    image_file = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 70), dtype=np.uint8)).save(image_file)  # grey
    out = tmp_path / "own.png"
    argv = ["render", "--model", str(model_file), "--image", str(image_file)]
    assert main([*argv, "--layer", "p1", "--channel", "1", "--out", str(out)]) == 0
    _assert_nonblank_png(out)
    notes = "grey to RGB, centre-cropped and resized from 70x50 to 32x32"  # as an upload's
    assert f"note: image {str(image_file)!r}: {notes}" in capsys.readouterr().err


def test_render_an_inner_layer_of_a_nested_model_file_with_a_configured_method(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((24, 24, 3))
    hidden = keras.layers.Conv2D(6, 3, activation="relu", name="conv1")(inputs)
    hidden = keras.layers.MaxPooling2D(2, name="pool")(hidden)
    hidden = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(hidden)
    base = keras.Model(inputs, hidden, name="base")
    model = keras.Sequential(
        [
            keras.Input((24, 24, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    model_file = tmp_path / "nested.keras"
    model.save(model_file)
    image_file = tmp_path / "photo.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(image_file)
    argv = ["render", "--model", str(model_file), "--image", str(image_file), "--layer"]
    out = tmp_path / "lrp.png"
    method = "lrp_epsilon(epsilon=0.1)"
    assert main([*argv, "base/conv2", "--channel", "1", "--method", method, "--out", str(out)]) == 0
    _assert_nonblank_png(out)
    assert f"wrote {out}" in capsys.readouterr().out
    out = tmp_path / "gradcam.png"
    command = [*argv, "base/conv1", "--channel", "2", "--method", "gradcam", "--class", "1"]
    assert main([*command, "--out", str(out)]) == 0
    _assert_nonblank_png(out)
    with pytest.raises(SystemExit) as stop:  # LRP starts from a relevance: no seed "ones"
        main([*argv, "base/conv2", "--channel", "1", "--method", "lrp_epsilon", "--seed", "ones",
              "--out", str(tmp_path / "x.png")])  # fmt: skip
    assert stop.value.code == 2
    assert "does not start from seed 'ones'; choose one of: activation, max" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layer", "nope", "--channel", "0"], "unknown layer 'nope'; choose one of: conv1_1"),
        (
            ["--layer", "pool1", "--channel", "0", "--method", "backprop"],
            f"argument --method: unknown method 'backprop'; choose one of: {', '.join(NAMES)}; "
            "or a lens: gradcam, guided_gradcam, occlusion",
        ),
        (
            ["--layer", "pool1", "--channel", "0", "--method", "lrp_epsilon(epsilon=0)"],
            "argument --method: epsilon must be > 0",
        ),
        (["--layer", "pool1", "--channel", "16"], "channel 16 is out of range"),
        (["--layer", "pool1", "--channel", "0", "--image", "missing.png"], "cannot read image"),
        (["--layer", "pool1", "--channel", "0", "--model", "missing.keras"], "does not exist"),
        (["--layer", "pool3", "--channel", "0", "--method", "gradcam", "--class", "8"], "0..7"),
    ],
)
def test_render_user_errors_exit_2(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as stop:
        main(["render", *extra, "--out", str(tmp_path / "x.png")])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow("the CLI in a fresh process that imports TensorFlow (~5 s)")
def test_render_broken_model_file_exit_2_without_traceback(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "deconv_widgets.cli", "render", "--model", str(broken)]
    command += ["--layer", "x", "--channel", "0", "--out", str(tmp_path / "x.png")]
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 2
    assert "cannot load model" in done.stderr and "broken.keras" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow("renders VGG16 on a photo (~3 s)")
def test_render_the_real_network_on_a_photo(tmp_path, capsys):
    out = tmp_path / "vgg.png"
    argv = ["render", "--model", "vgg16", "--layer", "block3_conv3", "--channel", "166"]
    assert main([*argv, "--method", "guided", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--index", "14", "--out", str(out)])
    assert stop.value.code == 2
    assert "--index must be 0..13, got 14" in capsys.readouterr().err
    assert (
        main(
            [
                "render",
                "--model",
                "shapes",
                "--layer",
                "conv3_2",
                "--channel",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
