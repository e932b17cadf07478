// The channel grid and the projections (one per method of the `methods` trait), bound to a
// model. A pick (click, arrow key, channel box) sets `channel` and sends it at once; what is
// drawn comes from a projection source (traits, else the prefetch cache, else "computing…").
import { append, clear, h, localChoice, setData } from "./dom.js";
import { toFloat32Shaped } from "./buffers.js";
import { createChannelGrid } from "./grid.js";
import { createImageView } from "./image_view.js";
import { createProjectionSource } from "./projection_source.js";
import { push, watch } from "./widget.js";

/** @typedef {import("@anywidget/types").AnyModel<import("./traits.js").ProjectionTraits>} ProjectionModel */
/** @typedef {ReturnType<typeof createProjectionSource>} ProjectionSource */

/**
 * Pick a channel: set it and tell Python at once; an invalid channel (NaN, < 0, >= count) is ignored.
 * @param {ProjectionModel} model
 * @param {number} channel
 * @param {number} count
 */
function pickChannel(model, channel, count) {
  if (!Number.isInteger(channel) || channel < 0 || channel >= count) return;
  model.set("channel", channel);
  model.save_changes();
}

/**
 * Run fn once in a microtask however often this is called before it runs.
 * @param {() => void} fn
 */
function coalesced(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      try {
        fn();
      } catch (err) {
        console.error("deconv-widgets: redraw failed", err);
      }
    });
  };
}

/**
 * The channel number box (data-testid="channel-input"): Enter or change picks the channel.
 * @param {ProjectionModel} model
 * @param {() => number} count
 * @param {(channel: number) => void} pick
 */
function channelBox(model, count, pick) {
  const box = h("input", { type: "number", min: "0", step: "1", style: { width: "5em" },
    dataset: { testid: "channel-input" }, "aria-label": "channel" });
  const commit = () => {
    const text = box.value.trim();
    const channel = text === "" ? NaN : Number(text);
    if (channel !== model.get("channel")) pick(channel);
  };
  box.addEventListener("change", commit);
  box.addEventListener("keydown", (event) => { if (event.key === "Enter") commit(); });
  const show = () => {
    box.max = String(Math.max(0, count() - 1));
    if (document.activeElement !== box) box.value = String(model.get("channel"));
  };
  return { root: h("label", {}, ["channel ", box]), box, show };
}

/**
 * The channel grid of the current layer's activations (sequential map; click, arrow keys and
 * the channel box pick), ordered by index or by `strongest`. With a projection source, cells
 * whose shown projection is ready get a marker and the canvas carries data-prefetched.
 * @param {ProjectionModel} model
 * @param {{ source?: ProjectionSource | null }} [options]
 */
export function gridPart(model, { source = null } = {}) {
  /** @type {import("./grid.js").Normalise} */
  let normalise = "channel";
  let order = "index";
  const count = () => (model.get("act_shape") || [])[2] ?? 0;
  /** @param {number} channel */
  const pick = (channel) => pickChannel(model, channel, count());
  const grid = createChannelGrid({ onSelect: pick, selected: model.get("channel") });
  const channel = channelBox(model, count, pick);
  const marks = coalesced(() => {
    if (!source) return;
    const n = count();
    const ready = [...source.ready(model.get("method"))].filter((c) => c < n);
    setData(grid.canvas, "prefetched", ready.length);
    grid.setMarks(ready.length < n ? ready : null); // every cell ready: no markers needed
  });
  const redraw = () => {
    const shape = model.get("act_shape") || [];
    if (shape.length !== 3) return;
    setData(grid.canvas, "layer", model.get("layer"));
    grid.update(toFloat32Shaped(model.get("activations"), shape), shape, {
      normalise, colormap: "sequential", order: order === "strongest" ? model.get("strongest") : null,
    });
    grid.select(model.get("channel"));
    channel.show();
    marks();
  };
  const normaliseControl = localChoice("normalise ", ["channel", "shared"], normalise, (v) => {
    normalise = v === "shared" ? "shared" : "channel";
    redraw();
  }, { dataset: { testid: "normalise-select" } });
  const orderControl = localChoice("order ", ["index", "strongest"], order, (v) => {
    order = v;
    redraw();
  }, { dataset: { testid: "order-select" } });
  const stops = [
    watch(model, ["activations", "act_shape", "layer", "strongest"], redraw),
    watch(model, ["channel"], () => {
      grid.select(model.get("channel"));
      channel.show();
    }, { now: false }),
  ];
  if (source) {
    stops.push(source.onChange(marks), watch(model, ["proj_key", "proj_channels", "proj_methods",
      "proj_errors", "method", "seed", "image_version"], marks, { now: false }));
  }
  return {
    root: grid.root, grid, normaliseControl, orderControl, channelControl: channel.root,
    /**
     * Keep the grid fitted to an element's width.
     * @param {HTMLElement} el
     */
    fitTo(el) { stops.push(grid.fitTo(el)); },
    stop: () => stops.forEach((s) => s()),
  };
}

/** The projections' smallest size (CSS px, long side). */
export const PICTURE_MIN = 160;
/** The projections' largest size is this share of the width they are fitted to (4: a quarter). */
export const PICTURE_SHARE = 4;

/**
 * The size (CSS px, long side) of each projection in a width: the largest whole multiple of the
 * input's own size (max(H, W)) up to a quarter of the width (so pixels stay square), a quarter
 * when the input is as big or has no size; never under PICTURE_MIN (160).
 * @param {number} width
 * @param {number} [inputSize]
 * @returns {number}
 */
export function pictureSize(width, inputSize = 0) {
  const cap = Math.max(PICTURE_MIN, Math.floor((Number(width) || 0) / PICTURE_SHARE));
  const input = Math.round(Number(inputSize) || 0);
  if (input <= 0 || input >= cap) return cap;
  return Math.max(PICTURE_MIN, input * Math.floor(cap / input));
}

/**
 * Width of an element's content box (px); 0 while it is not laid out.
 * @param {HTMLElement} el
 */
function contentWidth(el) {
  const width = el.clientWidth;
  if (!width) return 0;
  const style = getComputedStyle(el);
  return width - (Number.parseFloat(style.paddingLeft) || 0) - (Number.parseFloat(style.paddingRight) || 0);
}

/**
 * The projections side by side, one canvas per entry of the `methods` trait (read-only: Python
 * sets it), in its order. When an entry changes (Python shows a configured method's key, e.g.
 * "lrp_epsilon(epsilon=0.1)", in place of its name) its canvas is replaced; the others stay.
 * Exactly one canvas carries data-testid="projection" (the primary method's); the others are
 * projection-<method>. data-version counts new draws of the primary canvas; data-pending is
 * "1" while the current pick's method has no data. fitTo(el) sizes them by pictureSize from
 * el's width and the input's size (root's data-size: the size in px).
 * @param {ProjectionModel} model
 * @param {{ source?: ProjectionSource | null }} [options]
 */
export function projectionsPart(model, { source = null } = {}) {
  const own = !source;
  const projections = source ?? createProjectionSource(model);
  /** @type {string[]} */
  let methods = [];
  /** @type {ReturnType<typeof createImageView>[]} */
  let views = [];
  /** @type {string[]} what each canvas shows (its pick, method, mode) */
  let shown = [];
  /** @type {boolean[]} ... and whether that is data (not an error) */
  let drawn = [];
  const root = h("div", { class: "dw-row" });
  let size = 0; // px (long side) from fitTo; 0: the views' own default
  /** @type {{ setDisplaySize: (px: number) => void }[]} other views shown at the same size */
  let followers = [];
  /**
   * A canvas for one method; a click makes it the primary method.
   * @param {string} m
   */
  const methodView = (m) => {
    const view = createImageView({ caption: m, testid: `projection-${m}`, fit: true, displaySize: size || undefined });
    view.canvas.addEventListener("click", () => push(model, { method: m }));
    view.canvas.title = `click: make ${m} the primary method`;
    return view;
  };
  /** Follow the `methods` trait: a new canvas for each entry that changed, in its order. */
  const setMethods = () => {
    const next = [...(model.get("methods") || [])];
    if (JSON.stringify(next) === JSON.stringify(methods)) return;
    const same = next.map((m, i) => methods[i] === m && i < views.length);
    views = next.map((m, i) => (same[i] ? views[i] : methodView(m)));
    shown = next.map((_, i) => (same[i] ? shown[i] : ""));
    drawn = next.map((_, i) => (same[i] ? drawn[i] : false));
    methods = next;
    append(clear(root), views.map((v) => v.root));
  };
  setMethods();
  let mode = "signed";
  let version = 0;
  let lastPrimary = "";
  const draw = () => {
    const primary = model.get("method");
    const layer = model.get("layer");
    const channel = model.get("channel");
    const context = [layer, model.get("seed"), model.get("image_version"), channel];
    views.forEach((v, i) => {
      const m = methods[i];
      const isPrimary = m === primary;
      setData(v.canvas, "testid", isPrimary ? "projection" : `projection-${m}`);
      v.root.classList.toggle("dw-primary", isPrimary);
      const found = projections.lookup(m, channel);
      const signature = JSON.stringify([...context, m, mode, found?.error ?? ""]);
      if (found?.error) {
        if (shown[i] !== signature) v.clear();
        v.setCaption(`${m}: ${found.error}`);
      } else if (found?.data) {
        if (shown[i] !== signature) v.update(found.data, found.shape, mode);
        v.setCaption(`${m}${isPrimary ? " ●" : ""} · ch ${channel}`);
      } else {
        v.setCaption(`${m} · channel ${channel} · computing…`);
      }
      if (found) {
        shown[i] = signature;
        drawn[i] = !found.error;
        setData(v.canvas, "layer", layer);
        setData(v.canvas, "channel", channel);
        setData(v.canvas, "method", m);
      }
      setData(v.canvas, "pending", found ? "0" : "1");
      v.root.classList.toggle("dw-pending", !found);
      if (!isPrimary) setData(v.canvas, "version", null);
    });
    const p = methods.indexOf(primary);
    if (p < 0) return; // `method` arrived before the `methods` entry it names: wait for it
    const now = `${p}|${shown[p]}`;
    if (drawn[p] && now !== lastPrimary) {
      lastPrimary = now;
      version += 1;
    }
    if (version && views[p]) setData(views[p].canvas, "version", version);
  };
  const schedule = coalesced(draw);
  const drawNow = () => {
    try {
      draw();
    } catch (err) {
      console.error("deconv-widgets: redraw failed", err);
    }
  };
  const modeControl = localChoice("display ", ["signed", "raw", "abs", "norm", "gamma"], mode, (v) => {
    mode = v;
    schedule();
  }, { dataset: { testid: "display-select" } });
  const stops = [
    // a pick draws at once (synchronously) when its projection is in the page
    watch(model, ["channel", "method"], drawNow, { now: false }),
    watch(model, ["methods"], () => {
      setMethods();
      drawNow();
    }, { now: false }),
    watch(model, ["projections", "proj_shape", "proj_channels", "proj_key", "proj_errors",
      "proj_methods", "layer", "seed", "image_version"], schedule),
    projections.onChange(schedule),
  ];
  if (own) stops.push(() => projections.stop());
  /** @param {number} px */
  const setSize = (px) => {
    if (px === size) return;
    size = px;
    for (const view of [...views, ...followers]) view.setDisplaySize(px);
    setData(root, "size", px);
  };
  return {
    root, modeControl, source: projections, setSize,
    /** The size (px, long side) the projections are shown at; 0 until fitted. */
    get size() { return size; },
    /**
     * Keep the projections (and `others`, e.g. the input image) sized by pictureSize from el's
     * width and the input's size (image_shape), following resizes; a resize applies on the next
     * frame (a change inside the observer's callback would resize el within its own callback).
     * @param {HTMLElement} el
     * @param {{ setDisplaySize: (px: number) => void }[]} [others]
     */
    fitTo(el, others = []) {
      followers = others;
      const measure = () => {
        const width = contentWidth(el);
        if (!width) return; // not laid out (yet): keep the default size
        const [height = 0, wide = 0] = model.get("image_shape") || [];
        setSize(pictureSize(width, Math.max(height, wide)));
      };
      measure();
      stops.push(watch(model, ["image_shape"], measure, { now: false }));
      if (typeof ResizeObserver === "undefined") return;
      let frame = 0;
      const observer = new ResizeObserver(() => {
        if (!frame) frame = requestAnimationFrame(() => { frame = 0; measure(); });
      });
      observer.observe(el);
      stops.push(() => { observer.disconnect(); cancelAnimationFrame(frame); });
    },
    /** The canvases, one per entry of `methods`, in its order. */
    get views() { return views; },
    stop: () => stops.forEach((s) => s()),
    get version() { return version; },
  };
}
