// Image view: one (H, W, C) float32 image on a canvas, in a display mode:
//   image - values in [0, 1] as they are; raw - signed, 0 = mid-grey; abs - magnitude;
//   norm - L2 over colour channels (sequential map); gamma - raw with |v|^gamma contrast;
//   signed - one channel through the diverging map (0 = neutral), several as raw.
// Hovering shows the position and the values under the pointer.
import { context2d, h, setText } from "./dom.js";
import { diverging, sequential, signedScale, valueRange } from "./colormaps.js";
import { formatValue } from "./grid.js";

/** @typedef {"signed" | "raw" | "abs" | "norm" | "gamma" | "image"} Mode */

/** @type {string[]} */
const MODES = ["signed", "raw", "abs", "norm", "gamma", "image"];

/**
 * L2 norm over the colour channels of pixel i.
 * @param {ArrayLike<number>} data
 * @param {number} i
 * @param {number} channels
 */
function pixelNorm(data, i, channels) {
  let s = 0;
  for (let c = 0; c < channels; c++) s += data[i * channels + c] ** 2;
  return Math.sqrt(s);
}

/**
 * RGBA bytes (H * W * 4) of an (H, W, C) image in a display mode.
 * @param {ArrayLike<number>} data
 * @param {number[]} shape
 * @param {string} [mode] a Mode (others throw a RangeError)
 * @param {{ gamma?: number }} [options]
 * @returns {Uint8ClampedArray}
 */
export function imageToRGBA(data, shape, mode = "raw", options = {}) {
  if (!MODES.includes(mode)) {
    throw new RangeError(`unknown display mode '${mode}'; choose one of: ${MODES.join(", ")}`);
  }
  const [height, width, channels] = shape;
  const n = height * width;
  const out = new Uint8ClampedArray(n * 4);
  const gamma = options.gamma ?? 0.5;
  const { maxAbs } = valueRange(data);
  let maxNorm = 0;
  if (mode === "norm") for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, pixelNorm(data, i, channels));
  const colour = channels >= 3 ? [0, 1, 2] : [0, 0, 0];
  const scale = maxAbs > 0 ? 1 / maxAbs : 0;
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    out[o + 3] = 255;
    if (mode === "norm") {
      const rgb = sequential(maxNorm > 0 ? pixelNorm(data, i, channels) / maxNorm : 0);
      out[o] = rgb[0]; out[o + 1] = rgb[1]; out[o + 2] = rgb[2];
      continue;
    }
    if (mode === "signed" && channels === 1) {
      const rgb = diverging(signedScale(data[i], maxAbs));
      out[o] = rgb[0]; out[o + 1] = rgb[1]; out[o + 2] = rgb[2];
      continue;
    }
    for (let k = 0; k < 3; k++) {
      const v = data[i * channels + colour[k]];
      let byte;
      if (!Number.isFinite(v)) byte = 0;
      else if (mode === "image") byte = v * 255;
      else if (mode === "abs") byte = Math.abs(v) * scale * 255;
      else if (mode === "gamma") byte = 127.5 + 127.5 * Math.sign(v) * Math.abs(v * scale) ** gamma;
      else byte = 127.5 + 127.5 * v * scale;
      out[o + k] = Math.round(byte);
    }
  }
  return out;
}

/**
 * Draw an image into a canvas at its native size (CSS scales it to displaySize).
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} data
 * @param {number[]} shape
 * @param {string} mode
 * @param {{ displaySize?: number, fit?: boolean }} options
 */
function drawImage(canvas, data, shape, mode, options) {
  const [height, width] = shape;
  canvas.width = width;
  canvas.height = height;
  const ctx = context2d(canvas);
  const image = ctx.createImageData(width, height);
  image.data.set(imageToRGBA(data, shape, mode));
  ctx.putImageData(image, 0, 0);
  scaleCanvas(canvas, height, width, options);
}

/**
 * Size a drawn canvas in CSS px: its long side displaySize (160); up, pixelated; with `fit` also
 * down (smoothly) so that big images keep the size.
 * @param {HTMLCanvasElement} canvas
 * @param {number} height
 * @param {number} width
 * @param {{ displaySize?: number, fit?: boolean }} options
 */
function scaleCanvas(canvas, height, width, options) {
  const size = options.displaySize ?? 160;
  const scale = options.fit ? size / Math.max(height, width) : Math.max(1, size / Math.max(height, width));
  canvas.style.width = `${Math.round(width * scale)}px`;
  canvas.style.height = `${Math.round(height * scale)}px`;
  canvas.style.imageRendering = scale < 1 ? "auto" : "";
}

/**
 * A captioned image canvas with a hover read-out; update(data, shape, mode) redraws it and
 * setDisplaySize(px) changes the size it is shown at.
 * @param {{ caption?: string, testid?: string, fit?: boolean, displaySize?: number,
 *   mode?: Mode }} [options] fit: also scale big images down to displaySize (px, 160)
 */
export function createImageView(options = {}) {
  const canvas = h("canvas", { class: "dw-image", dataset: options.testid ? { testid: options.testid } : null });
  const display = { displaySize: options.displaySize ?? 160, fit: options.fit };
  const placeholder = () => { // an empty canvas of the display size (with `fit`, until the first draw)
    const size = `${display.displaySize}px`;
    Object.assign(canvas.style, { width: size, height: size });
  };
  if (options.fit) {
    Object.assign(canvas, { width: 0, height: 0 });
    placeholder();
  }
  const caption = h("div", { class: "dw-caption" }, [options.caption ?? ""]);
  const readout = h("div", { class: "dw-readout" }, [" "]);
  const root = h("figure", { class: "dw-figure" }, [caption, canvas, readout]);
  /** @type {{ data: ArrayLike<number> | null, shape: number[], mode: string }} */
  const state = { data: null, shape: [], mode: options.mode ?? "raw" };
  canvas.addEventListener("mousemove", (event) => {
    const { data, shape } = state;
    if (!data) return;
    const rect = canvas.getBoundingClientRect();
    const [height, width, channels] = shape;
    const x = Math.floor(((event.clientX - rect.left) / rect.width) * width);
    const y = Math.floor(((event.clientY - rect.top) / rect.height) * height);
    if (x < 0 || y < 0 || x >= width || y >= height) {
      setText(readout, " ");
      return;
    }
    const values = [];
    for (let c = 0; c < channels; c++) values.push(formatValue(data[(y * width + x) * channels + c]));
    setText(readout, `y ${y}, x ${x} · ${values.join(", ")}`);
  });
  canvas.addEventListener("mouseleave", () => setText(readout, " "));
  return {
    root, canvas, caption, readout,
    /**
     * Draw an (H, W, C) image in a display mode (default: the last one).
     * @param {ArrayLike<number>} data
     * @param {number[]} shape
     * @param {string} [mode]
     */
    update(data, shape, mode = state.mode) {
      state.data = data;
      state.shape = shape;
      state.mode = mode;
      drawImage(canvas, data, shape, mode, display);
    },
    /**
     * Show the image at another size (px, its long side), redrawing nothing.
     * @param {number} px
     */
    setDisplaySize(px) {
      if (!(px > 0) || px === display.displaySize) return;
      display.displaySize = px;
      if (state.data && canvas.width) scaleCanvas(canvas, canvas.height, canvas.width, display);
      else if (options.fit) placeholder();
    },
    /** The size (px, its long side) the image is shown at. */
    get displaySize() { return display.displaySize; },
    /**
     * Set the caption's text (only when it changes).
     * @param {string} text
     */
    setCaption(text) { if (caption.textContent !== text) setText(caption, text); },
    /** Empty the canvas (its size 0) until the next update. */
    clear() {
      state.data = null;
      canvas.width = 0;
      canvas.height = 0;
    },
  };
}

/**
 * Draw RGBA bytes (height x width) into a canvas shown `displaySize` px on its long side.
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8ClampedArray} rgba
 * @param {number} height
 * @param {number} width
 * @param {number} displaySize
 */
export function drawRGBA(canvas, rgba, height, width, displaySize) {
  canvas.width = width;
  canvas.height = height;
  const ctx = context2d(canvas);
  const image = ctx.createImageData(width, height);
  image.data.set(rgba);
  ctx.putImageData(image, 0, 0);
  const scale = displaySize / Math.max(height, width, 1);
  canvas.style.width = `${Math.round(width * scale)}px`;
  canvas.style.height = `${Math.round(height * scale)}px`;
}
