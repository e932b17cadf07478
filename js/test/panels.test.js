import { describe, expect, test } from "vitest";
import gradients from "../src/gradients_panel.js";
import unpool from "../src/unpool_view.js";
import transposeConv from "../src/transpose_conv_view.js";
import inspector from "../src/model_inspector.js";
import { makeModel } from "./model.js";

const PAYLOAD = "<img src=x onerror=window.__pwned=1>";

function mount(module, model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = module.render({ model, el });
  return { el, done: () => { cleanup(); el.remove(); } };
}

const grid = (h, w, data, marks) => ({ height: h, width: w, data, marks });

describe("gradients panel module", () => {
  const base = {
    status: "", examples: ["matmul", "grad_ys", "stop_gradient"], example: "grad_ys",
    program: "y1 = W1 + W2 + W3\ny2 = W3 + W4", values_text: "W1 = [1, 2]", ys_text: "y1, y2",
    xs_text: "W1, W3", grad_ys_text: "", unconnected: "none", explanation: "",
    graph: { nodes: [{ id: "W1", label: "W1", kind: "variable" }, { id: "W3", label: "W3", kind: "variable" },
      { id: "y1", label: "y1", kind: "y" }],
    edges: [{ source: "W1", target: "y1", stop_gradient: true }, { source: "W3", target: "y1", stop_gradient: false }] },
    grads: { W1: "None", W3: "[4, 6]" }, grad_rows: [["W1", "None"], ["W3", "[4, 6]"]], code: "import tensorflow as tf",
  };

  test("grad-table has one row per x with its gradient text; the graph dashes cut edges", async () => {
    const model = makeModel(base);
    const { el, done } = mount(gradients, model);
    const rows = [...el.querySelectorAll('[data-testid="grad-table"] tr')];
    expect(rows.map((r) => r.textContent)).toEqual(["W1None", "W3[4, 6]"]);
    expect(el.querySelectorAll("line[stroke-dasharray]").length).toBe(1);
    done();
  });

  test("Run sends the fields as typed, even before the debounce fires", async () => {
    const model = makeModel(base);
    const { el, done } = mount(gradients, model);
    const program = el.querySelector('[data-testid="program"]');
    program.value = "y = W1 +";
    program.dispatchEvent(new Event("input"));
    el.querySelector('[data-testid="run"]').click();
    expect(model.sent.at(-1)).toMatchObject({ type: "run", program: "y = W1 +", ys_text: "y1, y2" });
    done();
  });

  test("Python's value does not overwrite the field being typed in", async () => {
    const model = makeModel(base);
    const { el, done } = mount(gradients, model);
    const program = el.querySelector('[data-testid="program"]');
    program.focus();
    program.value = "half typed";
    model.fromPython({ program: "from python" });
    expect(program.value).toBe("half typed");
    program.blur();
    model.fromPython({ program: "later" });
    expect(program.value).toBe("later");
    done();
  });

  test("programs, errors and code with HTML stay text", async () => {
    window.__pwned = undefined;
    const model = makeModel({ ...base, program: PAYLOAD, code: PAYLOAD, explanation: PAYLOAD,
      status: `error: line 1, col 1: ${PAYLOAD}`, grad_rows: [[PAYLOAD, PAYLOAD]] });
    const { el, done } = mount(gradients, model);
    await new Promise((r) => setTimeout(r, 50));
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector('[data-testid="tf-code"]').textContent).toBe(PAYLOAD);
    expect(window.__pwned).toBeUndefined();
    done();
  });
});

describe("explainer modules", () => {
  test("unpool view: numbers, switches and the random button", async () => {
    const model = makeModel({
      status: "", input_text: "1 2\n3 4", pool_size: 2, stride: 2, padding: "VALID", random_seed: 0,
      result: {
        input: grid(2, 2, [1, 2, 3, 4], ["", "", "", "max"]), pooled: grid(1, 1, [4]),
        switches: [["(1, 1, 0)"]], max_unpool: grid(2, 2, [0, 0, 0, 4], ["", "", "", "max"]),
        avg_fill: grid(2, 2, [4, 4, 4, 4]), avg_adjoint: grid(2, 2, [1, 1, 1, 1]),
      },
    });
    const { el, done } = mount(unpool, model);
    expect(el.querySelector('[data-testid="switches"]').textContent).toBe("(1, 1, 0)");
    expect(el.querySelectorAll("td.dw-mark-max").length).toBe(2);
    expect(el.querySelectorAll("figure.dw-step[data-mode=numbers]").length).toBe(5);
    const pool = el.querySelector('[data-testid="pool_size-input"]');
    pool.value = "3";
    pool.dispatchEvent(new Event("change"));
    expect(model.saves.at(-1).pool_size).toBe(3);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "random map").click();
    expect(model.sent).toEqual([{ type: "random" }]);
    done();
  });

  test("transpose conv view: four steps, output sizes from the valid ones, big grids as heat maps", async () => {
    const big = grid(9, 9, new Array(81).fill(1));
    const model = makeModel({
      status: "", input_text: "1", kernel_text: "1", stride: 2, padding: "SAME",
      output_size: [6, 5], output_sizes: [[5, 6], [5, 6]],
      result: {
        flipped_kernel: grid(1, 1, [1]), zero_inserted: grid(2, 2, [1, 0, 0, 0], ["", "zero", "zero", "zero"]),
        pads: [[1, 0], [0, 1]], padded: big, output: big, tf_output: big, max_abs_diff: 0,
        roundtrip: { x: big, back: big, best: big, recovered_fraction: 0.25, cosine: 0.5,
          relative_error: 0.8, rank: 9, dimension: 36 },
      },
    });
    const { el, done } = mount(transposeConv, model);
    const modes = [...el.querySelectorAll("figure.dw-step")].map((f) => f.dataset.mode);
    expect(modes.slice(0, 4)).toEqual(["numbers", "numbers", "heatmap", "heatmap"]);
    expect(el.querySelectorAll("td.dw-mark-zero").length).toBe(3);
    expect(el.textContent).toContain("25%");
    const height = el.querySelector('[data-testid="output-height"]');
    expect([...height.options].map((o) => o.value)).toEqual(["5", "6"]);
    expect(height.value).toBe("6");
    height.value = "5";
    height.dispatchEvent(new Event("change"));
    expect(model.saves.at(-1).output_size).toEqual([5, 5]);
    done();
  });

  test("model inspector lists layers as text", async () => {
    const model = makeModel({ status: "", layers: [{ name: PAYLOAD, kind: "Conv2D", output_shape: [null, 8, 4],
      params: 40, receptive_field: 3, jump: 1 }] });
    const { el, done } = mount(inspector, model);
    const cells = [...el.querySelectorAll("tbody td")].map((td) => td.textContent);
    expect(cells).toEqual([PAYLOAD, "Conv2D", "? × 8 × 4", "40", "3 px", "1 px"]);
    expect(el.querySelector("img")).toBeNull();
    done();
  });
});
