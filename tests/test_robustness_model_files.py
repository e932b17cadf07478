"""Issue 7: .keras files that fail to load, and safe_mode (never unsafe deserialisation by default).

Each case asserts the error type and that the message names the problem and what to do.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import expect_error

from deconv_widgets import cli
from deconv_widgets.projection import Projector, load_model


def _plain_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    return keras.Model(inputs, keras.layers.MaxPooling2D(2, name="pool")(x))


@keras.saving.register_keras_serializable(package="robustness_tests")
class Halver(keras.layers.Layer):
    """A registered custom layer (loads in safe mode)."""

    def call(self, x):
        return 0.5 * x


class Unregistered(keras.layers.Layer):
    """A custom layer Keras cannot find by name when loading."""

    def call(self, x):
        return x + 1.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    plain = _plain_model()
    plain.save(folder / "plain.keras")

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 3.0, name="triple")(x)).save(
        folder / "lambda.keras"
    )
    inputs = keras.Input((8, 8, 1))
    keras.Model(inputs, Unregistered(name="plus")(inputs)).save(folder / "custom.keras")
    inputs = keras.Input((8, 8, 1))
    keras.Model(inputs, Halver(name="half")(inputs)).save(folder / "registered.keras")

    (folder / "random.keras").write_bytes(np.random.default_rng(0).bytes(4096))
    data = (folder / "plain.keras").read_bytes()
    (folder / "truncated.keras").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(folder / "badconfig.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("metadata.json", "{}")
    with zipfile.ZipFile(folder / "emptyzip.keras", "w"):
        pass
    (folder / "weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    (folder / "a_folder.keras").mkdir()
    return folder, plain


ZIP = r"not a \.keras file \(a \.keras file is a zip archive"
RESAVE = r"re-save the model with model\.save\('name\.keras'\)"

# (id, file name, problem, remedy)
FILE_CASES = [
    ("missing", "missing.keras", r"missing\.keras' does not exist", r"model\.save\('name"),
    ("folder", "a_folder.keras", r"does not exist or is not a file", r"path of a \.keras file"),
    ("random bytes", "random.keras", r"'.*random\.keras': it is not a \.keras", ZIP),
    ("truncated zip", "truncated.keras", r"truncated\.keras", ZIP),
    ("bad config", "badconfig.keras", r"badconfig\.keras' as a \.keras file .*Error", RESAVE),
    ("empty zip", "emptyzip.keras", r"cannot load model .*emptyzip\.keras'", RESAVE),
    ("h5 file", "weights.h5", r"only Keras v3 \.keras files .* got suffix '\.h5'", "trust"),
    ("no suffix", "plain", r"got suffix '\(none\)'", r"keras\.models\.load_model"),
    ("lambda (safe)", "lambda.keras", r"safe_mode=True refuses", r"safe_mode=False"),
    ("custom class", "custom.keras", r"class Keras does not know", r"custom_objects="),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_files_that_fail_to_load(files, case):
    folder, _ = files
    _, name, problem, remedy = case
    expect_error(lambda: load_model(folder / name), ValueError, problem, remedy, "remedy")
    expect_error(lambda: Projector(str(folder / name)), ValueError, problem, remedy, "remedy")


def test_bad_arguments_to_load_model(files):
    folder, _ = files
    expect_error(lambda: load_model(3), TypeError, "got 3", r"str or os\.PathLike", "remedy")
    expect_error(
        lambda: load_model(folder / "plain.keras", safe_mode="no"),
        TypeError,
        "safe_mode must be",
        "True or False",
        "remedy",
    )


def test_a_good_file_loads_as_path_or_string_and_projects_like_the_model(files):
    folder, plain = files
    image = np.random.default_rng(1).uniform(0, 1, (8, 8, 1)).astype(np.float32)
    expected = Projector(plain).project(image, "pool", 2)
    for path in (folder / "plain.keras", str(folder / "plain.keras")):
        np.testing.assert_allclose(Projector(path).project(image, "pool", 2), expected, atol=1e-6)
    assert isinstance(load_model(folder / "registered.keras").get_layer("half"), Halver)


def test_lambda_loads_only_when_opted_out_knowingly(files):
    folder, _ = files
    with pytest.raises(ValueError, match="safe_mode=True refuses"):
        load_model(folder / "lambda.keras")
    model = load_model(folder / "lambda.keras", safe_mode=False)
    image = np.ones((1, 8, 8, 1), np.float32)
    conv = model.get_layer("conv")(image)
    np.testing.assert_allclose(model(image), 3.0 * np.asarray(conv), rtol=1e-6)


def test_custom_objects_let_an_unregistered_layer_load(files):
    folder, _ = files
    model = load_model(folder / "custom.keras", custom_objects={"Unregistered": Unregistered})
    assert float(model(np.zeros((1, 8, 8, 1), np.float32))[0, 0, 0, 0]) == 1.0


def test_cli_refuses_a_lambda_model_with_the_safe_mode_message(files, tmp_path, capsys):
    folder, _ = files
    out: Path = tmp_path / "x.png"
    argv = ["render", "--model", str(folder / "lambda.keras"), "--layer", "conv"]
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--channel", "0", "--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "safe_mode=True refuses" in err and "safe_mode=False" in err
    assert "Traceback" not in err and not out.exists()


def test_cli_refuses_an_image_above_the_limit_before_decoding(tmp_path, capsys):
    from PIL import Image

    big = tmp_path / "big.png"
    Image.new("L", (4100, 4100)).save(big)  # small on disk, 16.8 M pixels
    argv = ["render", "--image", str(big), "--layer", "conv1_1", "--channel", "0"]
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--out", str(tmp_path / "x.png")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "4100x4100 = 16810000 pixels" in err and "MAX_IMAGE_PIXELS = 16777216" in err
