// Colour maps: sequential (viridis-like, dark purple -> yellow) for activations, diverging
// (blue -> neutral -> red, 0 exactly at the neutral centre) for signed projections.

/** @typedef {[number, number, number]} RGB a colour as [r, g, b] bytes */
/** @typedef {"sequential" | "diverging"} ColormapName */
/** @typedef {{ min: number, max: number, maxAbs: number }} Range a value range (finite values) */

/** @type {RGB[]} */
const SEQUENTIAL = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
/** @type {RGB[]} */
const DIVERGING = [
  [33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [239, 138, 98], [178, 24, 43],
];

/** @param {number} t */
function clamp01(t) {
  return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
}

/**
 * The colour at t in [0, 1] of a table of evenly spaced colours (linear between entries).
 * @param {RGB[]} table
 * @param {number} t
 * @returns {RGB}
 */
function interpolate(table, t) {
  const x = clamp01(t) * (table.length - 1);
  const i = Math.min(table.length - 2, Math.floor(x));
  const f = x - i;
  const a = table[i];
  const b = table[i + 1];
  /** @param {number} k */
  const mix = (k) => Math.round(a[k] + (b[k] - a[k]) * f);
  return [mix(0), mix(1), mix(2)];
}

/**
 * Sequential colour of t in [0, 1] as [r, g, b] (clamped; NaN -> the low end).
 * @param {number} t
 * @returns {RGB}
 */
export function sequential(t) {
  return interpolate(SEQUENTIAL, t);
}

/**
 * Diverging colour of s in [-1, 1] as [r, g, b]: 0 is the neutral centre.
 * @param {number} s
 * @returns {RGB}
 */
export function diverging(s) {
  const v = Number.isFinite(s) ? Math.min(1, Math.max(-1, s)) : 0;
  return interpolate(DIVERGING, (v + 1) / 2);
}

/** Number of entries in a colour table (finer than one 8-bit step of any channel). */
export const TABLE_STEPS = 1024;
/** @type {Partial<Record<ColormapName, Uint8Array>>} */
const tables = {};

/**
 * RGB colour table of a colour map ("sequential" | "diverging"): TABLE_STEPS entries over its
 * whole domain, built once. Entry i is the colour at t = i / (TABLE_STEPS - 1) (for the
 * diverging map, s = 2t - 1). Drawing looks colours up here instead of interpolating per pixel.
 * @param {ColormapName} name
 * @returns {Uint8Array}
 */
export function colourTable(name) {
  let table = tables[name];
  if (!table) {
    table = new Uint8Array(TABLE_STEPS * 3);
    for (let i = 0; i < TABLE_STEPS; i++) {
      const t = i / (TABLE_STEPS - 1);
      table.set(name === "diverging" ? diverging(2 * t - 1) : sequential(t), i * 3);
    }
    tables[name] = table;
  }
  return table;
}

/**
 * Min, max and largest magnitude of the finite values of data.
 * @param {ArrayLike<number>} data
 * @returns {Range}
 */
export function valueRange(data) {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 0, maxAbs: 0 };
  return { min, max, maxAbs: Math.max(Math.abs(min), Math.abs(max)) };
}

/**
 * Position of v in [min, max] as t in [0, 1] (a flat range maps to 0).
 * @param {number} v
 * @param {number} min
 * @param {number} max
 */
export function unitScale(v, min, max) {
  const span = max - min;
  return span > 0 ? clamp01((v - min) / span) : 0;
}

/**
 * Signed position of v in [-maxAbs, maxAbs] as s in [-1, 1] (maxAbs 0 maps to 0).
 * @param {number} v
 * @param {number} maxAbs
 */
export function signedScale(v, maxAbs) {
  if (!(maxAbs > 0) || !Number.isFinite(v)) return 0;
  return Math.min(1, Math.max(-1, v / maxAbs));
}

/**
 * RGBA bytes of n values through the sequential map, min..max (default: the data's range).
 * @param {ArrayLike<number>} data
 * @param {{ min: number, max: number }} [range]
 */
export function heatRGBA(data, range = valueRange(data)) {
  const table = colourTable("sequential");
  const out = new Uint8ClampedArray(data.length * 4);
  for (let i = 0; i < data.length; i++) {
    const t = Math.round(unitScale(data[i], range.min, range.max) * (TABLE_STEPS - 1));
    out.set(table.subarray(t * 3, t * 3 + 3), i * 4);
    out[i * 4 + 3] = 255;
  }
  return out;
}
