// Feature grid: every channel of one (H, W, C) channels-last float32 map on ONE canvas, fitted
// to a width (see grid_layout.js). Drawing costs one table lookup per canvas pixel and one
// putImageData; the drawn pixels are kept, so moving the selection outline or a "ready" marker
// only restores and repaints a few small rectangles. Hover tells channel, peak, position, value.
import { h, setData, setText } from "./dom.js";
import { TABLE_STEPS, colourTable, diverging, sequential, signedScale, unitScale } from "./colormaps.js";
import { cellOrigin, gridLayout, hitTest, moveSelection, sourceIndex } from "./grid_layout.js";

export { cellOrigin, gridLayout, hitTest, moveSelection } from "./grid_layout.js";

const OUTLINE = "#ff2d95";
const FALLBACK_WIDTH = 800;

/** Per-channel (or one shared) {min, max, maxAbs} of an (H, W, C) map, in one pass. */
export function channelRanges(data, shape, normalise = "channel") {
  const [height, width, channels] = shape;
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let o = 0, end = height * width * channels; o < end; o += channels) {
    for (let c = 0; c < channels; c++) {
      const v = data[o + c];
      if (v < mins[c] && v !== -Infinity) mins[c] = v;
      if (v > maxs[c] && v !== Infinity) maxs[c] = v;
    }
  }
  const ranges = Array.from(mins, (min, c) => (min === Infinity ? { min: 0, max: 0, maxAbs: 0 }
    : { min, max: maxs[c], maxAbs: Math.max(Math.abs(min), Math.abs(maxs[c])) }));
  return normalise === "shared" ? ranges.map(() => sharedRange(ranges)) : ranges;
}

/** One range spanning all the given ranges. */
export function sharedRange(ranges) {
  let min = Infinity;
  let max = -Infinity;
  for (const r of ranges) {
    if (r.min === 0 && r.max === 0 && r.maxAbs === 0) continue;
    min = Math.min(min, r.min);
    max = Math.max(max, r.max);
  }
  if (min === Infinity) return { min: 0, max: 0, maxAbs: 0 };
  return { min, max, maxAbs: Math.max(Math.abs(min), Math.abs(max)) };
}

/** Colour of value v under a range and a colour map name ("sequential" | "diverging"). */
export function colourOf(v, range, colormap) {
  return colormap === "diverging"
    ? diverging(signedScale(v, range.maxAbs))
    : sequential(unitScale(v, range.min, range.max));
}

const packed = {};
/** RGBA colour as one 32-bit word in the platform's byte order (for Uint32 pixel writes). */
function pack(r, g, b) {
  const word = new Uint32Array(1);
  new Uint8Array(word.buffer).set([r, g, b, 255]);
  return word[0];
}
function packedTable(name) {
  if (!packed[name]) {
    const rgb = colourTable(name);
    packed[name] = Uint32Array.from({ length: TABLE_STEPS }, (_, i) => pack(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]));
  }
  return packed[name];
}

/** Paint every cell of a layout into an ImageData (nearest-neighbour sampling per canvas pixel). */
export function paintGrid(image, layout, data, ranges, options = {}) {
  const { height, width, channels, cellW, cellH, canvasWidth } = layout;
  const px = new Uint32Array(image.data.buffer, image.data.byteOffset, image.data.length / 4);
  const bg = options.background ?? [128, 128, 128];
  px.fill(pack(bg[0], bg[1], bg[2]));
  const colormap = options.colormap ?? "sequential";
  const table = packedTable(colormap);
  const top = TABLE_STEPS - 1;
  const xo = Int32Array.from({ length: cellW }, (_, dx) => sourceIndex(dx, cellW, width) * channels);
  const ys = Int32Array.from({ length: cellH }, (_, dy) => sourceIndex(dy, cellH, height));
  const isDiverging = colormap === "diverging";
  for (let c = 0; c < channels; c++) {
    const [ox, oy] = cellOrigin(layout, c);
    // value -> table index: (v - low) * gain; a flat range shows the map's low end (or centre)
    const r = ranges[c];
    const low = isDiverging ? -r.maxAbs : r.min;
    const span = isDiverging ? 2 * r.maxAbs : r.max - r.min;
    const gain = span > 0 ? top / span : 0;
    const flat = table[isDiverging ? Math.round(top / 2) : 0];
    for (let dy = 0; dy < cellH; dy++) {
      const o = (oy + dy) * canvasWidth + ox;
      if (dy > 0 && ys[dy] === ys[dy - 1]) {
        px.copyWithin(o, o - canvasWidth, o - canvasWidth + cellW);
        continue;
      }
      const row = ys[dy] * width * channels + c;
      for (let dx = 0; dx < cellW; dx++) {
        const v = data[row + xo[dx]];
        if (!gain || !Number.isFinite(v)) {
          px[o + dx] = flat;
          continue;
        }
        const j = Math.round((v - low) * gain);
        px[o + dx] = table[j < 0 ? 0 : j > top ? top : j];
      }
    }
  }
  return image;
}

/** Stroke the selection outline around a channel's cell. */
function strokeOutline(ctx, layout, channel, colour = OUTLINE) {
  const [ox, oy] = cellOrigin(layout, channel);
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.strokeRect(ox - 1, oy - 1, layout.cellW + 2, layout.cellH + 2);
}

/** Draw every channel of an (H, W, C) map onto a canvas; returns the layout used. */
export function drawGrid(canvas, data, shape, options = {}) {
  const [height, width, channels] = shape;
  const layout = gridLayout(channels, height, width, options);
  canvas.width = layout.canvasWidth;
  canvas.height = layout.canvasHeight;
  const ctx = canvas.getContext("2d");
  const ranges = options.ranges ?? channelRanges(data, shape, options.normalise);
  ctx.putImageData(paintGrid(ctx.createImageData(layout.canvasWidth, layout.canvasHeight), layout, data, ranges, options), 0, 0);
  if (options.selected !== undefined && options.selected !== null && options.selected < channels) {
    strokeOutline(ctx, layout, options.selected, options.outline);
  }
  return layout;
}

/** Format a value for read-outs: 4 significant digits, no trailing zeros. */
export function formatValue(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

/** Square [x, y, size] of a cell's "ready" marker (inside its top-right corner). */
export function markerRect(layout, channel) {
  const [ox, oy] = cellOrigin(layout, channel);
  const size = Math.max(2, Math.min(5, Math.round(Math.min(layout.cellW, layout.cellH) / 6)));
  const inset = layout.cellW > 2 * size + 1 ? 1 : 0;
  return [ox + layout.cellW - size - inset, oy + inset, size];
}

/** Width available to a grid inside `el` (content box minus the canvas border); 800 when 0. */
export function availableWidth(el) {
  const width = el?.clientWidth ?? 0;
  if (!width) return FALLBACK_WIDTH;
  const style = getComputedStyle(el);
  const pad = (Number.parseFloat(style.paddingLeft) || 0) + (Number.parseFloat(style.paddingRight) || 0);
  return Math.max(1, Math.floor(width - pad - 2));
}

/**
 * A live channel grid: canvas (tabindex=0, focusable) plus a hover read-out line.
 * onSelect(channel) is called on click and arrow keys. Call update(data, shape, opts).
 */
export function createChannelGrid(options = {}) {
  const canvas = h("canvas", {
    class: "dw-grid",
    tabindex: "0",
    dataset: { testid: options.testid ?? "channel-grid" },
    "aria-label": options.label ?? "channels; arrow keys select",
  });
  const readout = h("div", { class: "dw-readout" }, [" "]);
  const root = h("div", { class: "dw-grid-wrap" }, [canvas, readout]);
  const state = {
    data: null, shape: null, layout: null, opts: {}, peaks: null, ranges: null, rangesOf: null,
    selected: options.selected ?? 0, outlined: null, maxWidth: options.maxWidth ?? FALLBACK_WIDTH,
    image: null, clean: null, marks: new Set(), draws: 0,
  };
  let ctx = null;
  const context = () => { ctx ??= canvas.getContext("2d"); return ctx; };

  function layoutFor(opts) {
    const [height, width, channels] = state.shape;
    return gridLayout(channels, height, width, { ...opts, maxWidth: state.maxWidth });
  }
  function shownRanges() {
    const key = state.opts.normalise === "shared" ? "shared" : "channel";
    if (state.rangesOf !== key) {
      state.ranges = key === "shared" ? state.peaks.map(() => sharedRange(state.peaks)) : state.peaks;
      state.rangesOf = key;
    }
    return state.ranges;
  }
  function restore(x, y, w, hgt) {
    if (state.image) context().putImageData(state.image, 0, 0, x, y, w, hgt);
  }
  function outline() {
    const layout = state.layout;
    if (!layout) return;
    if (state.outlined !== null && state.outlined < layout.channels) {
      const [ox, oy] = cellOrigin(layout, state.outlined);
      restore(ox - 2, oy - 2, layout.cellW + 4, layout.cellH + 4);
    }
    state.outlined = null;
    if (state.selected < layout.channels) {
      strokeOutline(context(), layout, state.selected);
      state.outlined = state.selected;
    }
    setData(canvas, "channel", state.selected);
  }
  function paintMarker(channel, on, put = true) {
    const [x, y, size] = markerRect(state.layout, channel);
    const px = new Uint32Array(state.image.data.buffer);
    const { canvasWidth } = state.layout;
    const white = pack(255, 255, 255);
    const black = pack(0, 0, 0);
    for (let dy = 0; dy < size; dy++) {
      for (let dx = 0; dx < size; dx++) {
        const o = (y + dy) * canvasWidth + x + dx;
        const edge = size >= 4 && (dx === 0 || dy === size - 1 || dx === size - 1 || dy === 0);
        px[o] = !on ? state.clean[o] : edge ? black : white;
      }
    }
    if (put) restore(x, y, size, size);
  }
  function redraw() {
    if (!state.data) return;
    const layout = layoutFor(state.opts);
    if (canvas.width !== layout.canvasWidth || canvas.height !== layout.canvasHeight) {
      canvas.width = layout.canvasWidth;
      canvas.height = layout.canvasHeight;
    }
    state.layout = layout;
    state.image = paintGrid(context().createImageData(layout.canvasWidth, layout.canvasHeight),
      layout, state.data, shownRanges(), state.opts);
    state.clean = new Uint32Array(state.image.data.buffer).slice();
    for (const c of state.marks) if (c < layout.channels) paintMarker(c, true, false);
    context().putImageData(state.image, 0, 0);
    state.outlined = null;
    outline();
    state.draws += 1;
    const geometry = { cols: layout.cols, cellWidth: layout.cellW, cellHeight: layout.cellH,
      gap: layout.gap, order: layout.order ? "strongest" : "index" };
    for (const [k, v] of Object.entries(geometry)) setData(canvas, k, v);
  }
  function setSelected(channel) {
    state.selected = channel;
    if (state.layout) outline();
  }
  function pick(channel) {
    if (channel === null || channel === state.selected) return;
    setSelected(channel);
    options.onSelect?.(channel);
  }
  function eventCell(event) {
    if (!state.layout) return null;
    const rect = canvas.getBoundingClientRect();
    // the CSS box includes the 1px border; the canvas pixels sit inside it
    const border = canvas.clientLeft || 0;
    const sx = canvas.clientWidth ? canvas.width / canvas.clientWidth : 1;
    const sy = canvas.clientHeight ? canvas.height / canvas.clientHeight : 1;
    return hitTest(state.layout, (event.clientX - rect.left - border) * sx,
      (event.clientY - rect.top - (canvas.clientTop || 0)) * sy);
  }
  canvas.addEventListener("mousemove", (event) => {
    const hit = eventCell(event);
    if (!hit) return setText(readout, " ");
    const [, width, channels] = state.shape;
    const v = state.data[(hit.y * width + hit.x) * channels + hit.channel];
    setText(readout, `channel ${hit.channel} · peak ${formatValue(state.peaks[hit.channel].max)}`
      + ` · y ${hit.y}, x ${hit.x} · ${formatValue(v)}`);
  });
  canvas.addEventListener("mouseleave", () => setText(readout, " "));
  canvas.addEventListener("click", (event) => {
    const hit = eventCell(event);
    canvas.focus({ preventScroll: true });
    if (hit) pick(hit.channel);
  });
  canvas.addEventListener("keydown", (event) => {
    if (!state.layout) return;
    const next = moveSelection(state.layout, state.selected, event.key);
    if (next === null) return;
    event.preventDefault();
    pick(next);
  });

  /** Fit the grid to a width in px (re-laid out and redrawn only when the geometry changes). */
  function fit(maxWidth) {
    state.maxWidth = maxWidth;
    if (!state.data || !state.layout) return;
    const next = layoutFor(state.opts);
    const old = state.layout;
    if (next.cols !== old.cols || next.cellW !== old.cellW || next.cellH !== old.cellH) redraw();
  }

  return {
    root, canvas, readout, fit,
    get layout() { return state.layout; },
    get selected() { return state.selected; },
    /** Number of full recolours so far (a selection change is not one). */
    get draws() { return state.draws; },
    /** Draw new data: data Float32Array (H, W, C), shape [H, W, C], opts for gridLayout/paintGrid. */
    update(data, shape, opts = {}) {
      if (data !== state.data || String(shape) !== String(state.shape)) {
        state.peaks = channelRanges(data, shape, "channel");
        state.rangesOf = null;
      }
      if (opts.normalise !== state.opts.normalise) state.rangesOf = null;
      state.data = data;
      state.shape = shape;
      state.opts = opts;
      if (state.selected >= shape[2]) state.selected = 0;
      redraw();
    },
    /** Select a channel without calling onSelect (state coming from Python); only the outline
     * moves, and a channel that is already selected and drawn is not drawn again. */
    select(channel) {
      if (channel === state.selected && canvas.dataset.channel === String(channel)) return;
      setSelected(channel);
    },
    /** Keep fitting the grid to an element's width (ResizeObserver); returns a stop function. */
    fitTo(el) {
      const measure = () => fit(availableWidth(el));
      measure();
      if (typeof ResizeObserver === "undefined") return () => {};
      const observer = new ResizeObserver(measure);
      observer.observe(el);
      return () => observer.disconnect();
    },
    /** Mark the cells of these channels as ready (a dot in the corner); null or empty: none. */
    setMarks(channels) {
      const next = new Set(channels || []);
      if (state.image) {
        const n = state.layout.channels;
        const off = [...state.marks].filter((c) => !next.has(c) && c < n);
        const on = [...next].filter((c) => !state.marks.has(c) && c < n);
        const few = off.length + on.length <= 32; // else one put of the whole grid is cheaper
        off.forEach((c) => paintMarker(c, false, few));
        on.forEach((c) => paintMarker(c, true, few));
        if (!few) {
          context().putImageData(state.image, 0, 0);
          state.outlined = null;
          outline();
        }
      }
      state.marks = next;
    },
  };
}
