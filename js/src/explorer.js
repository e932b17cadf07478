// Explorer: the whole DeconvNet app in one anywidget module, composed from lib/parts.js.
// Layout, top to bottom: the controls; the sticky selection panel (the status line, the job bar
// of lib/jobs.js, the input with its predictions and the selected channel's projections, each
// sized by pictureSize: from its own size up to a quarter of the widget's width, at least 160 px);
// the lenses; the channel grid (the widget's whole width); the layer table; the ladder; top-k.
// Python computes every long request (ladder, top-k, lenses, occlusion, sanity, faithfulness) as a
// job on a worker thread: the job bar shows each with its progress and a stop button, and the
// panels draw the partial results as they arrive.
import { clear, h, setText } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { createImageView } from "./lib/image_view.js";
import { formatValue } from "./lib/grid.js";
import { push, watch } from "./lib/widget.js";
import { createProjectionSource } from "./lib/projection_source.js";
import { keepInView } from "./lib/sticky.js";
import { lensPanel } from "./lib/lens_parts.js";
import { predictionsPart } from "./lib/classifier_parts.js";
import { ownImagesPart } from "./lib/own_images.js";
import { jobsPart } from "./lib/jobs.js";
import {
  asImage, gridPart, inputImagePart, inspectorPart, layerPickerPart, listChoicePart,
  projectionsPart, statusPart, unpack,
} from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").ExplorerTraits} Traits */
/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */
/** @typedef {import("./lib/messages.js").PageMessage} PageMessage */

/**
 * The image picker: the image's number, previous and next.
 * @param {Model} model
 */
function imagePickerPart(model) {
  const input = h("input", { type: "number", min: "0", step: "1", style: { width: "4em" },
    dataset: { testid: "image-index" } });
  const count = h("span", {}, [""]);
  /** @param {number} i */
  const go = (i) => push(model, { image_index: i });
  input.addEventListener("change", () => go(Number.parseInt(input.value, 10)));
  const prev = h("button", { onclick: () => go(model.get("image_index") - 1) }, ["◀"]);
  const next = h("button", { onclick: () => go(model.get("image_index") + 1) }, ["▶"]);
  const stop = watch(model, ["image_index", "n_images"], () => {
    const n = model.get("n_images");
    input.value = String(model.get("image_index"));
    input.max = String(Math.max(0, n - 1));
    setText(count, `of ${n}`);
    prev.disabled = model.get("image_index") <= 0;
    next.disabled = model.get("image_index") >= n - 1;
  });
  return { root: h("label", {}, ["image ", prev, input, next, count]), stop };
}

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
function ladderPart(model) {
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
function topkPart(model) {
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

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const source = createProjectionSource(model);
  const status = statusPart(model);
  const jobs = jobsPart(model);
  const inspector = inspectorPart(model, { selectable: true });
  const layer = layerPickerPart(model);
  const method = listChoicePart(model, "method", "method ", "methods");
  const seed = listChoicePart(model, "seed", "seed ", "seeds");
  const picker = imagePickerPart(model);
  const grid = gridPart(model, { source });
  const input = inputImagePart(model);
  const predictions = predictionsPart(model);
  const own = ownImagesPart(model, { dropTarget: input.root });
  const projections = projectionsPart(model, { source });
  const ladder = ladderPart(model);
  const topk = topkPart(model);
  const lenses = lensPanel(model);
  // the selected channel's projections (and the job bar) stay on screen however far down the grid one clicks
  const panel = h("div", { class: "dw-sticky", dataset: { testid: "selection" } }, [
    status.root, jobs.root, h("div", { class: "dw-row" }, [h("div", { class: "dw-col" }, [input.root, predictions.root]),
      projections.root]), grid.grid.readout,
  ]);
  const root = h("div", { class: "dw-root dw-explorer" }, [
    h("div", { class: "dw-controls" }, [layer.root, method.root, seed.root, picker.root, own.root,
      grid.normaliseControl, grid.orderControl, projections.modeControl, grid.channelControl]),
    panel,
    lenses.root,
    grid.root,
    h("details", { open: true }, [h("summary", {}, ["layers"]),
      h("div", { class: "dw-scroll-x" }, [inspector.root])]),
    ladder.root,
    topk.root,
  ]);
  el.appendChild(root);
  model.send(/** @satisfies {PageMessage} */ ({ type: "view" })); // a page shows the widget: Python may prefetch for it
  grid.fitTo(root);
  projections.fitTo(root, [input.view]); // the first picture: big enough to say something
  const stopPanel = keepInView(panel, root);
  const parts = [status, jobs, inspector, layer, method, seed, picker, own, grid, input, predictions, projections, ladder,
    topk, lenses];
  return () => {
    parts.forEach((p) => p.stop());
    stopPanel();
    source.stop();
  };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
