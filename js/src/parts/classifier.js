// The classifier part (deconv_widgets/widgets/parts/classifier.py): the predicted top-5 under
// the input, the class search for the lens target, Zeiler & Fergus's Fig. 7 occlusion maps with
// a legend of the classes, and RISE's faithfulness curves with the AUC table of every method.
// Class names come from Python: they only ever go in through textContent and attributes.
import { clear, context2d, h, setData, setText } from "../lib/dom.js";
import { heatRGBA, valueRange } from "../lib/colormaps.js";
import { createImageView, drawRGBA } from "../lib/image_view.js";
import { formatValue } from "../lib/grid.js";
import { push, watch } from "../lib/widget.js";
import { unpack } from "../lib/parts.js";

/**
 * The classifier parts' model: the class traits, the lens target, the method on show.
 * @typedef {import("@anywidget/types").AnyModel<import("../lib/traits.js").ClassifierTraits
 *   & { classes: string[], lens_target: number, method: string }>} ClassifierModel
 */
/** @typedef {import("../lib/traits.js").OcclusionEntry} OcclusionEntry */
/** @typedef {import("../lib/traits.js").FaithfulnessRow} FaithfulnessRow */

/** Matches the class search lists at most (Python's SEARCH_LIMIT). */
export const SEARCH_LIMIT = 12;
/** Colours of the deletion and the insertion curve. */
export const CURVE_COLOURS = Object.freeze({ deletion: "#c62828", insertion: "#1976d2" });

/** @type {string[]} distinct colours for the classes of the most-probable-class map */
const CATEGORICAL = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

/**
 * The i-th categorical colour as [r, g, b]: a fixed table of 20, then hues by the golden angle.
 * @param {number} i
 * @returns {[number, number, number]}
 */
export function categoricalColour(i) {
  if (i < CATEGORICAL.length) {
    const hex = Number.parseInt(CATEGORICAL[i].slice(1), 16);
    return [(hex >> 16) & 255, (hex >> 8) & 255, hex & 255];
  }
  const hue = ((i * 137.508) % 360) / 60;
  const x = 1 - Math.abs((hue % 2) - 1);
  const [r, g, b] = [[1, x, 0], [x, 1, 0], [0, 1, x], [0, x, 1], [x, 0, 1], [1, 0, x]][Math.floor(hue) % 6];
  return [Math.round(60 + 160 * r), Math.round(60 + 160 * g), Math.round(60 + 160 * b)];
}

/**
 * RGBA bytes of a map of class indices: the class's position in `classes` picks its colour.
 * @param {ArrayLike<number>} data
 * @param {readonly { class: number }[]} classes
 */
export function categoricalRGBA(data, classes) {
  const place = new Map(classes.map((c, i) => [c.class, i]));
  const out = new Uint8ClampedArray(data.length * 4);
  for (let i = 0; i < data.length; i++) {
    const at = place.get(Math.round(data[i]));
    out.set(at === undefined ? [0, 0, 0] : categoricalColour(at), i * 4);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * "281 tabby cat": a class's index and name.
 * @param {number} k
 * @param {readonly string[]} names
 */
export function classLabel(k, names) {
  return `${k} ${names[k] ?? ""}`.trim();
}

/**
 * The classes whose name or synonyms contain the query, best first, as Python's search_classes:
 * the index typed as a number, then a whole name, a name starting with it, any other (ties by index).
 * @param {string} query
 * @param {readonly string[]} names
 * @param {readonly string[]} [synonyms]
 * @param {number} [limit]
 * @returns {{ value: number, label: string }[]}
 */
export function searchClasses(query, names, synonyms = [], limit = SEARCH_LIMIT) {
  const text = String(query ?? "").trim().toLowerCase();
  if (!text) return [];
  const number = /^\d+$/.test(text) ? Number.parseInt(text, 10) : -1;
  /** @type {[number, number][]} */
  const ranked = [];
  (names || []).forEach((name, k) => {
    const words = [String(name).toLowerCase(),
      ...String(synonyms?.[k] ?? "").toLowerCase().split(",").map((w) => w.trim()).filter(Boolean)];
    let rank = 0;
    if (number === k) rank = 1;
    else if (words.includes(text)) rank = 2;
    else if (words.some((w) => w.startsWith(text))) rank = 3;
    else if (words.some((w) => w.includes(text))) rank = 4;
    if (rank) ranked.push([rank, k]);
  });
  ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return ranked.slice(0, limit).map(([, k]) => ({ value: k, label: classLabel(k, names) }));
}

/**
 * A probability as a short percentage: "36%", "1.2%", "<0.1%".
 * @param {number} p
 */
export function percent(p) {
  if (!(p >= 0.001)) return "<0.1%";
  return p >= 0.1 ? `${Math.round(p * 100)}%` : `${(p * 100).toFixed(1)}%`;
}

/**
 * The predicted classes under the input (data-testid="top5"); a click makes one the lens target.
 * @param {ClassifierModel} model
 */
export function predictionsPart(model) {
  const root = h("ol", { class: "dw-top5", dataset: { testid: "top5" } });
  const stop = watch(model, ["predictions", "lens_target"], () => {
    clear(root);
    const predictions = model.get("predictions") || [];
    root.hidden = predictions.length === 0;
    for (const p of predictions) {
      const share = `${Math.round(Math.min(1, Math.max(0, p.probability)) * 100)}%`;
      const item = h("li", {
        class: p.class === model.get("lens_target") ? "dw-selected" : undefined,
        dataset: { class: p.class }, title: `class ${p.class}: click to explain it in the lenses`,
        style: { "--dw-share": share },
      }, [h("span", { class: "dw-name" }, [p.name]), h("span", { class: "dw-prob" }, [percent(p.probability)])]);
      item.addEventListener("click", () => push(model, { lens_target: p.class }));
      root.appendChild(item);
    }
  });
  return { root, stop };
}

/**
 * The class search (data-testid="lens-target-search"): typing lists the matching classes
 * ("lens-target-matches"); Enter or a click makes one the lens target.
 * @param {ClassifierModel} model
 */
export function targetSearchPart(model) {
  const input = h("input", { type: "search", placeholder: "search the classes", size: "18",
    "aria-label": "search the class names", dataset: { testid: "lens-target-search" } });
  const list = h("div", { class: "dw-matches", role: "listbox", dataset: { testid: "lens-target-matches" } });
  /** @type {{ value: number, label: string }[]} */
  let matches = [];
  /** @param {number} k */
  const pick = (k) => {
    push(model, { lens_target: k });
    input.value = "";
    show();
  };
  const show = () => {
    matches = searchClasses(input.value, model.get("classes") || [], model.get("class_synonyms") || []);
    clear(list);
    for (const { value, label } of matches) {
      const button = h("button", { type: "button", role: "option", class: "dw-match",
        dataset: { class: value }, onclick: () => pick(value) }, [label]);
      list.appendChild(button);
    }
    if (input.value.trim() && !matches.length) list.appendChild(h("span", { class: "dw-note" }, ["no class matches"]));
  };
  input.addEventListener("input", show);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && matches.length) pick(matches[0].value);
    if (event.key === "Escape") { input.value = ""; show(); }
  });
  const root = h("span", { class: "dw-search" }, [input, list]);
  const stop = watch(model, ["classes", "class_synonyms"], () => {
    root.hidden = !(model.get("classes") || []).length;
    show();
  });
  return { root, input, list, stop };
}

/**
 * The caption of one occlusion map: Fig. 7's letter, what it maps, its value unoccluded.
 * @param {OcclusionEntry} entry
 * @param {readonly string[]} names
 */
export function occlusionCaption(entry, names = []) {
  /** @type {Record<string, string>} */
  const letters = { unit: "(b) ", probability: "(d) ", most_probable: "(e) " };
  const letter = letters[entry.kind ?? ""] ?? "";
  const whole = entry.kind === "most_probable" ? names[entry.unoccluded] ?? `class ${entry.unoccluded}`
    : formatValue(entry.unoccluded);
  return `${letter}${entry.target} · ${whole} unoccluded`;
}

/**
 * The legend of the most-probable-class map (data-testid="occlusion-legend"): colour, name, index.
 * @param {readonly { class: number, name: string, count: number }[]} classes
 */
export function legendPart(classes) {
  return h("ul", { class: "dw-legend", dataset: { testid: "occlusion-legend" } }, classes.map((c, i) => h("li", {
    dataset: { class: c.class }, title: `most probable at ${c.count} positions`,
  }, [h("span", { class: "dw-swatch", style: { background: `rgb(${categoricalColour(i).join(",")})` } }),
    `${c.class} ${c.name}`])));
}

/**
 * One occlusion map as a figure: a heat map, or (Fig. 7 (e)) the classes' colours and a legend.
 * @param {OcclusionEntry} entry
 * @param {{ data: Float32Array, shape: number[] }} array
 * @param {readonly string[]} [names]
 */
export function occlusionView(entry, { data, shape }, names = []) {
  const view = createImageView({ caption: occlusionCaption(entry, names) });
  view.canvas.dataset.kind = entry.kind ?? "";
  if (entry.kind === "most_probable") {
    const classes = entry.classes || [];
    drawRGBA(view.canvas, categoricalRGBA(data, classes), shape[0], shape[1], 128);
    view.root.appendChild(legendPart(classes));
  } else {
    // a partial run's entry may come without its range: the map's own
    const range = Number.isFinite(entry.min) && Number.isFinite(entry.max) ? { min: entry.min, max: entry.max }
      : valueRange(data);
    const flat = belowFloat32(range);
    view.canvas.dataset.flat = String(flat);
    drawRGBA(view.canvas, heatRGBA(data, flat ? widened(range) : undefined), shape[0], shape[1], 128);
    view.canvas.title = flat
      ? `its value with the square there: ${formatValue(range.max)} everywhere (occlusion changes it `
        + "by less than float32's resolution)"
      : `its value with the square there: ${formatValue(range.min)} (dark) to ${formatValue(range.max)} (light)`;
  }
  return view.root;
}

/**
 * Whether a map's spread is float32 rounding (≤ 1e-6 of its size): a saturated class's probability
 * (0.99999976 to 0.99999988) drawn min-to-max would show noise as a pattern.
 * @param {{ min: number, max: number }} range
 */
export function belowFloat32({ min, max }) {
  return max - min <= 1e-6 * Math.max(Math.abs(min), Math.abs(max));
}

/**
 * A range around `range` wide enough that its values all take the colour scale's middle.
 * @param {{ min: number, max: number }} range
 */
function widened({ min, max }) {
  const half = Math.max(Math.abs(min), Math.abs(max), 1);
  const middle = (min + max) / 2;
  return { min: middle - half, max: middle + half };
}

/**
 * Draw curves (y in [0, 1]) against the fractions on a canvas, with axes and 0 / 0.5 / 1 ticks.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} fractions
 * @param {{ data: ArrayLike<number>, colour: string }[]} curves
 */
export function drawCurves(canvas, fractions, curves) {
  const ctx = context2d(canvas);
  const { width, height } = canvas;
  const [left, right, top, bottom] = [30, 8, 8, 24];
  /** @param {number} f */
  const x = (f) => left + f * (width - left - right);
  /** @param {number} p */
  const y = (p) => top + (1 - Math.min(1, Math.max(0, p))) * (height - top - bottom);
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = "#bbb";
  ctx.fillStyle = "#444";
  ctx.font = "10px sans-serif";
  ctx.lineWidth = 1;
  for (const t of [0, 0.5, 1]) {
    ctx.beginPath();
    ctx.moveTo(x(0), y(t));
    ctx.lineTo(x(1), y(t));
    ctx.stroke();
    ctx.fillText(String(t), 4, y(t) + 3);
    ctx.fillText(String(t), x(t) - 6, height - 12);
  }
  ctx.fillText("fraction of pixels changed", left + 30, height - 2);
  ctx.lineWidth = 2;
  for (const { data, colour } of curves) {
    ctx.strokeStyle = colour;
    ctx.beginPath();
    for (let i = 0; i < data.length; i++) ctx[i ? "lineTo" : "moveTo"](x(fractions[i] ?? 0), y(data[i]));
    ctx.stroke();
  }
}

/**
 * Whether a faithfulness row has its curves (not an error, nor a row still without them).
 * @param {FaithfulnessRow | null | undefined} row
 * @returns {row is FaithfulnessRow}
 */
function isScored(row) {
  return Boolean(row && row.error === undefined && row.fractions && row.deletion && row.insertion);
}

/**
 * An AUC to 3 decimals ("…" when missing).
 * @param {number | null | undefined} value
 */
function auc(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(3) : "…";
}

/**
 * The AUC table of every method (data-testid="faithfulness-table"); a click on a row shows its curves.
 * @param {HTMLTableElement} table
 * @param {FaithfulnessRow[]} rows
 * @param {string} shown the method whose curves are drawn
 * @param {(method: string) => void} choose
 */
function fillTable(table, rows, shown, choose) {
  clear(table);
  const scored = rows.filter(isScored);
  const low = Math.min(...scored.map((r) => r.deletion_auc ?? Infinity));
  const high = Math.max(...scored.map((r) => r.insertion_auc ?? -Infinity));
  table.appendChild(h("thead", {}, [h("tr", {}, ["method", "deletion AUC ↓", "insertion AUC ↑"]
    .map((t) => h("th", {}, [t])))]));
  const body = h("tbody");
  for (const row of rows) {
    const cells = row.error !== undefined
      ? [h("td", { colspan: "2", title: row.error }, ["cannot explain the class"])]
      : [h("td", { class: row.deletion_auc === low ? "dw-best" : undefined }, [auc(row.deletion_auc)]),
        h("td", { class: row.insertion_auc === high ? "dw-best" : undefined }, [auc(row.insertion_auc)])];
    const tr = h("tr", { class: row.method === shown ? "dw-selected" : undefined,
      dataset: { method: row.method }, title: row.method }, [h("td", {}, [row.label]), ...cells]);
    if (isScored(row)) tr.addEventListener("click", () => choose(row.method));
    body.appendChild(tr);
  }
  table.appendChild(body);
}

/**
 * Faithfulness (data-testid="faithfulness"), on request: the deletion and insertion curves of the
 * method on show (or of a row clicked) and the AUC table of every method.
 * @param {ClassifierModel} model
 */
export function faithfulnessPart(model) {
  const button = h("button", { onclick: () => model.send({ type: "faithfulness" }) }, ["faithfulness"]);
  const canvas = h("canvas", { class: "dw-curves", width: "240", height: "150",
    dataset: { testid: "faithfulness-curves" } });
  const caption = h("div", { class: "dw-caption" }, [""]);
  const table = h("table", { class: "dw-table", dataset: { testid: "faithfulness-table" } });
  const box = h("div", { dataset: { testid: "faithfulness" } }, [caption, h("div", { class: "dw-row" }, [canvas, table])]);
  /** @type {string | null} a row clicked since the last change (null: the method on show) */
  let chosen = null;
  let rowCount = (model.get("faithfulness_index") || []).length;
  const draw = () => {
    const rows = (model.get("faithfulness_index") || []).filter(Boolean);
    const scored = rows.filter(isScored);
    const row = scored.find((r) => r.method === (chosen ?? model.get("method"))) ?? scored[0];
    box.hidden = !row;
    if (row) {
      const [fractions, deletion, insertion] = unpack(model.get("faithfulness"), [row.fractions, row.deletion, row.insertion]);
      drawCurves(canvas, fractions.data, [{ data: deletion.data, colour: CURVE_COLOURS.deletion },
        { data: insertion.data, colour: CURVE_COLOURS.insertion }]);
      setText(caption, `${row.label} · ${row.target}: deletion AUC ${auc(row.deletion_auc)} (red), `
        + `insertion AUC ${auc(row.insertion_auc)} (blue)`);
      fillTable(table, rows, row.method, (method) => { chosen = method; draw(); });
    }
    setData(box, "method", row?.method);
  };
  const stops = [
    watch(model, ["method"], () => { chosen = null; draw(); }, { now: false }),
    // rows arrive method by method: a row clicked stays chosen while its run goes on (fewer rows: a new run)
    watch(model, ["faithfulness_version"], () => {
      const count = (model.get("faithfulness_index") || []).length;
      if (count < rowCount) chosen = null;
      rowCount = count;
      draw();
    }, { now: false }),
    watch(model, ["faithfulness_version"], () => setData(box, "version", model.get("faithfulness_version") ?? 0)),
  ];
  draw();
  const root = h("div", {}, [
    h("div", { class: "dw-controls" }, [button, h("span", { class: "dw-note" },
      ["the class's probability as the pixels each method ranks first are blacked out (deletion: lower is more faithful) or put back into a blurred image (insertion: higher)"])]),
    box,
  ]);
  return { root, stop: () => stops.forEach((s) => s()) };
}
