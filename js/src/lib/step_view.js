// Step view: one 2-D grid of numbers. Small grids (<= 8 x 8) print their numbers in a table
// (float noise below 1e-6 of the largest value prints as 0), larger ones draw as a diverging
// heat map. Cells can be marked (e.g. "zero" for inserted zeros, "pad" for padding) and are
// then styled (tables) or hatched (heat maps).
import { context2d, h } from "./dom.js";
import { diverging, signedScale, valueRange } from "./colormaps.js";
import { formatValue } from "./grid.js";

const MAX_NUMBERS = 8;
const CELL = 12; // px a heat map cell

/**
 * True when a height x width grid prints its numbers (else it is drawn as a heat map).
 * @param {number} height
 * @param {number} width
 */
export function printsNumbers(height, width) {
  return height <= MAX_NUMBERS && width <= MAX_NUMBERS;
}

/**
 * Render a grid: data (row-major, length height*width), marks an optional array of the same
 * length holding "" / "zero" / "pad" / any class suffix. Returns a <figure>.
 * @param {import("./traits.js").StepGrid & { title?: string }} grid
 */
export function renderStep({ title, data, height, width, marks }) {
  const mode = printsNumbers(height, width) ? "numbers" : "heatmap";
  const figure = h("figure", { class: "dw-step", dataset: { mode } }, [
    h("figcaption", {}, [title ?? "", ` (${height}×${width})`]),
  ]);
  const range = valueRange(data);
  if (mode === "numbers") {
    const table = h("table", { class: "dw-step-table" });
    for (let y = 0; y < height; y++) {
      const row = h("tr");
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const mark = marks?.[i] || "";
        const [r, g, b] = diverging(signedScale(data[i], range.maxAbs));
        row.appendChild(h("td", {
          class: mark ? `dw-mark-${mark}` : undefined,
          style: { "background-color": `rgba(${r}, ${g}, ${b}, 0.55)` },
          title: mark ? `${mark} cell` : undefined,
        }, [formatValue(Math.abs(data[i]) <= 1e-6 * range.maxAbs ? 0 : data[i])]));
      }
      table.appendChild(row);
    }
    figure.appendChild(table);
    return figure;
  }
  const canvas = h("canvas", { class: "dw-step-canvas" });
  canvas.width = width * CELL;
  canvas.height = height * CELL;
  const ctx = context2d(canvas);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const [r, g, b] = diverging(signedScale(data[i], range.maxAbs));
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.fillRect(x * CELL, y * CELL, CELL, CELL);
      const mark = marks?.[i];
      if (mark) {
        ctx.strokeStyle = mark === "pad" ? "rgba(0, 0, 0, 0.45)" : "rgba(120, 0, 160, 0.6)";
        ctx.beginPath();
        ctx.moveTo(x * CELL, (y + 1) * CELL);
        ctx.lineTo((x + 1) * CELL, y * CELL);
        ctx.stroke();
      }
    }
  }
  figure.appendChild(canvas);
  return figure;
}
