"""Cells of the five-minute tour (English)."""

from make_notebooks import code, md

TOUR_CELLS = [
    md("""
# deconv-widgets: a five-minute tour

What does a unit deep inside a convolutional network respond to? Zeiler & Fergus (2014)
answered by running the network backwards from one activation: **unpool** with the positions
max pooling chose ("switches"), **rectify**, and **filter with the layer's own filters
transposed**, layer after layer, down to pixels. This tour runs that DeconvNet live on a small
CNN that ships with the package (trained on procedural shapes: edges, corners, curves, stripes),
then takes each building block apart.

Run the cells from top to bottom (Shift+Enter). Nothing is downloaded.
"""),
    code("""
import numpy as np
import deconv_widgets as dw
from deconv_widgets import zoo

model = zoo.shapes_model()
print("classes:", ", ".join(zoo.SHAPE_CLASSES))
"""),
    md("""
## 1. The Explorer

Pick a layer, then click a channel in the grid (or use the arrow keys). The three panels show
the chosen channel projected to pixel space three ways:

* **deconvnet** — Zeiler & Fergus: every ReLU passes `relu(gradient)` down, ignoring where the
  forward pass was negative;
* **guided** backprop — `relu(gradient)` *and* the forward mask;
* **saliency** — the plain gradient.

All of a small layer's channels are computed in one batched pass, so a click redraws in the
browser without waiting for Python.
"""),
    code("""
explorer = dw.Explorer()
explorer
"""),
    md("""
Python state is the truth: set the traits and the page follows, as if you had clicked.
"""),
    code("""
explorer.layer = explorer.layer  # the current layer
explorer.channel = 3
explorer.method = "guided"
(explorer.layer, explorer.channel, explorer.method, explorer.seed)
"""),
    md("""
## 2. The same thing without widgets: `Projector`

Every widget is a view over plain functions. `Projector` takes any Keras 3 ReLU CNN.
"""),
    code("""
from deconv_widgets import Projector

proj = Projector(model)
for info in proj.layers:
    print(f"{info.name:10s} {info.kind:14s} {str(info.output_shape):14s} rf={info.receptive_field:3d}px jump={info.jump}px")
"""),
    code("""
images, labels = zoo.shapes_images(8, seed=7)
layer = proj.layers[-1].name
act = proj.activations(images[0], layer)
back = proj.project(images[0], layer, channel=int(act.max(axis=(0, 1)).argmax()))
print("activation", act.shape, "-> projection", back.shape)
"""),
    md("""
The **ladder** is the same projection done explicitly, one rung per layer: unpool with the
recorded switches, rectify, transposed convolution with the layer's own weights. Its last rung
equals `project(..., method="deconvnet")`.
"""),
    code("""
rungs = proj.ladder(images[0], layer, channel=0)
for rung in rungs:
    print(f"{rung.layer:10s} {rung.op:15s} {rung.array.shape}")
print("equal to project():", np.allclose(rungs[-1].array, proj.project(images[0], layer, 0), atol=1e-4))
"""),
    md("""
## 3. The parts on their own

`ModelInspector`, `ChannelPicker` and `DeconvView` are the Explorer's pieces, each usable alone.
"""),
    code("""
dw.ModelInspector(model)
"""),
    code("""
picker = dw.ChannelPicker(model, images[1])
picker
"""),
    code("""
dw.DeconvView(model, images[1], layer=proj.layers[2].name, channel=0)
"""),
    md("""
## 4. Transposed convolution in four steps

Flip the kernel, insert `stride - 1` zeros between input cells, pad, convolve with stride 1.
The widget checks the result against `tf.nn.conv2d_transpose` and shows how much of the input
comes back after a convolution and its transpose (only part of it: the transpose is not an
inverse).
"""),
    code("""
dw.TransposeConvView()
"""),
    md("""
## 5. Unpooling

Average unpooling fills each window with its pooled value; max unpooling puts each value back
where `tf.nn.max_pool_with_argmax` found it and leaves zeros elsewhere.
"""),
    code("""
dw.UnpoolView()
"""),
    md("""
## 6. The gradients lab

`tf.gradients(ys, xs, grad_ys)` inside a `tf.function`. In this classic example W3 feeds both
`y1` and `y2`, so its gradient is the *sum* of both `grad_ys`: **[4, 6]** (some notes say
[3, 4] — that drops y1's share). Edit the program and press Run.
"""),
    code("""
dw.GradientsPanel("grad_ys")
"""),
    md("""
## 7. Your own model

Any Keras 3 CNN with one image input and ReLU activations works; `preprocess` maps the image
you look at to what the model expects (for example VGG16's own `preprocess_input`):

```python
import keras
vgg = keras.applications.VGG16(weights=None)          # or your trained model
images = np.random.rand(4, 224, 224, 3).astype("float32")
dw.Explorer(vgg, images, preprocess=lambda x: keras.applications.vgg16.preprocess_input(x * 255))
```

Next: the 60–90 minute lab, `lab_deconvnet.en.ipynb` (中文版: `lab_deconvnet.zh.ipynb`).
"""),
]
