// GradientsPanel: program, values, ys/xs, grad_ys, unconnected mode, Run; graph, table, code.
import { clear, h, setText } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { renderGraph } from "./lib/graph_view.js";
import { watch } from "./lib/widget.js";
import { choicePart, statusPart, textPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").GradientsTraits} Traits */
/** @typedef {import("./lib/messages.js").PageMessage} PageMessage */

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const example = choicePart(model, "example", "example ", () => ["", ...(model.get("examples") || [])], ["examples"]);
  const program = textPart(model, "program", "program (one assignment a line)", { rows: 5, cols: 40, testid: "program" });
  const values = textPart(model, "values_text", "values (name = [1, 2])", { rows: 4, cols: 24, testid: "values" });
  const ys = textPart(model, "ys_text", "ys", { rows: 1, cols: 16, testid: "ys" });
  const xs = textPart(model, "xs_text", "xs", { rows: 1, cols: 16, testid: "xs" });
  const gradYs = textPart(model, "grad_ys_text", "grad_ys (empty = ones)", { rows: 2, cols: 20, testid: "grad-ys" });
  const unconnected = choicePart(model, "unconnected", "unconnected ", ["none", "zero"]);
  const run = h("button", { dataset: { testid: "run" }, onclick: () => model.send(/** @satisfies {PageMessage} */ ({
    type: "run",
    program: program.area.value,
    values_text: values.area.value,
    ys_text: ys.area.value,
    xs_text: xs.area.value,
    grad_ys_text: gradYs.area.value,
    unconnected: unconnected.el.value,
  })) }, ["Run"]);
  const status = statusPart(model);
  const graph = h("div", { class: "dw-graph-wrap", dataset: { testid: "grad-graph" } });
  const table = h("table", { class: "dw-table", dataset: { testid: "grad-table" } });
  const explanation = h("p", { class: "dw-note", dataset: { testid: "explanation" } });
  const code = h("pre", { class: "dw-code", dataset: { testid: "tf-code" } });
  const stops = [
    watch(model, ["graph", "grads"], () => renderGraph(graph, model.get("graph"), model.get("grads") || {})),
    watch(model, ["grad_rows"], () => {
      clear(table);
      for (const [x, text] of model.get("grad_rows") || []) {
        table.appendChild(h("tr", { dataset: { x } }, [h("td", {}, [x]), h("td", {}, [text])]));
      }
    }),
    watch(model, ["explanation"], () => setText(explanation, model.get("explanation"))),
    watch(model, ["code"], () => setText(code, model.get("code"))),
  ];
  el.appendChild(h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [example.root, unconnected.root, run]),
    h("div", { class: "dw-controls" }, [program.root, values.root,
      h("div", {}, [ys.root, xs.root]), gradYs.root]),
    status.root,
    h("div", { class: "dw-row" }, [graph, table]),
    explanation,
    h("details", {}, [h("summary", {}, ["the same in plain TensorFlow 2"]), code]),
  ]));
  const parts = [example, program, values, ys, xs, gradYs, unconnected, status];
  return () => { parts.forEach((p) => p.stop()); stops.forEach((s) => s()); };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
