"""Lab section 4c, "what these pictures can and cannot tell", English and Chinese."""

from make_notebooks import code, md

CASCADE_TOY = """
from deconv_widgets.projection import METHODS, lenses

shape_image = images[0]
toy_layer = conv_layers[-1]  # conv3_2, as in section 4
act = proj.activations(shape_image, toy_layer)
c = int(act.max(axis=(0, 1)).argmax())
cascades = {m: proj.sanity_cascade(shape_image, toy_layer, c, method=m) for m in METHODS}
for method, steps in cascades.items():
    print(f"{method:9s}", "  ".join(f"{s.layer or 'trained'} {s.rho:.2f}" for s in steps))
figures.cascade_figure(cascades);
"""

LENS_CELLS = [
    md(
        """
## 4c. What these pictures can and cannot tell

A projection is a picture *of something*, but of what? Adebayo et al. (2018, "Sanity Checks for
Saliency Maps") asked a simple question: if the network's learned weights are replaced by random
ones, does the picture change? A method that explains what the network *learned* must give a
different picture for a network that learned nothing. They re-initialised the weights layer by
layer from the top down (a "cascade") and found that guided backprop and Guided Grad-CAM barely
change. Nie, Zhang & Patel (2018) showed why: the ReLU masks and the max-pooling switches come
from the *image*, so guided backprop and the deconvnet largely reconstruct the image itself.

`Projector.sanity_cascade` does the experiment on a copy of the model (yours is never changed):
step 0 is the trained model, then one more layer is re-initialised with its own initializer at
each step. `rho` is the Spearman rank correlation of |projection| with the trained one: near 1
means "the same picture". First on the shapes CNN, for every method of `methods.NAMES`:
""",
        """
## 4c. 这些图能说明什么，不能说明什么

投影是一张"关于某个东西"的图，但关于什么？Adebayo 等人（2018，"Sanity Checks for Saliency Maps"）
提出了一个简单的问题：如果把网络学到的权重换成随机的，图会不会变？一个真正解释网络*学到了什么*的方法，
对一个什么都没学到的网络必须给出不同的图。他们从顶层往下逐层重新初始化权重（"级联"），发现
guided backprop 和 Guided Grad-CAM 几乎不变。Nie、Zhang 和 Patel（2018）解释了原因：ReLU 的掩码和
最大池化的 switches 都来自*图像*，所以 guided backprop 和 deconvnet 在很大程度上是在重建图像本身。

`Projector.sanity_cascade` 在模型的副本上做这个实验（你的模型不会被改动）：第 0 步是训练好的模型，
之后每一步多重新初始化一层（用该层自己的初始化器）。`rho` 是 |投影| 与训练好的模型的投影之间的
Spearman 秩相关：接近 1 表示"同一张图"。先在形状 CNN 上，对 `methods.NAMES` 中的每种方法：
""",
    ),
    code(CASCADE_TOY, zh=CASCADE_TOY.replace("'trained'", "'训练好的'")),
    md(
        """
Read the last column: on this small CNN, with *every* layer random, rho is still well above 0
for every method, because the pictures keep the shape's outline. That part of the picture
comes from the image and the architecture, not from training. What training adds is the
difference between a row's first and last pictures.

Grad-CAM (Selvaraju et al. 2017) asks a coarser question: which places of a layer's map matter
for a target (a class, or one channel's summed activation)? It weighs each channel of the layer
by the mean gradient of the target and keeps the positive sum. Guided Grad-CAM multiplies that
coarse map with guided backprop. Here for the shapes CNN's top class, on `conv3_2`:
""",
        """
看最后一列：在这个小 CNN 上，即使*所有*层都是随机的，每种方法的 rho 仍然明显大于 0，因为图里保留了
形状的轮廓。这部分来自图像和网络结构，而不是来自训练。训练带来的，是每一行第一张图和最后一张图之间的差别。

Grad-CAM（Selvaraju 等人，2017）问的是一个更粗的问题：某一层特征图的哪些位置对目标（一个类别，
或一个通道激活的总和）重要？它用目标对每个通道的平均梯度给该通道加权，再取正的部分。Guided
Grad-CAM 把这张粗糙的图与 guided backprop 相乘。下面是形状 CNN 得分最高的类别在 `conv3_2` 上的结果：
""",
    ),
    code(
        """
scores = proj.class_scores(shape_image)  # the output before the softmax
top_class = int(scores.argmax())
cam = proj.gradcam(shape_image, toy_layer, top_class, size="input")
guided_cam = proj.guided_gradcam(shape_image, toy_layer, top_class)
print("top class:", zoo.SHAPE_CLASSES[top_class])
figures.image_grid({
    zoo.SHAPE_CLASSES[top_class]: [
        ("image", shape_image, False),
        ("Grad-CAM", cam[..., None] / (cam.max() or 1), False),
        ("Guided Grad-CAM", guided_cam),
    ]
});
"""
    ),
    md(
        """
On the real VGG16 the cascade runs from `block5_conv3` down through all 13 convolutions (about
10 s for both methods). Compare guided backprop with the plain gradient (saliency) while block 5 and
`block4_conv3` are random (the first four steps): guided backprop stays close to the trained
picture (rho about 0.6–0.7), saliency does not (about 0.1–0.3). The guided picture of a block-5
unit hardly depends on block 5's weights, that is, on what the unit itself learned.
""",
        """
在真实的 VGG16 上，级联从 `block5_conv3` 开始，向下经过全部 13 个卷积层（两种方法共约 10 秒）。比较 block 5
和 `block4_conv3` 被随机化时（前四步）的 guided backprop 与普通梯度（saliency）：guided backprop 仍然
接近训练好的图（rho 约 0.6–0.7），saliency 则不然（约 0.1–0.3）。block 5 中一个单元的 guided 图几乎
不依赖 block 5 的权重，也就是几乎不依赖这个单元自己学到的东西。
""",
    ),
    code(
        """
act = real.activations(cat, "block5_conv3")
unit = int(act.max(axis=(0, 1)).argmax())
real_cascades = {
    m: real.sanity_cascade(cat, "block5_conv3", unit, method=m) for m in ("guided", "saliency")
}
for method, steps in real_cascades.items():
    print(f"{method:9s}", " ".join(f"{s.rho:.2f}" for s in steps))
shown_cat = photos[names.index("chelsea")]
figures.cascade_figure(real_cascades, preprocess=prep, shown_shape=shown_cat.shape, size=1.1);
"""
    ),
    md(
        """
### ✎ Exercise 4c

How much of each guided picture in the VGG16 cascade is the photo's own edges? For every step,
compute the Spearman rank correlation (`lenses.spearman`) of |projection| (summed over colours)
with the magnitude of the photo's brightness gradient (`np.hypot` of `np.gradient` of the grey
image). At which step does the picture stop looking like the trained one, and like the edges?
What does that say about reading a guided picture as "what the unit learned"?
""",
        """
### ✎ 练习 4c

VGG16 级联中每一张 guided 图有多少是照片本身的边缘？对每一步，计算 |投影|（对颜色通道求和）与照片
亮度梯度的幅值（灰度图的 `np.gradient` 再取 `np.hypot`）之间的 Spearman 秩相关（`lenses.spearman`）。
从哪一步开始，图既不像训练好的图，也不像边缘？这说明把 guided 图当作"该单元学到的东西"来解读有什么问题？
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
edges = np.hypot(*np.gradient(shown_cat.mean(axis=-1)))
for step in real_cascades["guided"]:
    picture = np.abs(step.projection).sum(axis=-1)
    print(f"{step.layer or 'trained':13s} rho {step.rho:5.2f}  edges {lenses.spearman(picture, edges):5.2f}")
# The trained picture is partly the photo's edges, and it stays so (and stays like the trained
# one) while block 5 is random: the unit's own weights barely shape it. Both fall to about 0
# once block 4's lower layers are random too: the picture is made by the layers below.
""",
        solution=True,
        zh="""
# 答案
edges = np.hypot(*np.gradient(shown_cat.mean(axis=-1)))
for step in real_cascades["guided"]:
    picture = np.abs(step.projection).sum(axis=-1)
    print(f"{step.layer or '训练好的':13s} rho {step.rho:5.2f}  边缘 {lenses.spearman(picture, edges):5.2f}")
# 训练好的图部分是照片的边缘；block 5 被随机化时它仍然如此（也仍然像训练好的图）：该单元自己的权重
# 几乎不影响它。当 block 4 较低的层也被随机化后，两者都降到 0 左右：这张图是由下面的层决定的。
""",
    ),
]
