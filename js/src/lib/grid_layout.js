// Grid geometry (pure): which canvas pixel shows which channel's map pixel. Cells fit a width
// for any channel count and map size: integer up-scaling for small maps, fractional
// (nearest-neighbour) down-scaling for big ones. An optional order puts channel order[i] in
// cell i; hit testing, outlines and arrow keys follow the cells as shown.

/**
 * Options of gridLayout (every one optional).
 * @typedef {{ gap?: number, cellSize?: number, minCell?: number, maxWidth?: number,
 *   cols?: number, scale?: number, order?: readonly number[] | null }} LayoutOptions
 */
/**
 * A grid's geometry: cell size, columns, rows, canvas size and the cell order.
 * @typedef {{ channels: number, height: number, width: number, scale: number, gap: number,
 *   cols: number, rows: number, cellW: number, cellH: number, order: number[] | null,
 *   position: Int32Array | null, canvasWidth: number, canvasHeight: number }} Layout
 */

const MIN_CELL = 6;
const MAX_CELL = 64;

/**
 * Scale of a map whose longer side is `side` px into cells of at most `cell` px: an integer
 * when that fills at least 3/4 of the cell (crisp pixels), else fractional (nearest neighbour).
 * @param {number} side
 * @param {number} cell
 */
function cellScale(side, cell) {
  const whole = Math.floor(cell / side);
  return whole >= 1 && whole * side >= 0.75 * cell ? whole : cell / side;
}

/**
 * True when `order` lists each of 0..n-1 exactly once.
 * @param {readonly number[] | null | undefined} order
 * @param {number} n
 * @returns {order is readonly number[]}
 */
function isPermutation(order, n) {
  if (!order || order.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const c of order) {
    if (!Number.isInteger(c) || c < 0 || c >= n || seen[c]) return false;
    seen[c] = 1;
  }
  return true;
}

/**
 * Geometry of a grid of `channels` cells of height x width maps. Options: gap, cellSize (most
 * px a cell, 64), minCell (6), maxWidth (canvas width limit), cols, scale, order (cell -> channel).
 * @param {number} channels
 * @param {number} height
 * @param {number} width
 * @param {LayoutOptions} [options]
 * @returns {Layout}
 */
export function gridLayout(channels, height, width, options = {}) {
  const gap = options.gap ?? 2;
  const side = Math.max(height, width, 1);
  const maxWidth = options.maxWidth ?? Infinity;
  let cols = options.cols ?? Math.max(1, Math.min(channels, Math.ceil(Math.sqrt(channels))));
  let scale = options.scale;
  if (scale === undefined) {
    let cell = Math.min(options.cellSize ?? MAX_CELL, Math.floor((maxWidth - gap) / cols - gap));
    const minCell = options.minCell ?? MIN_CELL;
    if (cell < minCell) {
      cell = minCell;
      if (options.cols === undefined) {
        cols = Math.max(1, Math.min(channels, Math.floor((maxWidth - gap) / (minCell + gap))));
      }
    }
    scale = cellScale(side, cell);
  }
  const rows = Math.max(1, Math.ceil(channels / cols));
  const cellW = Math.max(1, Math.round(width * scale));
  const cellH = Math.max(1, Math.round(height * scale));
  const order = isPermutation(options.order, channels) ? Array.from(options.order) : null;
  let position = null;
  if (order) {
    const cells = new Int32Array(channels);
    order.forEach((c, i) => { cells[c] = i; });
    position = cells;
  }
  return {
    channels, height, width, scale, gap, cols, rows, cellW, cellH, order, position,
    canvasWidth: cols * (cellW + gap) + gap,
    canvasHeight: rows * (cellH + gap) + gap,
  };
}

/**
 * Channel shown in cell `cell`.
 * @param {Layout} layout
 * @param {number} cell
 */
function channelAt(layout, cell) {
  return layout.order ? layout.order[cell] : cell;
}

/**
 * Cell showing channel `channel`.
 * @param {Layout} layout
 * @param {number} channel
 */
function cellOf(layout, channel) {
  return layout.position ? layout.position[channel] : channel;
}

/**
 * Map index (row or column) shown at offset d of a cell `cells` px across a map `size` px.
 * @param {number} d
 * @param {number} cells
 * @param {number} size
 */
export function sourceIndex(d, cells, size) {
  return Math.min(size - 1, Math.floor(((d + 0.5) * size) / cells));
}

/**
 * Canvas pixel (px, py) -> { channel, y, x } of the cell under it, or null for gaps/outside.
 * @param {Layout} layout
 * @param {number} px
 * @param {number} py
 * @returns {{ channel: number, y: number, x: number } | null}
 */
export function hitTest(layout, px, py) {
  const { gap, cellW, cellH, cols, channels } = layout;
  const col = Math.floor((px - gap) / (cellW + gap));
  const row = Math.floor((py - gap) / (cellH + gap));
  if (col < 0 || row < 0 || col >= cols) return null;
  const inX = Math.floor(px - gap - col * (cellW + gap));
  const inY = Math.floor(py - gap - row * (cellH + gap));
  if (inX < 0 || inY < 0 || inX >= cellW || inY >= cellH) return null;
  const cell = row * cols + col;
  if (cell >= channels) return null;
  return {
    channel: channelAt(layout, cell),
    y: sourceIndex(inY, cellH, layout.height),
    x: sourceIndex(inX, cellW, layout.width),
  };
}

/**
 * Top-left canvas pixel of a channel's cell (wherever the order puts it).
 * @param {Layout} layout
 * @param {number} channel
 * @returns {[number, number]}
 */
export function cellOrigin(layout, channel) {
  const cell = cellOf(layout, channel);
  const col = cell % layout.cols;
  const row = Math.floor(cell / layout.cols);
  return [layout.gap + col * (layout.cellW + layout.gap), layout.gap + row * (layout.cellH + layout.gap)];
}

/**
 * Channel selected after an arrow key (null for other keys): the neighbouring cell on screen.
 * @param {Layout} layout
 * @param {number} current
 * @param {string} key
 * @returns {number | null}
 */
export function moveSelection(layout, current, key) {
  /** @type {Record<string, number>} */
  const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -layout.cols, ArrowDown: layout.cols };
  const step = steps[key];
  if (step === undefined) return null;
  const next = cellOf(layout, current) + step;
  return next < 0 || next >= layout.channels ? current : channelAt(layout, next);
}
