import { describe, expect, test } from "vitest";
import { asBytes, toFloat32, toFloat32Shaped } from "../src/lib/buffers.js";
import { diverging, sequential, signedScale, unitScale, valueRange } from "../src/lib/colormaps.js";
import {
  channelRanges, createChannelGrid, drawGrid, formatValue, markerRect,
} from "../src/lib/grid.js";
import { cellOrigin, gridLayout, hitTest, moveSelection } from "../src/lib/grid_layout.js";
import { createLRU } from "../src/lib/cache.js";
import { h, append, setText, showStatus, statusLine } from "../src/lib/dom.js";
import { imageToRGBA } from "../src/lib/image_view.js";
import { printsNumbers, renderStep } from "../src/lib/step_view.js";
import { nodeDepths, renderGraph } from "../src/lib/graph_view.js";

/**
 * The test oracle: the colour of v straight from the colour map (no table), which the
 * table-driven drawing must match.
 * @param {number} v
 * @param {{min: number, max: number, maxAbs: number}} range
 * @param {string} colormap
 */
function colourOf(v, range, colormap) {
  return colormap === "diverging"
    ? diverging(signedScale(v, range.maxAbs))
    : sequential(unitScale(v, range.min, range.max));
}

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

describe("LRU cache", () => {
  test("the budget holds: least recently used entries go first, get() refreshes", () => {
    const evicted = [];
    const cache = createLRU(100, { onEvict: (key) => evicted.push(key) });
    expect(cache.put("a", 1, 40)).toBe(true);
    cache.put("b", 2, 40);
    expect(cache.bytes).toBe(80);
    expect(cache.get("a")).toBe(1); // a is now the most recently used
    cache.put("c", 3, 40); // 120 > 100: b (oldest) goes
    expect(evicted).toEqual(["b"]);
    expect(cache.has("b")).toBe(false);
    expect(cache.keys()).toEqual(["a", "c"]);
    expect(cache.bytes).toBe(80);
    cache.put("d", 4, 60); // 140: a (older) goes, then c (120 > 100 still... 100 fits)
    expect(evicted).toEqual(["b", "a"]);
    expect(cache.keys()).toEqual(["c", "d"]);
    cache.put("e", 5, 10); // 110: c goes
    expect(evicted).toEqual(["b", "a", "c"]);
    expect(cache.keys()).toEqual(["d", "e"]);
    expect(cache.bytes).toBeLessThanOrEqual(100);
  });
  test("replacing a key keeps one entry; too big is refused; a smaller budget evicts", () => {
    const cache = createLRU(100);
    cache.put("a", 1, 30);
    cache.put("a", 2, 50);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(50);
    expect(cache.get("a")).toBe(2);
    expect(cache.put("huge", 0, 101)).toBe(false);
    expect(cache.has("huge")).toBe(false);
    cache.put("b", 3, 40);
    cache.setBudget(45);
    expect(cache.keys()).toEqual(["b"]);
    expect(cache.get("missing")).toBeUndefined();
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
  test("a selection change moves the outline only: no recolour, the old outline is gone", () => {
    const picked = [];
    const grid = createChannelGrid({ onSelect: (c) => picked.push(c), selected: 0 });
    document.body.append(grid.root);
    const data = new Float32Array(2 * 2 * 4).map((_, i) => i);
    grid.update(data, [2, 2, 4], { scale: 4, gap: 2, cols: 4 });
    expect(grid.draws).toBe(1);
    const clean = document.createElement("canvas");
    drawGrid(clean, data, [2, 2, 4], { scale: 4, gap: 2, cols: 4 }); // no outline
    const region = (c, x, w) => Array.from(c.getContext("2d").getImageData(x, 0, w, c.height).data);
    expect(region(grid.canvas, 0, 12)).not.toEqual(region(clean, 0, 12)); // cell 0 is outlined
    grid.canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    expect(picked).toEqual([1]);
    expect(grid.draws).toBe(1);
    grid.select(1); // the trait coming back from Python
    grid.select(3); // a different channel set from Python
    expect(grid.draws).toBe(1);
    expect(picked).toEqual([1]);
    expect(grid.canvas.dataset.channel).toBe("3");
    // only cell 3's outline differs from the clean grid: cells 0 and 1 were restored
    const [ox] = cellOrigin(grid.layout, 3);
    expect(region(grid.canvas, 0, ox - 2)).toEqual(region(clean, 0, ox - 2));
    expect(region(grid.canvas, ox - 2, 1)).not.toEqual(region(clean, ox - 2, 1));
    grid.root.remove();
  });
  test("ready markers are painted into and cleared from single cells", () => {
    const grid = createChannelGrid({ selected: 0 });
    const data = new Float32Array(8 * 8 * 3).fill(0);
    grid.update(data, [8, 8, 3], { scale: 4, gap: 2, cols: 3 });
    const at = (c) => {
      const [x, y, size] = markerRect(grid.layout, c);
      return Array.from(grid.canvas.getContext("2d").getImageData(x + (size >> 1), y + (size >> 1), 1, 1).data);
    };
    const before = at(2);
    grid.setMarks([2]);
    expect(at(2)).toEqual([255, 255, 255, 255]);
    expect(at(1)).toEqual(before);
    grid.select(2); // the outline does not wipe the marker
    expect(at(2)).toEqual([255, 255, 255, 255]);
    grid.setMarks([]);
    expect(at(2)).toEqual(before);
    expect(grid.draws).toBe(1);
  });
  test("hover read-out names the channel, its peak, the position and the value", () => {
    const grid = createChannelGrid({ selected: 0 });
    document.body.append(grid.root);
    // (H=2, W=2, C=2): channel 1 = [10, 20, 30, 40]
    const data = new Float32Array([0, 10, 1, 20, 2, 30, 3, 40]);
    grid.update(data, [2, 2, 2], { scale: 10, gap: 2, cols: 2 });
    const rect = grid.canvas.getBoundingClientRect();
    const [ox, oy] = cellOrigin(grid.layout, 1);
    grid.canvas.dispatchEvent(new MouseEvent("mousemove", {
      clientX: rect.left + grid.canvas.clientLeft + ox + 15, clientY: rect.top + grid.canvas.clientTop + oy + 5,
    }));
    expect(grid.readout.textContent).toBe("channel 1 · peak 40 · y 0, x 1 · 20");
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
  test("an order permutation: cell i shows order[i]; hit test, origins and keys follow it", () => {
    const order = [3, 0, 4, 1, 2];
    const layout = gridLayout(5, 4, 3, { scale: 2, gap: 2, cols: 3, order });
    expect(hitTest(layout, 2, 2)).toEqual({ channel: 3, y: 0, x: 0 });
    expect(hitTest(layout, 2 + 6 + 2, 2)).toEqual({ channel: 0, y: 0, x: 0 });
    expect(hitTest(layout, 2 + 6 + 2 + 3, 2 + 8 + 2 + 5)).toEqual({ channel: 2, y: 2, x: 1 });
    expect(cellOrigin(layout, 3)).toEqual([2, 2]);
    expect(cellOrigin(layout, 2)).toEqual([2 + 8, 2 + 10]); // cell 4: row 1, column 1
    expect(moveSelection(layout, 3, "ArrowRight")).toBe(0);
    expect(moveSelection(layout, 3, "ArrowDown")).toBe(1);
    expect(moveSelection(layout, 2, "ArrowUp")).toBe(0);
    expect(moveSelection(layout, 2, "ArrowRight")).toBe(2); // the last cell: stays
    // not a permutation of 0..4 (e.g. another layer's): index order
    const fallback = gridLayout(5, 4, 3, { scale: 2, gap: 2, cols: 3, order: [0, 1, 1, 2, 3] });
    expect(fallback.order).toBeNull();
    expect(hitTest(fallback, 2, 2).channel).toBe(0);
  });
  test("the grid fits a width for any channel count and map size", () => {
    const cases = [[512, 14, 14], [2048, 7, 7], [64, 224, 224], [4, 2, 2], [96, 55, 27], [1, 1, 1]];
    for (const [channels, height, width] of cases) {
      for (const maxWidth of [200, 390, 800, 1400]) {
        const layout = gridLayout(channels, height, width, { maxWidth });
        const what = `${channels} x ${height}x${width} in ${maxWidth}`;
        expect(layout.canvasWidth, what).toBeLessThanOrEqual(maxWidth);
        expect(layout.cols * layout.rows, what).toBeGreaterThanOrEqual(channels);
        const side = Math.max(layout.cellW, layout.cellH);
        expect(side, what).toBeGreaterThanOrEqual(6);
        expect(side, what).toBeLessThanOrEqual(64);
      }
    }
    const vgg = gridLayout(64, 224, 224, { maxWidth: 800 });
    expect(vgg.scale).toBeLessThan(1); // down-sampled
    expect(vgg.cellW).toBe(64);
    const small = gridLayout(4, 2, 2, { maxWidth: 800 });
    expect(small.scale).toBe(32); // integer up-scaling to 64 px cells
    expect(gridLayout(512, 14, 14, { maxWidth: 800 }).scale).toBe(2); // integer while it fits
    expect(gridLayout(2048, 7, 7, { maxWidth: 800 }).canvasWidth).toBeGreaterThan(600); // uses the room
    expect(gridLayout(2048, 7, 7, { maxWidth: 200 }).cellW).toBe(6); // the smallest cell, more columns
  });
  test("a down-sampled grid shows nearest map pixels, and costs canvas pixels not map pixels", () => {
    // one channel of 224 x 224: value = its column, in a 64 px cell
    const [H, W] = [224, 224];
    const data = new Float32Array(H * W).map((_, i) => i % W);
    const canvas = document.createElement("canvas");
    const layout = drawGrid(canvas, data, [H, W, 1], { maxWidth: 800 });
    expect(layout.cellW).toBe(64);
    expect(canvas.width).toBe(68);
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const range = { min: 0, max: W - 1, maxAbs: W - 1 };
    for (const dx of [0, 13, 63]) {
      const x = Math.floor(((dx + 0.5) * W) / 64);
      const want = colourOf(x, range, "sequential");
      const o = (2 * canvas.width + 2 + dx) * 4;
      [0, 1, 2].forEach((k) => expect(Math.abs(px[o + k] - want[k])).toBeLessThanOrEqual(1));
    }
    expect(hitTest(layout, 2 + 13, 2 + 63)).toEqual({ channel: 0, y: 222, x: 47 });
    // 64 channels of 224 x 224 (VGG16 block1): ~3.2M map values onto a ~530 px canvas
    const many = new Float32Array(224 * 224 * 64).map((_, i) => (i * 7919) % 101);
    const start = performance.now();
    drawGrid(canvas, many, [224, 224, 64], { maxWidth: 800 });
    expect(performance.now() - start).toBeLessThan(500);
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
