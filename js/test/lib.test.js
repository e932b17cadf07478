import { describe, expect, test, vi } from "vitest";
import { asBytes, toFloat32, toFloat32Shaped } from "../src/lib/buffers.js";
import { diverging, sequential, signedScale, unitScale, valueRange } from "../src/lib/colormaps.js";
import {
  channelRanges,
  colourOf,
  createChannelGrid,
  drawGrid,
  formatValue,
  gridLayout,
  hitTest,
  moveSelection,
} from "../src/lib/grid.js";
import { h, append, setText, showStatus, statusLine } from "../src/lib/dom.js";
import { imageToRGBA } from "../src/lib/image_view.js";
import { printsNumbers, renderStep } from "../src/lib/step_view.js";
import { nodeDepths, renderGraph } from "../src/lib/graph_view.js";

const PAYLOAD = "<img src=x onerror=window.__pwned=1>";

describe("buffers", () => {
  test("a DataView with a non-zero byteOffset decodes only its window", () => {
    const backing = new ArrayBuffer(4 * 6);
    new Float32Array(backing).set([9, 1.5, -2, 3.25, 7, 9]);
    const view = new DataView(backing, 4, 4 * 4);
    expect(Array.from(toFloat32(view))).toEqual([1.5, -2, 3.25, 7]);
  });
  test("an unaligned byteOffset is copied, not misread", () => {
    const backing = new ArrayBuffer(4 * 3 + 2);
    const bytes = new Uint8Array(backing);
    bytes.set(new Uint8Array(new Float32Array([1, -0.5, 42]).buffer), 2);
    const view = new DataView(backing, 2, 12);
    expect(Array.from(toFloat32(view))).toEqual([1, -0.5, 42]);
  });
  test("lengths not a multiple of 4 and shape mismatches are refused", () => {
    expect(() => toFloat32(new DataView(new ArrayBuffer(7)))).toThrow(/multiple of 4/);
    expect(() => toFloat32Shaped(new Float32Array(6), [2, 2, 2])).toThrow(/shape \[2,2,2\] needs 8/);
    expect(toFloat32Shaped(new Float32Array(8), [2, 2, 2]).length).toBe(8);
  });
  test("missing buffers are empty and wrong types are a TypeError", () => {
    expect(asBytes(null).length).toBe(0);
    expect(() => asBytes("abc")).toThrow(TypeError);
  });
});

describe("colour maps", () => {
  test("sequential ends are dark purple and yellow, clamped outside [0, 1]", () => {
    expect(sequential(0)).toEqual([68, 1, 84]);
    expect(sequential(1)).toEqual([253, 231, 37]);
    expect(sequential(-3)).toEqual(sequential(0));
    expect(sequential(7)).toEqual(sequential(1));
    expect(sequential(NaN)).toEqual(sequential(0));
  });
  test("diverging: 0 is the neutral centre, the ends are blue and red", () => {
    const [r, g, b] = diverging(0);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expect(diverging(-1)[2]).toBeGreaterThan(diverging(-1)[0]);
    expect(diverging(1)[0]).toBeGreaterThan(diverging(1)[2]);
    expect(diverging(-0.5)).not.toEqual(diverging(0.5));
  });
  test("normalisation: ranges, unit and signed scales", () => {
    expect(valueRange([1, -4, NaN, 2])).toEqual({ min: -4, max: 2, maxAbs: 4 });
    expect(unitScale(3, 1, 5)).toBe(0.5);
    expect(unitScale(3, 3, 3)).toBe(0);
    expect(signedScale(-2, 4)).toBe(-0.5);
    expect(signedScale(5, 0)).toBe(0);
  });
});

describe("grid", () => {
  test("hit-testing maps canvas pixels to channel and position", () => {
    const layout = gridLayout(5, 4, 3, { scale: 2, gap: 2, cols: 3 });
    expect(layout.cellW).toBe(6);
    expect(layout.cellH).toBe(8);
    expect(hitTest(layout, 2, 2)).toEqual({ channel: 0, y: 0, x: 0 });
    expect(hitTest(layout, 2 + 5, 2 + 7)).toEqual({ channel: 0, y: 3, x: 2 });
    expect(hitTest(layout, 2 + 6 + 2, 2)).toEqual({ channel: 1, y: 0, x: 0 });
    expect(hitTest(layout, 2 + 6 + 2 + 3, 2 + 8 + 2 + 5)).toEqual({ channel: 4, y: 2, x: 1 });
    expect(hitTest(layout, 1, 1)).toBeNull(); // the gap
    expect(hitTest(layout, 2 + 6, 3)).toBeNull(); // the gap between cells
    expect(hitTest(layout, 2 + 2 * 8 + 1, 2 + 10 + 1)).toBeNull(); // the empty sixth cell
  });
  test("per-channel versus shared normalisation", () => {
    // (H=1, W=2, C=2): channel 0 = [0, 1], channel 1 = [0, 10]
    const data = new Float32Array([0, 0, 1, 10]);
    const own = channelRanges(data, [1, 2, 2], "channel");
    expect(own[0].max).toBe(1);
    expect(own[1].max).toBe(10);
    const shared = channelRanges(data, [1, 2, 2], "shared");
    expect(shared[0].max).toBe(10);
    const canvas = document.createElement("canvas");
    drawGrid(canvas, data, [1, 2, 2], { scale: 1, gap: 0, cols: 2, normalise: "channel" });
    const px = canvas.getContext("2d").getImageData(0, 0, 4, 1).data;
    expect([px[4], px[5], px[6]]).toEqual(sequential(1)); // channel 0's max is its top colour
    drawGrid(canvas, data, [1, 2, 2], { scale: 1, gap: 0, cols: 2, normalise: "shared" });
    const px2 = canvas.getContext("2d").getImageData(0, 0, 4, 1).data;
    const want = sequential(0.1);
    [0, 1, 2].forEach((k) => expect(Math.abs(px2[4 + k] - want[k])).toBeLessThanOrEqual(1));
  });
  test("table colours match the colour maps within one 8-bit step", () => {
    // (H=5, W=7, C=3) of signed values, a NaN and a flat channel, both colour maps
    const [H, W, C] = [5, 7, 3];
    const data = new Float32Array(H * W * C).map((_, i) => Math.sin(i * 1.7) * (i % 5));
    data[4] = NaN;
    for (let i = 2; i < data.length; i += C) data[i] = 3; // channel 2 is flat
    for (const colormap of ["sequential", "diverging"]) {
      const canvas = document.createElement("canvas");
      const layout = drawGrid(canvas, data, [H, W, C], { scale: 1, gap: 0, cols: C, colormap });
      const px = canvas.getContext("2d").getImageData(0, 0, layout.canvasWidth, H).data;
      const ranges = channelRanges(data, [H, W, C], "channel");
      let worst = 0;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const want = colourOf(data[(y * W + x) * C + c], ranges[c], colormap);
            const o = (y * layout.canvasWidth + c * W + x) * 4;
            for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(px[o + k] - want[k]));
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
    }
  });
  test("a click draws the grid once; Python's echo of the same channel draws nothing", () => {
    const picked = [];
    const grid = createChannelGrid({ onSelect: (c) => picked.push(c), selected: 0 });
    document.body.append(grid.root);
    const data = new Float32Array(2 * 2 * 4).map((_, i) => i);
    grid.update(data, [2, 2, 4], { scale: 4, gap: 1, cols: 4 });
    const draws = vi.spyOn(grid.canvas, "getContext");
    grid.canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    expect(picked).toEqual([1]);
    expect(draws).toHaveBeenCalledTimes(1);
    grid.select(1); // the trait coming back from Python
    expect(draws).toHaveBeenCalledTimes(1);
    grid.select(3); // a different channel set from Python is drawn
    expect(draws).toHaveBeenCalledTimes(2);
    expect(grid.canvas.dataset.channel).toBe("3");
    grid.root.remove();
  });
  test("arrow keys move the selection and stay in range", () => {
    const layout = gridLayout(10, 2, 2, { cols: 4 });
    expect(moveSelection(layout, 0, "ArrowRight")).toBe(1);
    expect(moveSelection(layout, 0, "ArrowLeft")).toBe(0);
    expect(moveSelection(layout, 1, "ArrowDown")).toBe(5);
    expect(moveSelection(layout, 8, "ArrowDown")).toBe(8);
    expect(moveSelection(layout, 5, "ArrowUp")).toBe(1);
    expect(moveSelection(layout, 5, "Enter")).toBeNull();
  });
  test("values format without trailing zeros", () => {
    expect(formatValue(4)).toBe("4");
    expect(formatValue(0.5)).toBe("0.5");
    expect(formatValue(1 / 3)).toBe("0.3333");
    expect(formatValue(0)).toBe("0");
  });
});

describe("text only", () => {
  test("HTML in text becomes text: no element is created, nothing runs", async () => {
    window.__pwned = undefined;
    const host = document.createElement("div");
    document.body.appendChild(host);
    host.appendChild(h("div", { title: PAYLOAD }, [PAYLOAD, h("span", {}, [PAYLOAD])]));
    const line = statusLine();
    host.appendChild(line);
    showStatus(line, PAYLOAD, "error");
    setText(append(h("p"), [PAYLOAD]), PAYLOAD);
    await new Promise((r) => setTimeout(r, 50));
    expect(host.querySelector("img")).toBeNull();
    expect(host.textContent).toContain(PAYLOAD);
    expect(line.textContent).toBe(PAYLOAD);
    expect(line.classList.contains("dw-error")).toBe(true);
    expect(window.__pwned).toBeUndefined();
    host.remove();
  });
});

describe("image view", () => {
  test("raw puts 0 at mid-grey; abs, norm and gamma map magnitudes", () => {
    const data = new Float32Array([-2, 0, 2, 1]);
    const raw = imageToRGBA(data, [2, 2, 1], "raw");
    expect([raw[0], raw[4], raw[8]]).toEqual([0, 128, 255]);
    const abs = imageToRGBA(data, [2, 2, 1], "abs");
    expect([abs[0], abs[4], abs[8]]).toEqual([255, 0, 255]);
    const gamma = imageToRGBA(data, [2, 2, 1], "gamma", { gamma: 0.5 });
    expect(gamma[12]).toBe(Math.round(127.5 + 127.5 * Math.sqrt(0.5)));
    const rgb = new Float32Array([3, 4, 0, 0, 0, 0]);
    const norm = imageToRGBA(rgb, [1, 2, 3], "norm");
    expect([norm[0], norm[1], norm[2]]).toEqual(sequential(1));
    expect([norm[4], norm[5], norm[6]]).toEqual(sequential(0));
    expect(() => imageToRGBA(data, [2, 2, 1], "sepia")).toThrow(/choose one of: signed, raw/);
  });
});

describe("step view", () => {
  test("small grids print numbers, larger ones become heat maps; marks are kept", () => {
    expect(printsNumbers(8, 8)).toBe(true);
    expect(printsNumbers(9, 2)).toBe(false);
    const small = renderStep({ title: "zero-inserted", data: [1, 0, 2, 0], height: 2, width: 2, marks: ["", "zero", "", "pad"] });
    expect(small.dataset.mode).toBe("numbers");
    const cells = [...small.querySelectorAll("td")].map((td) => td.textContent);
    expect(cells).toEqual(["1", "0", "2", "0"]);
    expect(small.querySelectorAll("td.dw-mark-zero").length).toBe(1);
    expect(small.querySelectorAll("td.dw-mark-pad").length).toBe(1);
    const noisy = renderStep({ title: "noise", data: [1.686e-16, 2.5], height: 1, width: 2 });
    expect([...noisy.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["0", "2.5"]);
    const big = renderStep({ title: "big", data: new Float32Array(81).fill(1), height: 9, width: 9 });
    expect(big.dataset.mode).toBe("heatmap");
    expect(big.querySelector("canvas")).not.toBeNull();
    expect(big.querySelector("td")).toBeNull();
  });
});

describe("graph view", () => {
  const graph = {
    nodes: [
      { id: "W1", label: "W1", kind: "variable" },
      { id: "W2", label: "W2", kind: "variable" },
      { id: "W3", label: "W3", kind: "variable" },
      { id: "s", label: "stop_gradient", kind: "op", op: "stop_gradient(W1 + W2)" },
      { id: "y3", label: "y3", kind: "op" },
    ],
    edges: [
      { source: "W1", target: "s", stop_gradient: true },
      { source: "W2", target: "s", stop_gradient: true },
      { source: "s", target: "y3", stop_gradient: false },
      { source: "W3", target: "y3", stop_gradient: false },
    ],
  };
  test("depths follow the longest path", () => {
    const d = nodeDepths(graph.nodes, graph.edges);
    expect(d.get("W1")).toBe(0);
    expect(d.get("s")).toBe(1);
    expect(d.get("y3")).toBe(2);
  });
  test("stop_gradient edges are dashed, the others solid; gradients at their nodes", () => {
    const host = document.createElement("div");
    const root = renderGraph(host, graph, { W1: "None", W3: "[4, 6]" });
    expect(root.namespaceURI).toBe("http://www.w3.org/2000/svg");
    const lines = [...root.querySelectorAll("line")];
    expect(lines.length).toBe(4);
    const dashed = lines.filter((l) => l.getAttribute("stroke-dasharray"));
    expect(dashed.map((l) => l.dataset.source).sort()).toEqual(["W1", "W2"]);
    expect(root.querySelectorAll("line.dw-edge-stop").length).toBe(2);
    const grads = [...root.querySelectorAll("text.dw-grad")].map((t) => t.textContent);
    expect(grads.sort()).toEqual(["∂ = None", "∂ = [4, 6]"]);
  });
  test("an empty graph draws nothing", () => {
    const host = document.createElement("div");
    host.appendChild(document.createElement("span"));
    expect(renderGraph(host, { nodes: [], edges: [] })).toBeNull();
    expect(host.childNodes.length).toBe(0);
  });
  test("node labels with HTML stay text", () => {
    const host = document.createElement("div");
    renderGraph(host, { nodes: [{ id: "a", label: PAYLOAD }], edges: [] });
    expect(host.querySelector("img")).toBeNull();
    expect(host.querySelector("title").textContent).toBe(PAYLOAD);
  });
});
