// Feature grid: every channel of one (H, W, C) channels-last float32 map on ONE canvas.
// Per-channel or shared normalisation; hover tells channel, position and value; click and
// arrow keys select (the canvas is focusable); the selected channel is outlined.
import { h, setText } from "./dom.js";
import {
  TABLE_STEPS,
  colourTable,
  diverging,
  sequential,
  signedScale,
  unitScale,
  valueRange,
} from "./colormaps.js";

/** Geometry of a grid of `channels` cells of height x width pixels, scaled and gapped. */
export function gridLayout(channels, height, width, options = {}) {
  const gap = options.gap ?? 2;
  const target = options.cellSize ?? 64;
  const scale = options.scale ?? Math.max(1, Math.floor(target / Math.max(height, width)));
  const cols = options.cols ?? Math.max(1, Math.ceil(Math.sqrt(channels)));
  const rows = Math.max(1, Math.ceil(channels / cols));
  const cellW = width * scale;
  const cellH = height * scale;
  return {
    channels, height, width, scale, gap, cols, rows, cellW, cellH,
    canvasWidth: cols * (cellW + gap) + gap,
    canvasHeight: rows * (cellH + gap) + gap,
  };
}

/** Canvas pixel (px, py) -> { channel, y, x } of the cell under it, or null for gaps/outside. */
export function hitTest(layout, px, py) {
  const { gap, cellW, cellH, cols, channels, scale } = layout;
  const col = Math.floor((px - gap) / (cellW + gap));
  const row = Math.floor((py - gap) / (cellH + gap));
  if (col < 0 || row < 0 || col >= cols) return null;
  const inX = px - gap - col * (cellW + gap);
  const inY = py - gap - row * (cellH + gap);
  if (inX < 0 || inY < 0 || inX >= cellW || inY >= cellH) return null;
  const channel = row * cols + col;
  if (channel >= channels) return null;
  return { channel, y: Math.floor(inY / scale), x: Math.floor(inX / scale) };
}

/** Top-left canvas pixel of a channel's cell. */
export function cellOrigin(layout, channel) {
  const col = channel % layout.cols;
  const row = Math.floor(channel / layout.cols);
  return [layout.gap + col * (layout.cellW + layout.gap), layout.gap + row * (layout.cellH + layout.gap)];
}

/** Per-channel (or one shared) value ranges of an (H, W, C) map. */
export function channelRanges(data, shape, normalise = "channel") {
  const [height, width, channels] = shape;
  const ranges = [];
  for (let c = 0; c < channels; c++) ranges.push(valueRange(data, c, height * width, channels));
  if (normalise === "shared") {
    const shared = valueRange(data);
    return ranges.map(() => shared);
  }
  return ranges;
}

/** Colour of value v under a range and a colour map name ("sequential" | "diverging"). */
export function colourOf(v, range, colormap) {
  return colormap === "diverging"
    ? diverging(signedScale(v, range.maxAbs))
    : sequential(unitScale(v, range.min, range.max));
}

/** Draw every channel of an (H, W, C) map onto a canvas; returns the layout used. */
export function drawGrid(canvas, data, shape, options = {}) {
  const [height, width, channels] = shape;
  const layout = gridLayout(channels, height, width, options);
  canvas.width = layout.canvasWidth;
  canvas.height = layout.canvasHeight;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(layout.canvasWidth, layout.canvasHeight);
  const px = image.data;
  const bg = options.background ?? [128, 128, 128];
  for (let i = 0; i < px.length; i += 4) {
    px[i] = bg[0]; px[i + 1] = bg[1]; px[i + 2] = bg[2]; px[i + 3] = 255;
  }
  const ranges = channelRanges(data, shape, options.normalise);
  const colormap = options.colormap ?? "sequential";
  const table = colourTable(colormap);
  const top = TABLE_STEPS - 1;
  const s = layout.scale;
  for (let c = 0; c < channels; c++) {
    const [ox, oy] = cellOrigin(layout, c);
    // value -> table index: (v - low) * gain; a flat range shows the map's low end (or centre)
    const r = ranges[c];
    const diverging = colormap === "diverging";
    const low = diverging ? -r.maxAbs : r.min;
    const span = diverging ? 2 * r.maxAbs : r.max - r.min;
    const gain = span > 0 ? top / span : 0;
    const flat = diverging ? Math.round(top / 2) : 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = data[(y * width + x) * channels + c];
        let j = gain && Number.isFinite(v) ? Math.round((v - low) * gain) : flat;
        j = (j < 0 ? 0 : j > top ? top : j) * 3;
        const red = table[j];
        const green = table[j + 1];
        const blue = table[j + 2];
        for (let dy = 0; dy < s; dy++) {
          let o = ((oy + y * s + dy) * layout.canvasWidth + ox + x * s) * 4;
          for (let dx = 0; dx < s; dx++, o += 4) {
            px[o] = red; px[o + 1] = green; px[o + 2] = blue;
          }
        }
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  if (options.selected !== undefined && options.selected !== null && options.selected < channels) {
    const [ox, oy] = cellOrigin(layout, options.selected);
    ctx.strokeStyle = options.outline ?? "#ff2d95";
    ctx.lineWidth = 2;
    ctx.strokeRect(ox - 1, oy - 1, layout.cellW + 2, layout.cellH + 2);
  }
  return layout;
}

/** Selection after an arrow key (or null for other keys), clamped to the channels. */
export function moveSelection(layout, current, key) {
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -layout.cols, ArrowDown: layout.cols }[key];
  if (step === undefined) return null;
  const next = current + step;
  return next < 0 || next >= layout.channels ? current : next;
}

/** Format a value for read-outs: 4 significant digits, no trailing zeros. */
export function formatValue(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
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
  const state = { data: null, shape: null, layout: null, selected: options.selected ?? 0, opts: {} };

  function redraw() {
    if (!state.data) return;
    state.layout = drawGrid(canvas, state.data, state.shape, { ...state.opts, selected: state.selected });
    canvas.dataset.channel = String(state.selected);
  }
  function pick(channel) {
    if (channel === null || channel === state.selected) return;
    state.selected = channel;
    redraw();
    options.onSelect?.(channel);
  }
  function eventCell(event) {
    if (!state.layout) return null;
    const rect = canvas.getBoundingClientRect();
    const sx = rect.width ? canvas.width / rect.width : 1;
    const sy = rect.height ? canvas.height / rect.height : 1;
    return hitTest(state.layout, (event.clientX - rect.left) * sx, (event.clientY - rect.top) * sy);
  }
  canvas.addEventListener("mousemove", (event) => {
    const hit = eventCell(event);
    if (!hit) return setText(readout, " ");
    const [, width, channels] = state.shape;
    const v = state.data[(hit.y * width + hit.x) * channels + hit.channel];
    setText(readout, `channel ${hit.channel} · y ${hit.y}, x ${hit.x} · ${formatValue(v)}`);
  });
  canvas.addEventListener("click", (event) => {
    const hit = eventCell(event);
    canvas.focus();
    if (hit) pick(hit.channel);
  });
  canvas.addEventListener("keydown", (event) => {
    if (!state.layout) return;
    const next = moveSelection(state.layout, state.selected, event.key);
    if (next === null) return;
    event.preventDefault();
    pick(next);
  });

  return {
    root, canvas, readout,
    get layout() { return state.layout; },
    get selected() { return state.selected; },
    /** Draw new data: data Float32Array (H, W, C), shape [H, W, C], opts for drawGrid. */
    update(data, shape, opts = {}) {
      state.data = data;
      state.shape = shape;
      state.opts = opts;
      if (state.selected >= shape[2]) state.selected = 0;
      redraw();
    },
    /** Select a channel without calling onSelect (state coming from Python); a channel that
     * is already selected and drawn is not drawn again (a click's echo from Python). */
    select(channel) {
      if (channel === state.selected && canvas.dataset.channel === String(channel)) return;
      state.selected = channel;
      redraw();
    },
  };
}
