// Feature grid: every channel of one (H, W, C) channels-last float32 map on ONE canvas, fitted
// to a width (see grid_layout.js). Drawing costs one table lookup per canvas pixel and one
// putImageData; the drawn pixels are kept, so moving the selection outline or a "ready" marker
// only restores and repaints a few small rectangles. Hover tells channel, peak, position, value.
import { context2d, h, setData, setText } from "./dom.js";
import { TABLE_STEPS, colourTable } from "./colormaps.js";
import { cellOrigin, gridLayout, hitTest, moveSelection, sourceIndex } from "./grid_layout.js";

/** @typedef {import("./colormaps.js").Range} Range */
/** @typedef {import("./colormaps.js").ColormapName} ColormapName */
/** @typedef {import("./grid_layout.js").Layout} Layout */
/** @typedef {"channel" | "shared"} Normalise */
/**
 * How a grid is drawn: its layout options, normalisation and colour map.
 * @typedef {import("./grid_layout.js").LayoutOptions & { normalise?: Normalise,
 *   colormap?: ColormapName }} GridOptions
 */

const OUTLINE = "#ff2d95";
const FALLBACK_WIDTH = 800;
const BACKGROUND = [128, 128, 128];

/**
 * Per-channel (or one shared) {min, max, maxAbs} of an (H, W, C) map, in one pass.
 * @param {ArrayLike<number>} data
 * @param {number[]} shape
 * @param {Normalise} [normalise]
 * @returns {Range[]}
 */
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

/**
 * One range spanning all the given ranges.
 * @param {Range[]} ranges
 * @returns {Range}
 */
function sharedRange(ranges) {
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

/** @type {Partial<Record<ColormapName, Uint32Array>>} */
const packed = {};
/**
 * RGBA colour as one 32-bit word in the platform's byte order (for Uint32 pixel writes).
 * @param {number} r
 * @param {number} g
 * @param {number} b
 */
function pack(r, g, b) {
  const word = new Uint32Array(1);
  new Uint8Array(word.buffer).set([r, g, b, 255]);
  return word[0];
}
/**
 * A colour map's table as packed RGBA words (built once).
 * @param {ColormapName} name
 */
function packedTable(name) {
  let table = packed[name];
  if (!table) {
    const rgb = colourTable(name);
    table = Uint32Array.from({ length: TABLE_STEPS }, (_, i) => pack(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]));
    packed[name] = table;
  }
  return table;
}

/**
 * Paint every cell of a layout into an ImageData (nearest-neighbour sampling per canvas pixel).
 * @param {ImageData} image
 * @param {Layout} layout
 * @param {ArrayLike<number>} data
 * @param {Range[]} ranges
 * @param {GridOptions} [options]
 * @returns {ImageData}
 */
function paintGrid(image, layout, data, ranges, options = {}) {
  const { height, width, channels, cellW, cellH, canvasWidth } = layout;
  const px = new Uint32Array(image.data.buffer, image.data.byteOffset, image.data.length / 4);
  px.fill(pack(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2]));
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

/**
 * Stroke the selection outline around a channel's cell.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Layout} layout
 * @param {number} channel
 */
function strokeOutline(ctx, layout, channel) {
  const [ox, oy] = cellOrigin(layout, channel);
  ctx.strokeStyle = OUTLINE;
  ctx.lineWidth = 2;
  ctx.strokeRect(ox - 1, oy - 1, layout.cellW + 2, layout.cellH + 2);
}

/**
 * Draw every channel of an (H, W, C) map onto a canvas once (outlining `selected`); returns
 * the layout used. The live grid is createChannelGrid; bench/b2_grid.py times this one.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} data
 * @param {number[]} shape
 * @param {GridOptions & { selected?: number | null }} [options]
 * @returns {Layout}
 */
export function drawGrid(canvas, data, shape, options = {}) {
  const [height, width, channels] = shape;
  const layout = gridLayout(channels, height, width, options);
  canvas.width = layout.canvasWidth;
  canvas.height = layout.canvasHeight;
  const ctx = context2d(canvas);
  const ranges = channelRanges(data, shape, options.normalise);
  const image = ctx.createImageData(layout.canvasWidth, layout.canvasHeight);
  ctx.putImageData(paintGrid(image, layout, data, ranges, options), 0, 0);
  const { selected } = options;
  if (selected !== undefined && selected !== null && selected < channels) strokeOutline(ctx, layout, selected);
  return layout;
}

/**
 * Format a value for read-outs: 4 significant digits, no trailing zeros.
 * @param {number} v
 */
export function formatValue(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

/**
 * Square [x, y, size] of a cell's "ready" marker (inside its top-right corner).
 * @param {Layout} layout
 * @param {number} channel
 * @returns {[number, number, number]}
 */
export function markerRect(layout, channel) {
  const [ox, oy] = cellOrigin(layout, channel);
  const size = Math.max(2, Math.min(5, Math.round(Math.min(layout.cellW, layout.cellH) / 6)));
  const inset = layout.cellW > 2 * size + 1 ? 1 : 0;
  return [ox + layout.cellW - size - inset, oy + inset, size];
}

/**
 * Width available to a grid inside `el` (content box minus the canvas border); 800 when 0.
 * @param {HTMLElement} el
 */
function availableWidth(el) {
  const width = el.clientWidth;
  if (!width) return FALLBACK_WIDTH;
  const style = getComputedStyle(el);
  const pad = (Number.parseFloat(style.paddingLeft) || 0) + (Number.parseFloat(style.paddingRight) || 0);
  return Math.max(1, Math.floor(width - pad - 2));
}

/**
 * A live channel grid: canvas (tabindex=0, focusable) plus a hover read-out line.
 * onSelect(channel) is called on click and arrow keys. Call update(data, shape, opts).
 * @param {{ onSelect?: (channel: number) => void, selected?: number }} [options]
 */
export function createChannelGrid(options = {}) {
  const canvas = h("canvas", {
    class: "dw-grid",
    tabindex: "0",
    dataset: { testid: "channel-grid" },
    "aria-label": "channels; arrow keys select",
  });
  const readout = h("div", { class: "dw-readout" }, [" "]);
  const root = h("div", { class: "dw-grid-wrap" }, [canvas, readout]);
  /**
   * What the grid shows (its data, shape and per-channel ranges) and what it last painted.
   * @type {{ map: { data: Float32Array, shape: number[], peaks: Range[] } | null,
   *   painted: { layout: Layout, image: ImageData, clean: Uint32Array } | null, opts: GridOptions,
   *   ranges: Range[], rangesOf: Normalise | null, selected: number, outlined: number | null,
   *   maxWidth: number, marks: Set<number>, draws: number }}
   */
  const state = {
    map: null, painted: null, opts: {}, ranges: [], rangesOf: null, selected: options.selected ?? 0,
    outlined: null, maxWidth: FALLBACK_WIDTH, marks: new Set(), draws: 0,
  };
  /** @type {CanvasRenderingContext2D | null} */
  let ctx = null;
  const context = () => { ctx ??= context2d(canvas); return ctx; };

  /** @param {number[]} shape */
  function layoutFor(shape) {
    const [height, width, channels] = shape;
    return gridLayout(channels, height, width, { ...state.opts, maxWidth: state.maxWidth });
  }
  /** @param {Range[]} peaks */
  function shownRanges(peaks) {
    const key = state.opts.normalise === "shared" ? "shared" : "channel";
    if (state.rangesOf !== key) {
      state.ranges = key === "shared" ? peaks.map(() => sharedRange(peaks)) : peaks;
      state.rangesOf = key;
    }
    return state.ranges;
  }
  /**
   * Put back a rectangle of the painted grid.
   * @param {number} x
   * @param {number} y
   * @param {number} w
   * @param {number} hgt
   */
  function restore(x, y, w, hgt) {
    if (state.painted) context().putImageData(state.painted.image, 0, 0, x, y, w, hgt);
  }
  function outline() {
    const layout = state.painted?.layout;
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
  /**
   * Paint (on) or clear a cell's "ready" marker into the painted image; put: onto the canvas too.
   * @param {{ layout: Layout, image: ImageData, clean: Uint32Array }} painted
   * @param {number} channel
   * @param {boolean} on
   */
  function paintMarker({ layout, image, clean }, channel, on, put = true) {
    const [x, y, size] = markerRect(layout, channel);
    const px = new Uint32Array(image.data.buffer);
    const white = pack(255, 255, 255);
    const black = pack(0, 0, 0);
    for (let dy = 0; dy < size; dy++) {
      for (let dx = 0; dx < size; dx++) {
        const o = (y + dy) * layout.canvasWidth + x + dx;
        const edge = size >= 4 && (dx === 0 || dy === size - 1 || dx === size - 1 || dy === 0);
        px[o] = !on ? clean[o] : edge ? black : white;
      }
    }
    if (put) restore(x, y, size, size);
  }
  function redraw() {
    if (!state.map) return;
    const { data, shape, peaks } = state.map;
    const layout = layoutFor(shape);
    if (canvas.width !== layout.canvasWidth || canvas.height !== layout.canvasHeight) {
      canvas.width = layout.canvasWidth;
      canvas.height = layout.canvasHeight;
    }
    const image = paintGrid(context().createImageData(layout.canvasWidth, layout.canvasHeight),
      layout, data, shownRanges(peaks), state.opts);
    const painted = { layout, image, clean: new Uint32Array(image.data.buffer).slice() };
    state.painted = painted;
    for (const c of state.marks) if (c < layout.channels) paintMarker(painted, c, true, false);
    context().putImageData(image, 0, 0);
    state.outlined = null;
    outline();
    state.draws += 1;
    const geometry = { cols: layout.cols, cellWidth: layout.cellW, cellHeight: layout.cellH,
      gap: layout.gap, order: layout.order ? "strongest" : "index" };
    for (const [k, v] of Object.entries(geometry)) setData(canvas, k, v);
  }
  /** @param {number} channel */
  function setSelected(channel) {
    state.selected = channel;
    if (state.painted) outline();
  }
  /** @param {number} channel */
  function pick(channel) {
    if (channel === state.selected) return;
    setSelected(channel);
    options.onSelect?.(channel);
  }
  /** @param {MouseEvent} event */
  function eventCell(event) {
    if (!state.painted) return null;
    const rect = canvas.getBoundingClientRect();
    // the CSS box includes the 1px border; the canvas pixels sit inside it
    const border = canvas.clientLeft || 0;
    const sx = canvas.clientWidth ? canvas.width / canvas.clientWidth : 1;
    const sy = canvas.clientHeight ? canvas.height / canvas.clientHeight : 1;
    return hitTest(state.painted.layout, (event.clientX - rect.left - border) * sx,
      (event.clientY - rect.top - (canvas.clientTop || 0)) * sy);
  }
  canvas.addEventListener("mousemove", (event) => {
    const hit = eventCell(event);
    if (!hit || !state.map) {
      setText(readout, " ");
      return;
    }
    const { data, shape, peaks } = state.map;
    const [, width, channels] = shape;
    const v = data[(hit.y * width + hit.x) * channels + hit.channel];
    setText(readout, `channel ${hit.channel} · peak ${formatValue(peaks[hit.channel].max)}`
      + ` · y ${hit.y}, x ${hit.x} · ${formatValue(v)}`);
  });
  canvas.addEventListener("mouseleave", () => setText(readout, " "));
  canvas.addEventListener("click", (event) => {
    const hit = eventCell(event);
    canvas.focus({ preventScroll: true });
    if (hit) pick(hit.channel);
  });
  canvas.addEventListener("keydown", (event) => {
    if (!state.painted) return;
    const next = moveSelection(state.painted.layout, state.selected, event.key);
    if (next === null) return;
    event.preventDefault();
    pick(next);
  });

  /**
   * Fit the grid to a width in px (re-laid out and redrawn only when the geometry changes).
   * @param {number} maxWidth
   */
  function fit(maxWidth) {
    state.maxWidth = maxWidth;
    if (!state.map || !state.painted) return;
    const next = layoutFor(state.map.shape);
    const old = state.painted.layout;
    if (next.cols !== old.cols || next.cellW !== old.cellW || next.cellH !== old.cellH) redraw();
  }

  return {
    root, canvas, readout, fit,
    get layout() { return state.painted?.layout ?? null; },
    get selected() { return state.selected; },
    /** Number of full recolours so far (a selection change is not one). */
    get draws() { return state.draws; },
    /**
     * Draw new data: data Float32Array (H, W, C), shape [H, W, C], opts for gridLayout/paintGrid.
     * @param {Float32Array} data
     * @param {number[]} shape
     * @param {GridOptions} [opts]
     */
    update(data, shape, opts = {}) {
      const old = state.map;
      const peaks = old && data === old.data && String(shape) === String(old.shape) ? old.peaks
        : channelRanges(data, shape, "channel");
      if (peaks !== old?.peaks || opts.normalise !== state.opts.normalise) state.rangesOf = null;
      state.map = { data, shape, peaks };
      state.opts = opts;
      if (state.selected >= shape[2]) state.selected = 0;
      redraw();
    },
    /**
     * Select a channel without calling onSelect (state coming from Python); only the outline
     * moves, and a channel that is already selected and drawn is not drawn again.
     * @param {number} channel
     */
    select(channel) {
      if (channel === state.selected && canvas.dataset.channel === String(channel)) return;
      setSelected(channel);
    },
    /**
     * Keep fitting the grid to an element's width (ResizeObserver); returns a stop function.
     * @param {HTMLElement} el
     */
    fitTo(el) {
      const measure = () => fit(availableWidth(el));
      measure();
      if (typeof ResizeObserver === "undefined") return () => {};
      const observer = new ResizeObserver(measure);
      observer.observe(el);
      return () => observer.disconnect();
    },
    /**
     * Mark the cells of these channels as ready (a dot in the corner); null or empty: none.
     * @param {Iterable<number> | null} channels
     */
    setMarks(channels) {
      const next = new Set(channels || []);
      const painted = state.painted;
      if (painted) {
        const n = painted.layout.channels;
        const off = [...state.marks].filter((c) => !next.has(c) && c < n);
        const on = [...next].filter((c) => !state.marks.has(c) && c < n);
        const few = off.length + on.length <= 32; // else one put of the whole grid is cheaper
        off.forEach((c) => paintMarker(painted, c, false, few));
        on.forEach((c) => paintMarker(painted, c, true, few));
        if (!few) {
          context().putImageData(painted.image, 0, 0);
          state.outlined = null;
          outline();
        }
      }
      state.marks = next;
    },
  };
}
