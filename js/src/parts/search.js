// The search part: the ladder (the projection rung by rung) and the top-k gallery of the
// current channel, on request (jobs in Python; the job bar shows their progress), or a scan's
// atlas hits. Python's twin: deconv_widgets/widgets/parts/search.py.
import { clear, h, setText } from "../lib/dom.js";
import { createImageView } from "../lib/image_view.js";
import { formatValue } from "../lib/grid.js";
import { watch } from "../lib/widget.js";
import { asImage, unpack } from "../lib/parts.js";

/** @typedef {import("../lib/traits.js").ExplorerTraits} Traits */
/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */
/** @typedef {import("../lib/messages.js").PageMessage} PageMessage */

/**
 * One rung of the ladder as a small image.
 * @param {{ data: Float32Array, shape: number[] }} array
 * @param {string} caption
 */
function rungView({ data, shape }, caption) {
  const [img, imgShape] = asImage({ data, shape });
  const view = createImageView({ caption, displaySize: 96 });
  view.update(img, imgShape, imgShape[2] === 1 ? "signed" : "norm");
  return view.root;
}

/**
 * The ladder: the projection after each step back to the pixels, on request.
 * @param {Model} model
 */
export function ladderPart(model) {
  const strip = h("div", { class: "dw-strip", dataset: { testid: "ladder" } });
  const button = h("button", {
    onclick: () => model.send(/** @satisfies {PageMessage} */ ({ type: "ladder" })),
  }, ["show the ladder"]);
  const stop = watch(model, ["ladder", "ladder_index"], () => {
    clear(strip);
    const rungs = model.get("ladder_index") || [];
    unpack(model.get("ladder"), rungs).forEach((arr, i) => {
      strip.appendChild(rungView(arr, `${i + 1}. ${rungs[i].op} · ${rungs[i].layer}`));
    });
  });
  const root = h("details", {}, [h("summary", {}, ["ladder: the projection rung by rung"]),
    button, strip]);
  return { root, stop };
}

/**
 * The top-k gallery: the strongest activations of this channel over all images, on request (its
 * progress is the job bar's "topk" row).
 * @param {Model} model
 */
export function topkPart(model) {
  const gallery = h("div", { class: "dw-gallery", dataset: { testid: "topk" } });
  const button = h("button", {
    onclick: () => model.send(/** @satisfies {PageMessage} */ ({ type: "topk", k: model.get("topk_k") })),
  });
  const stops = [
    watch(model, ["topk_k"], () => setText(button, `find the top ${model.get("topk_k")} over all images`)),
    watch(model, ["topk", "topk_index"], () => {
      clear(gallery);
      const hits = model.get("topk_index") || [];
      const arrays = unpack(model.get("topk"), hits.flatMap((hit) => [hit.patch, hit.projection]));
      hits.forEach((hit, i) => {
        const patch = createImageView({ caption: `#${i + 1} ${hit.source ?? `image ${hit.image}`}`, mode: "image", displaySize: 72 });
        patch.update(...asImage(arrays[2 * i]), "image");
        const [pd, ps] = asImage(arrays[2 * i + 1]);
        const proj = createImageView({ caption: `${formatValue(hit.value)} at (${hit.y}, ${hit.x})`, displaySize: 72 });
        proj.update(pd, ps, ps[2] === 1 ? "signed" : "raw");
        gallery.appendChild(h("div", { class: "dw-row" }, [patch.root, proj.root]));
      });
    }),
  ];
  const root = h("details", {}, [h("summary", {}, ["top-k: the strongest activations of this channel"]),
    h("div", { class: "dw-controls" }, [button]), gallery]);
  return { root, stop: () => stops.forEach((s) => s()) };
}
