import { describe, expect, test } from "vitest";
import { drawHistory, visualizePart } from "../src/parts/search.js";
import { $, bytes, distinct, makeModel, mountPart } from "./model.js";

/** A packed visualisation: an (8, 8, 3) image and its history, as Python sends it. */
function packed(state, done, history = [0.5, 0.6, 0.9]) {
  const image = Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 17) / 16);
  const index = [
    { kind: "image", shape: [8, 8, 3], offset: 0, layer: "conv2_1", channel: 3, done, steps: 20,
      activation: history[history.length - 1], state },
    { kind: "history", shape: [history.length], offset: image.length },
  ];
  return { visualization: bytes([...image, ...history]), visualization_index: index };
}

describe("what it wants", () => {
  test("draws the image and its curve as they arrive, says how far it got, and clears", () => {
    const model = makeModel({ visualization: new DataView(new ArrayBuffer(0)), visualization_index: [] });
    const { el, done } = mountPart(visualizePart, model);
    const canvas = $(el, "visualization");
    expect(canvas.width).toBe(0);
    model.fromPython(packed("running", 2, [0.5, 0.6]));
    expect(canvas.dataset.state).toBe("running");
    expect(canvas.width).toBeGreaterThan(0);
    expect(distinct(canvas)).toBeGreaterThan(2);
    expect($(el, "visualization-state").textContent).toBe("activation 0.6 (running at 2/20)");
    expect(distinct($(el, "visualization-curve"))).toBeGreaterThan(2);
    const first = canvas.dataset.version;
    model.fromPython(packed("done", 20));
    expect(canvas.dataset.version).not.toBe(first);
    expect($(el, "visualization-state").textContent).toBe("activation 0.9");
    expect(el.textContent).toContain("what channel 3 of conv2_1 wants");
    model.fromPython({ visualization: new DataView(new ArrayBuffer(0)), visualization_index: [] });
    expect(canvas.width).toBe(0);
    expect($(el, "visualization-state").textContent).toBe("");
    done();
  });

  test("its button asks Python for a job", () => {
    const model = makeModel({ visualization_index: [] });
    const { el, done } = mountPart(visualizePart, model);
    el.querySelector("button").click();
    expect(model.sent).toEqual([{ type: "visualize" }]);
    done();
  });

  test("an empty or flat history draws without failing", () => {
    const canvas = document.createElement("canvas");
    Object.assign(canvas, { width: 50, height: 30 });
    drawHistory(canvas, []);
    drawHistory(canvas, [1, 1, 1]);
    expect(canvas.width).toBe(50);
  });
});
