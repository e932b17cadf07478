// The search part: the ladder (the projection rung by rung), the top-k gallery of the current
// channel (what it gets, or a scan's atlas hits) and what it wants to see (its feature
// visualisation), on request: jobs in Python, whose progress is the job bar's. Python's twin: deconv_widgets/widgets/parts/search.py.
import { clear, context2d, h, setData, setText } from "../lib/dom.js";
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

/**
 * Draw the objective at each step, scaled to its own range, with its first and last values.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values
 */
export function drawHistory(canvas, values) {
  const ctx = context2d(canvas);
  const { width, height } = canvas;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  if (!values.length) return;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    low = Math.min(low, values[i]);
    high = Math.max(high, values[i]);
  }
  const span = high - low || 1;
  const [left, right, top, bottom] = [4, 4, 14, 14];
  /** @param {number} i */
  const x = (i) => left + (values.length > 1 ? i / (values.length - 1) : 0) * (width - left - right);
  /** @param {number} v */
  const y = (v) => top + (1 - (v - low) / span) * (height - top - bottom);
  ctx.strokeStyle = "#c0392b";
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i < values.length; i++) ctx[i ? "lineTo" : "moveTo"](x(i), y(values[i]));
  ctx.stroke();
  ctx.fillStyle = "#444";
  ctx.font = "10px sans-serif";
  ctx.fillText(`${formatValue(values[0])} → ${formatValue(values[values.length - 1])}`, left, 10);
  ctx.fillText("step", width - 26, height - 2);
}

/**
 * "What it wants" (data-testid="visualization"): the image the channel wants to see, found by
 * optimisation (a job that redraws it as it sharpens), with the objective's curve beside it.
 * @param {Model} model
 */
export function visualizePart(model) {
  const view = createImageView({ caption: "what it wants", testid: "visualization", displaySize: 160 });
  const curve = h("canvas", { class: "dw-curves", width: "200", height: "120",
    dataset: { testid: "visualization-curve" } });
  const note = h("span", { class: "dw-count", dataset: { testid: "visualization-state" } }, [""]);
  const button = h("button", {
    onclick: () => model.send(/** @satisfies {PageMessage} */ ({ type: "visualize" })),
  }, ["show what it wants"]);
  let version = 0;
  const stop = watch(model, ["visualization", "visualization_index"], () => {
    const index = model.get("visualization_index") || [];
    const arrays = unpack(model.get("visualization"), index);
    const [entry] = index;
    version += 1;
    setData(view.canvas, "version", String(version));
    if (!entry || arrays.length < 2 || !arrays[0]) {
      view.clear();
      view.setCaption("what it wants");
      drawHistory(curve, []);
      setText(note, "");
      setData(view.canvas, "state", "");
      return;
    }
    const [data, shape] = asImage(arrays[0]);
    view.update(data, shape, "image");
    view.setCaption(`what channel ${entry.channel} of ${entry.layer} wants`);
    drawHistory(curve, arrays[1].data);
    setData(view.canvas, "state", entry.state ?? "");
    setData(view.canvas, "done", String(entry.done ?? 0));
    const progress = entry.state === "done" ? "" : ` (${entry.state ?? ""} at ${entry.done}/${entry.steps})`;
    setText(note, `activation ${formatValue(entry.activation ?? 0)}${progress}`);
  });
  const root = h("details", { dataset: { testid: "visualize-panel" } }, [
    h("summary", {}, ["what it wants: the image this channel would most like to see"]),
    h("div", { class: "dw-controls" }, [button, note]),
    h("div", { class: "dw-row" }, [view.root, curve]),
  ]);
  return { root, stop };
}
