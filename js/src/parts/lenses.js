// The lenses part (deconv_widgets/widgets/parts/lenses.py): Grad-CAM over the input, Guided
// Grad-CAM, occlusion maps and the sanity cascade. Python computes each on request (a message) and sends it as one
// packed float32 buffer with an index; each hook carries data-version = the trait's version once
// drawn. Text from Python (class and layer names) only ever goes in through textContent.
import { clear, h, setData, setText } from "../lib/dom.js";
import { toFloat32Shaped } from "../lib/buffers.js";
import { heatRGBA, valueRange } from "../lib/colormaps.js";
import { createImageView, drawRGBA } from "../lib/image_view.js";
import { push, watch } from "../lib/widget.js";
import { asImage, unpack } from "../lib/parts.js";
import { classLabel, faithfulnessPart, occlusionView, targetSearchPart } from "./classifier.js";

export { heatRGBA };

/**
 * The lenses' model: their traits, the classifier's, the channel, the method and the image
 * (under Grad-CAM). Their progress is the Explorer's job bar (parts/jobs.js).
 * @typedef {import("@anywidget/types").AnyModel<import("../lib/traits.js").LensTraits
 *   & import("../lib/traits.js").ClassifierTraits
 *   & { channel: number, method: string, image: DataView, image_shape: number[] }>} LensModel
 */

/** lens_target's value for "the current channel" (k >= 0: class k). */
export const CHANNEL_TARGET = -1;
/** Up to this many classes the target menu lists them all; more are found by the search. */
export const LISTED_CLASSES = 30;

/**
 * The lens target choices: the current channel, then each class by name; of a long list (more
 * than LISTED_CLASSES) only the predicted ones and the current target, as "281 tabby cat".
 * @param {number} channel
 * @param {readonly string[] | null} [classes]
 * @param {{ current?: number, predictions?: readonly { class: number }[] | null }} [shown]
 */
export function targetOptions(channel, classes = [], { current = CHANNEL_TARGET, predictions = [] } = {}) {
  const names = classes || [];
  const options = [{ value: CHANNEL_TARGET, label: `channel ${channel}` }];
  if (names.length <= LISTED_CLASSES) {
    return [...options, ...names.map((name, k) => ({ value: k, label: String(name) }))];
  }
  const picked = [...(predictions || []).map((p) => p.class), current];
  for (const k of new Set(picked.filter((k) => k >= 0 && k < names.length))) {
    options.push({ value: k, label: classLabel(k, names) });
  }
  return options;
}

/**
 * A map (H * W values >= 0) over an image (H, W, C) in [0, 1]: the map's sequential colour
 * blended with the image at `alpha`, 0 to the map's maximum. Without a matching image: the map.
 * @param {ArrayLike<number>} map
 * @param {ArrayLike<number> | null} image
 * @param {number[] | null} imageShape
 */
export function overlayRGBA(map, image, imageShape, alpha = 0.5) {
  const heat = heatRGBA(map, { min: 0, max: valueRange(map).max });
  const [height, width, channels] = imageShape || [];
  if (!image || height * width !== map.length) return heat;
  const colour = channels >= 3 ? [0, 1, 2] : [0, 0, 0];
  for (let i = 0; i < map.length; i++) {
    for (let k = 0; k < 3; k++) {
      const base = Math.min(1, Math.max(0, image[i * channels + colour[k]] || 0)) * 255;
      heat[i * 4 + k] = Math.round(alpha * heat[i * 4 + k] + (1 - alpha) * base);
    }
  }
  return heat;
}

/**
 * The caption of one cascade step: "conv3_2 · rho 0.87" ("trained" for the unchanged model).
 * @param {{ layer?: string | null, rho: number }} step
 */
export function sanityCaption(step) {
  return `${step.layer ?? "trained"} · rho ${Number(step.rho).toFixed(2)}`;
}

/**
 * The display mode of a projection-like array: one channel diverging, colour as raw.
 * @param {number[]} shape
 */
function projectionMode(shape) {
  return shape[2] === 1 ? "signed" : "raw";
}

/**
 * The <select data-testid="lens-target">: the current channel or a class.
 * @param {LensModel} model
 */
export function lensTargetPart(model) {
  const el = h("select", { dataset: { testid: "lens-target" } });
  el.addEventListener("change", () => push(model, { lens_target: Number.parseInt(el.value, 10) }));
  const stop = watch(model, ["lens_target", "classes", "channel", "predictions"], () => {
    clear(el);
    const current = model.get("lens_target") ?? CHANNEL_TARGET;
    const shown = { current, predictions: model.get("predictions") };
    for (const { value, label } of targetOptions(model.get("channel"), model.get("classes"), shown)) {
      el.appendChild(h("option", { value: String(value), selected: value === current }, [label]));
    }
    el.value = String(current);
  });
  return { root: h("label", {}, ["target ", el]), el, stop };
}

/**
 * Grad-CAM over the input (data-testid="gradcam") and Guided Grad-CAM ("guided-gradcam").
 * @param {LensModel} model
 */
export function gradcamPart(model) {
  const cam = createImageView({ caption: "Grad-CAM", testid: "gradcam" });
  const guided = createImageView({ caption: "Guided Grad-CAM", testid: "guided-gradcam" });
  const stop = watch(model, ["lens_version"], () => {
    const index = model.get("lenses_index") || [];
    const [camArray, guidedArray] = unpack(model.get("lenses"), index);
    if (camArray && guidedArray) {
      const shape = model.get("image_shape") || [];
      const image = shape.length === 3 ? toFloat32Shaped(model.get("image"), shape) : null;
      const [height, width] = camArray.shape;
      drawRGBA(cam.canvas, overlayRGBA(camArray.data, image, shape), height, width, 160);
      cam.setCaption(`Grad-CAM · ${index[0].target} on ${index[0].layer}`);
      const [data, imgShape] = asImage(guidedArray);
      guided.update(data, imgShape, projectionMode(imgShape));
      guided.setCaption(`Guided Grad-CAM · ${index[1].target}`);
    } else {
      cam.clear();
      guided.clear();
      cam.setCaption("Grad-CAM");
      guided.setCaption("Guided Grad-CAM");
    }
    const version = model.get("lens_version") ?? 0;
    setData(cam.canvas, "version", version);
    setData(guided.canvas, "version", version);
  });
  return { root: h("div", { class: "dw-row" }, [cam.root, guided.root]), stop };
}

/**
 * Packed entries with a shape, decoded; those the buffer does not (yet) hold in full are left out.
 * @template {import("../lib/traits.js").PackedEntry} E
 * @param {import("../lib/buffers.js").BufferLike} buffer
 * @param {readonly (E | null | undefined)[] | null | undefined} index
 * @returns {{ entry: E, array: { data: Float32Array, shape: number[] } }[]}
 */
export function unpackWhole(buffer, index) {
  /** @type {E[]} */
  const entries = (index || []).filter((e) => e && Array.isArray(e.shape) && Number.isFinite(e.offset))
    .map((e) => /** @type {E} */ (e));
  return unpack(buffer, entries).map((array, i) => ({ entry: entries[i], array }))
    .filter(({ array }) => array.data.length === array.shape.reduce((a, b) => a * b, 1) && array.data.length > 0);
}

/**
 * How far an occlusion run got: "12/64 positions" while it runs, "stopped at 12/64", else
 * "64 positions"; "" when the entry does not say.
 * @param {{ done?: number, total?: number, state?: string } | null | undefined} entry
 */
export function occlusionProgress(entry) {
  const total = Number(entry?.total) || 0;
  if (!entry || total <= 0) return "";
  const done = Number(entry.done) || 0;
  if (entry.state === "stopped") return `stopped at ${done}/${total}`;
  if (entry.state === "running") return `${done}/${total} positions`;
  return `${total} positions`;
}

/**
 * The occlusion maps (data-testid="occlusion") and their button; while Python computes them
 * they are redrawn at each partial update, and "occlusion-progress" says how far it got.
 * @param {LensModel} model
 */
export function occlusionPart(model) {
  const maps = h("div", { class: "dw-strip", dataset: { testid: "occlusion" } });
  const status = h("span", { class: "dw-count", dataset: { testid: "occlusion-progress" } });
  const button = h("button", { onclick: () => model.send({ type: "occlusion" }) }, ["occlusion map"]);
  const stops = [
    watch(model, ["occlusion_version"], () => {
      clear(maps);
      const entries = unpackWhole(model.get("occlusion"), model.get("occlusion_index"));
      for (const { entry, array } of entries) {
        const view = occlusionView(entry, array, model.get("classes") || []);
        const canvas = view.querySelector("canvas");
        if (canvas) for (const key of /** @type {const} */ (["done", "total", "state"])) setData(canvas, key, entry[key]);
        maps.appendChild(view);
      }
      const first = entries.find(({ entry }) => (Number(entry.total) || 0) > 0)?.entry;
      setText(status, occlusionProgress(first));
      setData(status, "state", first?.state);
      setData(maps, "state", first?.state);
      setData(maps, "version", model.get("occlusion_version") ?? 0);
    }),
  ];
  const root = h("div", {}, [
    h("div", { class: "dw-controls" }, [button, status,
      h("span", { class: "dw-note" }, ["a grey square at each position: the channel's value (dark: it drops) or, "
        + "with classes, Zeiler & Fergus's Fig. 7: (b) the strongest unit, (d) the class's probability, (e) the most probable class"])]),
    maps,
  ]);
  return { root, stop: () => stops.forEach((s) => s()) };
}

/**
 * The sanity cascade (data-testid="sanity"): the trained model first, then one more layer randomised each step.
 * @param {LensModel} model
 */
export function sanityPart(model) {
  const strip = h("div", { class: "dw-strip", dataset: { testid: "sanity" } });
  const button = h("button", { onclick: () => model.send({ type: "sanity" }) }, ["sanity check"]);
  const stop = watch(model, ["sanity_version"], () => {
    clear(strip);
    // the cascade grows a step at a time: draw the steps there are
    for (const { entry, array } of unpackWhole(model.get("sanity"), model.get("sanity_index"))) {
      const [data, shape] = asImage(array);
      const view = createImageView({ caption: sanityCaption(entry), displaySize: 96 });
      view.update(data, shape, projectionMode(shape));
      strip.appendChild(view.root);
    }
    setData(strip, "version", model.get("sanity_version") ?? 0);
  });
  const root = h("div", {}, [
    h("div", { class: "dw-controls" }, [button, h("span", { class: "dw-note" },
      ["the projection again with the layers re-initialised from the top down; rho: rank correlation with the trained one"])]),
    strip,
  ]);
  return { root, stop };
}

/**
 * The lens panel: target (menu and class search), Grad-CAM and Guided Grad-CAM, occlusion maps,
 * faithfulness, the sanity cascade.
 * @param {LensModel} model
 */
export function lensPanel(model) {
  const target = lensTargetPart(model);
  const search = targetSearchPart(model);
  const button = h("button", { onclick: () => model.send({ type: "lenses" }) }, ["Grad-CAM"]);
  const parts = [target, search, gradcamPart(model), occlusionPart(model), faithfulnessPart(model), sanityPart(model)];
  const root = h("details", { dataset: { testid: "lenses" } }, [
    h("summary", {}, ["lenses: Grad-CAM, occlusion, faithfulness and a sanity check"]),
    h("div", { class: "dw-controls" }, [target.root, search.root, button]),
    ...parts.slice(2).map((p) => p.root),
  ]);
  return { root, stop: () => parts.forEach((p) => p.stop()) };
}
