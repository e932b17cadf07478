import { describe, expect, test } from "vitest";
import explorer from "../src/explorer.js";
import { makeModel, tick } from "./model.js";

const PAYLOAD = "<img src=x onerror=window.__pwned=1>";

function bytes(values) {
  const f = new Float32Array(values);
  // hand it over as anywidget does: a DataView, here into a larger buffer at an offset
  const backing = new ArrayBuffer(f.byteLength + 8);
  new Uint8Array(backing, 8).set(new Uint8Array(f.buffer));
  return new DataView(backing, 8, f.byteLength);
}

function state({ channels = 4, all = true, layer = "conv" } = {}) {
  const h = 2, w = 2, H = 4, W = 4;
  const act = Array.from({ length: h * w * channels }, (_, i) => (i % 7) - 2);
  const nproj = all ? channels : 1;
  const proj = Array.from({ length: 3 * nproj * H * W }, (_, i) => Math.sin(i));
  return {
    status: "", layer, channel: 0, method: "deconvnet", seed: "activation",
    layers: [{ name: layer, kind: "Conv2D", output_shape: [h, w, channels], params: 10, receptive_field: 3, jump: 1 }],
    image: bytes(new Array(H * W).fill(0.5)), image_shape: [H, W, 1],
    activations: bytes(act), act_shape: [h, w, channels],
    projections: bytes(proj), proj_shape: [3, nproj, H, W, 1],
    proj_methods: ["deconvnet", "guided", "saliency"],
    proj_channels: all ? [...Array(channels).keys()] : [0],
    proj_key: { layer, request: 1 }, proj_errors: {},
    image_index: 0, n_images: 2, ladder: bytes([]), ladder_index: [], topk: bytes([]),
    topk_index: [], progress: 0,
  };
}

function mount(model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = explorer.render({ model, el });
  return { el, cleanup };
}

describe("explorer module", () => {
  test("draws grid and exactly one primary projection with its data attributes", async () => {
    const model = makeModel(state());
    const { el, cleanup } = mount(model);
    await tick();
    const grid = el.querySelector('[data-testid="channel-grid"]');
    expect(grid.dataset.layer).toBe("conv");
    expect(grid.dataset.channel).toBe("0");
    const primaries = el.querySelectorAll('[data-testid="projection"]');
    expect(primaries.length).toBe(1);
    expect(primaries[0].dataset.method).toBe("deconvnet");
    expect(primaries[0].dataset.version).toBe("1");
    cleanup();
    el.remove();
  });

  test("a click on another cell redraws locally and sends the channel at once (all in page)", async () => {
    const model = makeModel(state());
    const { el, cleanup } = mount(model);
    await tick();
    const grid = el.querySelector('[data-testid="channel-grid"]');
    const rect = grid.getBoundingClientRect();
    const sx = rect.width / grid.width;
    // cell 1 is the second column of the first row: x = gap + cellW + gap + 1
    const cellW = (grid.width - 2) / 2 - 2;
    grid.dispatchEvent(new MouseEvent("click", {
      clientX: rect.left + (2 + cellW + 2 + 1) * sx, clientY: rect.top + 3 * sx, bubbles: true,
    }));
    await tick();
    expect(model.get("channel")).toBe(1);
    expect(model.saves.at(-1).channel).toBe(1);
    const projection = el.querySelector('[data-testid="projection"]');
    expect(projection.dataset.channel).toBe("1");
    expect(projection.dataset.version).toBe("2");
    cleanup();
    el.remove();
  });

  test("arrow keys on the focused grid move the channel; on demand only the last is sent", async () => {
    const model = makeModel(state({ all: false }));
    const { el, cleanup } = mount(model);
    await tick();
    const grid = el.querySelector('[data-testid="channel-grid"]');
    expect(grid.getAttribute("tabindex")).toBe("0");
    // 4 channels in 2 columns: 0 -> 1 -> 2 -> 1 -> (down a row) 3
    for (const key of ["ArrowRight", "ArrowRight", "ArrowLeft", "ArrowDown"]) {
      grid.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    }
    expect(model.get("channel")).toBe(3);
    expect(grid.dataset.channel).toBe("3");
    expect(model.saves.length).toBe(0); // debounced: nothing sent yet
    await new Promise((r) => setTimeout(r, 150));
    expect(model.saves.length).toBe(1);
    expect(model.saves[0].channel).toBe(3);
    cleanup();
    el.remove();
  });

  test("Python setting channel and method redraws as a click would", async () => {
    const model = makeModel(state());
    const { el, cleanup } = mount(model);
    await tick();
    model.fromPython({ channel: 3, method: "guided" });
    await tick();
    const projection = el.querySelector('[data-testid="projection"]');
    expect(projection.dataset.method).toBe("guided");
    expect(projection.dataset.channel).toBe("3");
    expect(el.querySelectorAll('[data-testid="projection"]').length).toBe(1);
    expect(el.querySelector('[data-testid="channel-grid"]').dataset.channel).toBe("3");
    cleanup();
    el.remove();
  });

  test("on demand: stale results are dropped, the latest request is drawn", async () => {
    const model = makeModel(state({ all: false }));
    const { el, cleanup } = mount(model);
    await tick();
    const projection = () => el.querySelector('[data-testid="projection"]');
    expect(projection().dataset.version).toBe("1");
    model.set("channel", 2); // the user moved on: channel 2 is wanted
    await tick();
    // an old result (for channel 1) arrives late: it must not be drawn
    model.fromPython({ proj_channels: [1], proj_key: { layer: "conv", request: 2 } });
    await tick();
    expect(projection().dataset.version).toBe("1");
    model.fromPython({ proj_channels: [2], proj_key: { layer: "conv", request: 3 } });
    await tick();
    expect(projection().dataset.channel).toBe("2");
    expect(projection().dataset.version).toBe("2");
    cleanup();
    el.remove();
  });

  test("hostile layer names and errors stay text", async () => {
    window.__pwned = undefined;
    const model = makeModel(state({ layer: PAYLOAD }));
    const { el, cleanup } = mount(model);
    model.fromPython({ status: `error: unknown layer ${PAYLOAD}` });
    await new Promise((r) => setTimeout(r, 50));
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector('[data-testid="status"]').textContent).toContain(PAYLOAD);
    expect(el.textContent).toContain(PAYLOAD);
    expect(window.__pwned).toBeUndefined();
    cleanup();
    el.remove();
  });

  test("ladder and top-k buttons send requests to Python", async () => {
    const model = makeModel(state());
    const { el, cleanup } = mount(model);
    for (const b of el.querySelectorAll("button")) if (/ladder|top 9/.test(b.textContent)) b.click();
    expect(model.sent).toEqual([{ type: "ladder" }, { type: "topk", k: 9 }]);
    cleanup();
    el.remove();
  });
});
