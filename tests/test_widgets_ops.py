"""UnpoolView and TransposeConvView: results checked against TensorFlow, errors routed."""

from __future__ import annotations

import numpy as np
import pytest

from deconv_widgets._tf import tf
from deconv_widgets.widgets import TransposeConvView, UnpoolView
from deconv_widgets.widgets._grids import format_array, format_number, parse_grid


def grid(payload: dict) -> np.ndarray:
    return np.asarray(payload["data"], np.float32).reshape(payload["height"], payload["width"])


def test_parse_grid_reads_rows_and_refuses_junk() -> None:
    np.testing.assert_array_equal(parse_grid("1 2\n3 4"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parse_grid("[[1, 2], [3, 4]]"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parse_grid("1,2; 3,4"), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="'x' on line 2 is not a number"):
        parse_grid("1 2\n3 x")
    with pytest.raises(ValueError, match="different lengths"):
        parse_grid("1 2\n3")
    with pytest.raises(ValueError, match="empty"):
        parse_grid("  \n ")
    with pytest.raises(ValueError, match="largest allowed is 16x16"):
        parse_grid("\n".join(["1"] * 17))
    with pytest.raises(ValueError, match="not a finite number"):
        parse_grid("1 nan")
    with pytest.raises(TypeError, match="must be text"):
        parse_grid(3)


def test_numbers_format_without_noise() -> None:
    assert format_array(np.array([4.0, 6.0])) == "[4, 6]"
    assert format_array(np.array([[9.0, 10.0]])) == "[[9, 10]]"
    assert format_array(None) == "None"
    assert format_number(0.5) == "0.5"
    assert format_number(-2.0) == "-2"
    assert format_number(1 / 3) == "0.3333"


def test_unpool_view_matches_tensorflow() -> None:
    view = UnpoolView(np.arange(16, dtype=np.float32).reshape(4, 4)[::-1])
    x = np.arange(16, dtype=np.float32).reshape(4, 4)[::-1][None, :, :, None].copy()
    pooled, argmax = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID", include_batch_in_index=False)
    np.testing.assert_array_equal(grid(view.result["pooled"]), pooled.numpy()[0, :, :, 0])
    assert view.result["switch_index"] == argmax.numpy()[0, :, :, 0].tolist()
    assert (
        view.result["switches"][0][0] == "(0, 1, 0)"
    )  # the first window's max, 13, sits at row 0, column 1
    back = grid(view.result["max_unpool"])
    assert np.count_nonzero(back) == 4 and back.sum() == pooled.numpy().sum()
    fill = grid(view.result["avg_fill"])
    np.testing.assert_array_equal(fill[:2, :2], np.full((2, 2), pooled.numpy()[0, 0, 0, 0]))
    np.testing.assert_allclose(grid(view.result["avg_adjoint"]), fill / 4)
    assert view.result["input"]["marks"].count("max") == 4


def test_unpool_view_controls_and_errors() -> None:
    view = UnpoolView(random_seed=3)
    view.pool_size, view.stride = 3, 1
    assert view.result["pooled"]["height"] == 4 and view.status == ""
    view.padding = "SAME"
    assert view.result["pooled"]["height"] == 6
    view.padding = "FULL"
    assert view.padding == "SAME" and "choose one of: VALID, SAME" in view.status
    view.padding = "VALID"
    view.pool_size = 9
    assert view.pool_size == 3 and view.status.startswith("error")
    before = view.result
    view.input_text = "1 2\n3 oops"
    assert view.input_text == "1 2\n3 oops" and "oops" in view.status
    assert view.result == before
    view.input_text = "1 2 3\n4 5 6\n7 8 9"
    assert view.status == "" and view.result["pooled"]["data"] == [9.0]
    view._on_message(view, {"type": "random"}, [])
    assert view.random_seed == 4 and parse_grid(view.input_text).shape == (3, 3)


def test_unpool_constructor_raises_on_bad_arguments() -> None:
    with pytest.raises(ValueError, match="2-D map"):
        UnpoolView(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="padding"):
        UnpoolView(padding="FULL")


def test_transpose_conv_view_equals_tensorflow_for_every_valid_size() -> None:
    view = TransposeConvView(stride=2, padding="SAME")
    assert view.output_sizes == [[5, 6], [5, 6]]
    assert view.output_size == [6, 6]  # Keras' choice
    for size in ([5, 5], [5, 6], [6, 5], [6, 6]):
        view.output_size = size
        assert view.status == "" and view.output_size == size
        assert view.result["max_abs_diff"] <= 1e-4
        y = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
        k = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)[:, :, None, None]
        ref = tf.nn.conv2d_transpose(y, k, (1, *size, 1), 2, "SAME").numpy()[0, :, :, 0]
        np.testing.assert_allclose(grid(view.result["output"]), ref, atol=1e-5)


def test_transpose_conv_view_steps_and_round_trip() -> None:
    view = TransposeConvView(stride=2, padding="VALID")
    zeros = view.result["zero_inserted"]
    assert (zeros["height"], zeros["width"]) == (5, 5)
    assert zeros["marks"].count("zero") == 25 - 9
    padded = view.result["padded"]
    assert padded["height"] == 5 + sum(view.result["pads"][0])
    assert "pad" in padded["marks"]
    np.testing.assert_array_equal(
        grid(view.result["flipped_kernel"]), np.rot90(parse_grid(view.kernel_text), 2)
    )
    trip = view.result["roundtrip"]
    assert 0 < trip["recovered_fraction"] <= 1 and trip["rank"] <= trip["dimension"]


def test_transpose_conv_view_errors_keep_state_and_text() -> None:
    view = TransposeConvView()
    view.output_size = [4, 7]
    assert view.output_size == [7, 7] and "choose one of: 7, 8" in view.status
    view.stride = 0
    assert view.stride == 2 and view.status.startswith("error")
    before = view.result
    view.kernel_text = "1 2\n3"
    assert view.kernel_text == "1 2\n3" and "different lengths" in view.status
    assert view.result == before
    view.kernel_text = "1 1\n1 1"
    assert view.status == "" and view.result["flipped_kernel"]["height"] == 2
    view.stride = 1  # a new stride snaps the output size to a valid one
    assert view.output_size == [4, 4] and view.status == ""


def test_wrong_types_set_later_go_to_status_in_the_constructor_raise() -> None:
    view = UnpoolView(random_seed=1)
    view.pool_size = "3"
    assert view.pool_size == 2 and "pool_size must be an int, got str" in view.status
    view.pool_size = np.int64(3)
    assert view.pool_size == 3 and type(view.pool_size) is int and view.status == ""
    view.padding = None
    assert view.padding == "VALID" and "padding must be text" in view.status
    with pytest.raises(TypeError, match="stride must be an int"):
        UnpoolView(stride=2.5)
    conv = TransposeConvView()
    conv.output_size = "big"
    assert conv.output_size == [7, 7] and "pair of ints" in conv.status
    conv.kernel_text = 5
    assert conv.kernel_text.startswith("1 0 -1") and "kernel_text must be text" in conv.status
