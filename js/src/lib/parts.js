// UI parts bound to an anywidget model, shared by the Explorer and its stand-alone pieces.
// Every part reads its traits with watch() and writes user picks back with push(), so Python
// stays the source of truth and setting a trait from Python redraws exactly like a click.
import { clear, h, select, setOptions, showStatus, statusLine } from "./dom.js";
import { toFloat32, toFloat32Shaped } from "./buffers.js";
import { createImageView } from "./image_view.js";
import { debounce, push, watch } from "./widget.js";

export { gridPart, PICTURE_MIN, pictureSize, projectionsPart } from "./channel_parts.js";

/** @typedef {import("./traits.js").Model} Model */
/** @typedef {import("@anywidget/types").AnyModel<import("./traits.js").StatusTraits>} StatusModel */
/** @typedef {import("./traits.js").PackedEntry} PackedEntry */

const TYPING_MS = 400; // a text trait is sent after this long without typing

/**
 * The status line (data-testid="status") showing the `status` trait.
 * @param {StatusModel} model
 */
export function statusPart(model) {
  const root = statusLine();
  const stop = watch(model, ["status"], () => showStatus(root, model.get("status")));
  return { root, stop };
}

/**
 * The inspector table: one row per layer (kind, shape, params, receptive field, jump).
 * @param {import("@anywidget/types").AnyModel<import("./traits.js").InspectorTraits & { layer?: string }>} model
 * @param {{ selectable?: boolean }} [options] selectable: a click on a row sets `layer`
 */
export function inspectorPart(model, { selectable = false } = {}) {
  const body = h("tbody");
  const head = h("thead", {}, [h("tr", {}, ["layer", "kind", "output shape", "params",
    "receptive field", "jump"].map((t) => h("th", {}, [t])))]);
  const root = h("table", { class: "dw-table", dataset: { testid: "inspector" } }, [head, body]);
  const stop = watch(model, selectable ? ["layers", "layer"] : ["layers"], () => {
    clear(body);
    for (const info of model.get("layers") || []) {
      const shape = (info.output_shape || []).map((s) => (s === null ? "?" : s)).join(" × ");
      const row = h("tr", {
        class: selectable && info.name === model.get("layer") ? "dw-selected" : undefined,
        dataset: { layer: info.name },
      }, [info.name, info.kind, shape, info.params, `${info.receptive_field} px`,
        `${info.jump} px`].map((v) => h("td", {}, [String(v)])));
      if (selectable) row.addEventListener("click", () => push(model, { layer: info.name }));
      body.appendChild(row);
    }
  });
  return { root, stop };
}

/**
 * A labelled <select> bound to a string trait; options from a list or a function.
 * @param {Model} model
 * @param {string} trait
 * @param {string} label
 * @param {readonly string[] | (() => readonly string[])} options
 * @param {string[]} [watchAlso] traits whose change re-reads the options
 */
export function choicePart(model, trait, label, options, watchAlso = []) {
  const values = () => (typeof options === "function" ? options() : options);
  const el = select(values(), model.get(trait), (v) => push(model, { [trait]: v }),
    { dataset: { testid: `${trait}-select` } });
  const stop = watch(model, [trait, ...watchAlso], () => setOptions(el, values(), model.get(trait)));
  return { root: h("label", {}, [label, el]), el, stop };
}

/**
 * A labelled <select> bound to a string trait whose options are the list trait `choices`.
 * @param {Model} model
 * @param {string} trait
 * @param {string} label
 * @param {string} choices
 */
export function listChoicePart(model, trait, label, choices) {
  return choicePart(model, trait, label, () => model.get(choices) || [], [choices]);
}

/**
 * The layer picker: a <select> of the 4-D layers.
 * @param {import("@anywidget/types").AnyModel<{ layers: import("./traits.js").LayerRow[], layer: string }>} model
 */
export function layerPickerPart(model) {
  return choicePart(model, "layer", "layer ", () => (model.get("layers") || []).map((l) => l.name), ["layers"]);
}

/**
 * The shown input image (values in [0, 1]).
 * @param {import("@anywidget/types").AnyModel<{ image: DataView, image_shape: number[] }>} model
 */
export function inputImagePart(model) {
  const view = createImageView({ caption: "input", mode: "image", testid: "input-image", fit: true });
  const stop = watch(model, ["image", "image_shape"], () => {
    const shape = model.get("image_shape") || [];
    if (shape.length === 3) view.update(toFloat32Shaped(model.get("image"), shape), shape, "image");
  });
  return { root: view.root, view, stop };
}

/**
 * Decode a packed buffer + index ([{shape, offset}]) into [{data, shape}] entries.
 * @param {import("./buffers.js").BufferLike} buffer
 * @param {readonly PackedEntry[] | null | undefined} index
 * @returns {{ data: Float32Array, shape: number[] }[]}
 */
export function unpack(buffer, index) {
  const all = toFloat32(buffer);
  return (index || []).map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    return { data: all.subarray(entry.offset, entry.offset + size), shape: entry.shape };
  });
}

/**
 * Image from an array of shape (H, W) or (H, W, C) as [data, [H, W, C]].
 * @param {{ data: Float32Array, shape: number[] }} array
 * @returns {[Float32Array, number[]]}
 */
export function asImage({ data, shape }) {
  return [data, shape.length === 2 ? [...shape, 1] : shape];
}

/**
 * A note: plain text in a div.dw-note.
 * @param {string} text
 */
export function note(text) {
  return h("div", { class: "dw-note" }, [text]);
}

/**
 * A textarea bound to a text trait: typing sends the text (debounced), Python's value is shown
 * unless the user is typing in it, so what the user typed is never overwritten mid-edit.
 * @param {Model} model
 * @param {string} trait
 * @param {string} label
 * @param {{ rows?: number, cols?: number, testid?: string }} [options]
 */
export function textPart(model, trait, label, { rows = 4, cols = 18, testid } = {}) {
  const area = h("textarea", { rows: String(rows), cols: String(cols), spellcheck: "false",
    dataset: { testid: testid ?? `${trait}-text` } });
  const send = debounce(() => push(model, { [trait]: area.value }), TYPING_MS);
  area.addEventListener("input", send);
  area.addEventListener("change", () => { send.cancel(); push(model, { [trait]: area.value }); });
  const stop = watch(model, [trait], () => {
    if (document.activeElement !== area && area.value !== model.get(trait)) area.value = model.get(trait);
  });
  return { root: h("label", { class: "dw-text" }, [h("div", {}, [label]), area]), area, stop };
}

/**
 * A number input bound to an int trait (sent on change).
 * @param {Model} model
 * @param {string} trait
 * @param {string} label
 * @param {{ min?: number, max?: number }} [range]
 */
export function numberPart(model, trait, label, { min = 1, max = 16 } = {}) {
  const input = h("input", { type: "number", min: String(min), max: String(max), step: "1",
    style: { width: "4em" }, dataset: { testid: `${trait}-input` } });
  input.addEventListener("change", () => {
    const v = Number.parseInt(input.value, 10);
    if (Number.isFinite(v)) push(model, { [trait]: v });
  });
  const stop = watch(model, [trait], () => { input.value = String(model.get(trait)); });
  return { root: h("label", {}, [label, input]), input, stop };
}
