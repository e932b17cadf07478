// UI parts bound to an anywidget model, shared by the Explorer and its stand-alone pieces.
// Every part reads its traits with watch() and writes user picks back with push(), so Python
// stays the source of truth and setting a trait from Python redraws exactly like a click.
import { clear, h, select, setOptions, setText, showStatus, statusLine } from "./dom.js";
import { toFloat32, toFloat32Shaped } from "./buffers.js";
import { createChannelGrid } from "./grid.js";
import { createImageView } from "./image_view.js";
import { debounce, push, watch } from "./widget.js";

export const METHODS = ["deconvnet", "guided", "saliency"];
export const SEEDS = ["activation", "max", "ones"];

/** The status line (data-testid="status") showing the `status` trait. */
export function statusPart(model) {
  const root = statusLine();
  const stop = watch(model, ["status"], () => showStatus(root, model.get("status")));
  return { root, stop };
}

/** The inspector table: one row per layer (kind, shape, params, receptive field, jump). */
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

/** A labelled <select> bound to a string trait; options from a list or a function. */
export function choicePart(model, trait, label, options, watchAlso = []) {
  const values = () => (typeof options === "function" ? options() : options);
  const el = select(values(), model.get(trait), (v) => push(model, { [trait]: v }),
    { dataset: { testid: `${trait}-select` } });
  const stop = watch(model, [trait, ...watchAlso], () => setOptions(el, values(), model.get(trait)));
  return { root: h("label", {}, [label, el]), el, stop };
}

/** The layer picker: a <select> of the 4-D layers. */
export function layerPickerPart(model) {
  return choicePart(model, "layer", "layer ", () => (model.get("layers") || []).map((l) => l.name), ["layers"]);
}

/** A labelled <select> not bound to a trait (display options that live in the page). */
export function localChoice(label, values, current, onChange) {
  const el = select(values, current, onChange);
  return h("label", {}, [label, el]);
}

/** True when the projections buffer holds this channel of the current layer. */
export function hasProjection(model, channel) {
  const key = model.get("proj_key") || {};
  return key.layer === model.get("layer") && (model.get("proj_channels") || []).includes(channel);
}

/**
 * A channel setter: the page redraws at once (local set); Python hears about it immediately
 * when the result is already in the page, else debounced so that fast clicks or held arrow
 * keys ask for the latest channel only.
 */
export function channelSetter(model, { ms = 80, onDemand = true } = {}) {
  const save = debounce(() => model.save_changes(), ms);
  return (channel) => {
    model.set("channel", channel);
    if (!onDemand || hasProjection(model, channel)) {
      save.cancel();
      model.save_changes();
    } else {
      save();
    }
  };
}

/** The channel grid of the current layer's activations (sequential map, click/keys select). */
export function gridPart(model, { onDemand = true } = {}) {
  const setChannel = channelSetter(model, { onDemand });
  let normalise = "channel";
  const grid = createChannelGrid({ onSelect: setChannel, selected: model.get("channel") });
  const redraw = () => {
    const shape = model.get("act_shape") || [];
    if (shape.length !== 3) return;
    grid.canvas.dataset.layer = model.get("layer");
    grid.update(toFloat32Shaped(model.get("activations"), shape), shape, { normalise, colormap: "sequential" });
    grid.select(model.get("channel"));
  };
  const norm = localChoice("normalise ", ["channel", "shared"], normalise, (v) => {
    normalise = v;
    redraw();
  });
  const stops = [
    watch(model, ["activations", "act_shape", "layer"], redraw),
    watch(model, ["channel"], () => {
      grid.select(model.get("channel"));
    }, { now: false }),
  ];
  return { root: grid.root, grid, normaliseControl: norm, stop: () => stops.forEach((s) => s()) };
}

/** The shown input image (values in [0, 1]). */
export function inputImagePart(model, caption = "input") {
  const view = createImageView({ caption, mode: "image", testid: "input-image" });
  const stop = watch(model, ["image", "image_shape"], () => {
    const shape = model.get("image_shape") || [];
    if (shape.length === 3) view.update(toFloat32Shaped(model.get("image"), shape), shape, "image");
  });
  return { root: view.root, view, stop };
}

/**
 * The three projections side by side. Exactly one canvas carries data-testid="projection"
 * (the primary method's); the others are projection-<method>. data-version counts drawn results.
 */
export function projectionsPart(model) {
  const views = METHODS.map((m) => createImageView({ caption: m, testid: `projection-${m}` }));
  const root = h("div", { class: "dw-row" }, views.map((v) => v.root));
  let mode = "signed";
  let version = 0;
  let lastDrawn = "";
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    const primary = model.get("method");
    views.forEach((v, i) => {
      const isPrimary = METHODS[i] === primary;
      v.canvas.dataset.testid = isPrimary ? "projection" : `projection-${METHODS[i]}`;
      v.root.classList.toggle("dw-primary", isPrimary);
    });
    const layer = model.get("layer");
    const channel = model.get("channel");
    const shape = model.get("proj_shape") || [];
    const key = model.get("proj_key") || {};
    const b = (model.get("proj_channels") || []).indexOf(channel);
    if (shape.length !== 5 || key.layer !== layer || b < 0) {
      views.forEach((v, i) => v.setCaption(`${METHODS[i]} · channel ${channel} · computing…`));
      return;
    }
    const signature = JSON.stringify([layer, channel, primary, key.request, mode]);
    if (signature === lastDrawn) return;
    const [, count, height, width, colours] = shape;
    const data = toFloat32Shaped(model.get("projections"), shape);
    const per = height * width * colours;
    const methods = model.get("proj_methods") || [];
    const errors = model.get("proj_errors") || {};
    views.forEach((v, i) => {
      const m = METHODS[i];
      const at = methods.indexOf(m);
      if (errors[m] || at < 0) {
        v.clear();
        v.setCaption(`${m}: ${errors[m] || "not computed"}`);
        return;
      }
      const start = (at * count + b) * per;
      v.update(data.subarray(start, start + per), [height, width, colours], mode);
      v.setCaption(`${m}${m === primary ? " ●" : ""} · ch ${channel}`);
    });
    lastDrawn = signature;
    version += 1;
    const canvas = views[METHODS.indexOf(primary)]?.canvas ?? views[0].canvas;
    Object.assign(canvas.dataset, { layer, channel: String(channel), method: primary, version: String(version) });
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(draw);
  };
  const modeControl = localChoice("display ", ["signed", "raw", "abs", "norm", "gamma"], mode, (v) => {
    mode = v;
    schedule();
  });
  const stop = watch(model, ["projections", "proj_shape", "proj_channels", "proj_key", "proj_errors",
    "proj_methods", "channel", "layer", "method"], schedule);
  views.forEach((v, i) => {
    v.canvas.addEventListener("click", () => push(model, { method: METHODS[i] }));
    v.canvas.title = `click: make ${METHODS[i]} the primary method`;
  });
  return { root, views, modeControl, stop, get version() { return version; } };
}

/** Decode a packed buffer + index ([{shape, offset}]) into [{data, shape}] entries. */
export function unpack(buffer, index) {
  const all = toFloat32(buffer);
  return (index || []).map((entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    return { data: all.subarray(entry.offset, entry.offset + size), shape: entry.shape };
  });
}

/** Image from an array of shape (H, W) or (H, W, C) as [data, [H, W, C]]. */
export function asImage({ data, shape }) {
  return [data, shape.length === 2 ? [...shape, 1] : shape];
}

/** Status text as plain text in an element (helper for parts that show their own notes). */
export function note(text) {
  return h("div", { class: "dw-note" }, [text]);
}

export { setText };

/**
 * A textarea bound to a text trait: typing sends the text (debounced), Python's value is shown
 * unless the user is typing in it, so what the user typed is never overwritten mid-edit.
 */
export function textPart(model, trait, label, { rows = 4, cols = 18, ms = 400, testid } = {}) {
  const area = h("textarea", { rows: String(rows), cols: String(cols), spellcheck: "false",
    dataset: { testid: testid ?? `${trait}-text` } });
  const send = debounce(() => push(model, { [trait]: area.value }), ms);
  area.addEventListener("input", send);
  area.addEventListener("change", () => { send.cancel(); push(model, { [trait]: area.value }); });
  const stop = watch(model, [trait], () => {
    if (document.activeElement !== area && area.value !== model.get(trait)) area.value = model.get(trait);
  });
  return { root: h("label", { class: "dw-text" }, [h("div", {}, [label]), area]), area, stop };
}

/** A number input bound to an int trait (sent on change). */
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
