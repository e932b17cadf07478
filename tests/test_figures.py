"""Static figures: projections centred on grey, Fig. 2 mosaics cut from the shown images."""

from __future__ import annotations

import matplotlib
import numpy as np

from deconv_widgets import figures, zoo
from deconv_widgets.projection import Projector

matplotlib.use("Agg")


def test_signed_rgb_puts_zero_at_grey_and_saturates_outliers():
    projection = np.zeros((10, 10, 1), np.float32)
    projection[0, 0] = 1000.0  # one outlier above the 99.5th percentile
    projection[5, 5] = -1.0
    picture = figures.signed_rgb(projection)
    assert picture.shape == (10, 10, 3)
    assert picture[1, 1].tolist() == [0.5, 0.5, 0.5]
    assert picture[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert figures.signed_rgb(np.zeros((2, 2, 3))).tolist() == np.full((2, 2, 3), 0.5).tolist()


def test_top_k_figure_and_image_grid_draw(model):
    projector = Projector(model)
    images = zoo.shapes_images(6, random_seed=2)[0]
    top = projector.top_k(images, "conv2_1", k=4, channels=[0, 3], progress=False)
    figure = figures.top_k_figure(top, projector, images)
    assert len(figure.axes) == 4
    mosaic = figure.axes[0].get_images()[0].get_array()
    hit = top.hits[0][0]
    t, left, size = projector.receptive_box("conv2_1", hit.y, hit.x)
    patch = np.repeat(np.clip(images[hit.image], 0, 1), 3, axis=-1)
    inside = patch[max(t, 0) : t + size, max(left, 0) : left + size]
    assert np.isin(np.asarray(mosaic[:size, :size]), inside).mean() > 0.5
    grid = figures.image_grid({"row": [("photo", images[0], False), ("p", images[0] - 0.5)]})
    assert len(grid.axes) == 2
