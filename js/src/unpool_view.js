// UnpoolView: a small map, max pooling with switches, and max versus average unpooling.
import { clear, h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { renderStep } from "./lib/step_view.js";
import { watch } from "./lib/widget.js";
import { choicePart, numberPart, statusPart, textPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").UnpoolTraits} Traits */
/** @typedef {import("./lib/messages.js").PageMessage} PageMessage */

/**
 * A titled step grid.
 * @param {string} title
 * @param {import("./lib/traits.js").StepGrid} grid
 */
function step(title, grid) {
  return renderStep({ ...grid, title });
}

/**
 * The switches of max pooling (one "y, x, c" per pooled cell) as a table.
 * @param {string[][]} rows
 */
function switchesTable(rows) {
  const table = h("table", { class: "dw-step-table", dataset: { testid: "switches" } });
  for (const row of rows) table.appendChild(h("tr", {}, row.map((s) => h("td", {}, [s]))));
  return h("figure", { class: "dw-step" }, [h("figcaption", {}, ["switches (y, x, c)"]), table]);
}

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const text = textPart(model, "input_text", "input map (rows of numbers)", { rows: 7, cols: 20 });
  const pool = numberPart(model, "pool_size", "pool size ", { min: 1, max: 8 });
  const stride = numberPart(model, "stride", "stride ", { min: 1, max: 8 });
  const padding = choicePart(model, "padding", "padding ", ["VALID", "SAME"]);
  const random = h("button", {
    onclick: () => model.send(/** @satisfies {PageMessage} */ ({ type: "random" })),
  }, ["random map"]);
  const status = statusPart(model);
  const top = h("div", { class: "dw-row" });
  const bottom = h("div", { class: "dw-row" });
  const stop = watch(model, ["result"], () => {
    const r = model.get("result");
    if (!r || !r.input) return;
    clear(top);
    clear(bottom);
    top.append(step("input (maxima outlined)", r.input), step("max-pooled", r.pooled), switchesTable(r.switches));
    bottom.append(
      step("max unpool (switches)", r.max_unpool),
      step("average unpool: fill", r.avg_fill),
      step("average unpool: adjoint (÷ window)", r.avg_adjoint),
    );
  });
  el.appendChild(h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [text.root, h("div", { class: "dw-controls" },
      [pool.root, stride.root, padding.root, random])]),
    status.root, top, bottom,
  ]));
  return () => { [text, pool, stride, padding, status].forEach((p) => p.stop()); stop(); };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
