import { describe, expect, test } from "vitest";
import explorer from "../src/explorer.js";
import deconvView from "../src/deconv_view.js";
import channelPicker from "../src/channel_picker.js";
import { bytes, CONTRACT, makeModel, METHODS, PAYLOAD, tick } from "./model.js";
import { PICTURE_MIN, pictureSize } from "../src/lib/parts.js";

const H = 4, W = 4;

/** Projection traits for these channels and methods (values differ per method and channel). */
function projTraits({ layer = "conv", channels = [0], methods = METHODS, image = 1, request = 1, seed = "activation" } = {}) {
  const proj = [];
  methods.forEach((m, mi) => channels.forEach((c) => {
    for (let i = 0; i < H * W; i++) proj.push(Math.sin(i + 10 * c + 100 * mi));
  }));
  return {
    projections: bytes(proj), proj_shape: [methods.length, channels.length, H, W, 1],
    proj_methods: methods, proj_channels: channels, proj_errors: {},
    proj_key: { layer, seed, image, request },
  };
}

function state({ channels = 4, all = true, layer = "conv" } = {}) {
  const h = 2, w = 2;
  const act = Array.from({ length: h * w * channels }, (_, i) => (i % 7) - 2 + (i % channels) * 0.1);
  return {
    ...CONTRACT, status: "", layer, channel: 0, method: "deconvnet", seed: "activation",
    layers: [{ name: layer, kind: "Conv2D", output_shape: [h, w, channels], params: 10, receptive_field: 3, jump: 1 }],
    image: bytes(new Array(H * W).fill(0.5)), image_shape: [H, W, 1], image_version: 1,
    activations: bytes(act), act_shape: [h, w, channels],
    strongest: [...Array(channels).keys()].reverse(), cache_budget: 64 * 2 ** 20,
    ...projTraits({ layer, channels: all ? [...Array(channels).keys()] : [0] }),
    image_index: 0, n_images: 2, ladder: bytes([]), ladder_index: [], topk: bytes([]),
    topk_index: [], jobs: [],
  };
}

/** A "prefetched" message of one (H, W, 1) projection, as Python sends it. */
function prefetch(model, { channel, method = "deconvnet", layer = "conv", seed = "activation", image = 1, value = 1 }) {
  const data = new Float32Array(H * W).map((_, i) => value * (i - 7));
  const backing = new ArrayBuffer(data.byteLength + 4); // a DataView at an offset, like anywidget's
  new Uint8Array(backing, 4).set(new Uint8Array(data.buffer));
  model.fromPythonMessage({ type: "prefetched", layer, seed, image, method, channel, shape: [H, W, 1] },
    [new DataView(backing, 4, data.byteLength)]);
}

function mount(model, module = explorer) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = module.render({ model, el });
  return { el, done: () => { cleanup(); el.remove(); } };
}

/** Click the centre of cell `cell` (in displayed order) using the grid's data-* geometry. */
function clickCell(grid, cell) {
  const { cols, cellWidth, cellHeight, gap } = grid.dataset;
  const [cw, ch, g] = [Number(cellWidth), Number(cellHeight), Number(gap)];
  const col = cell % Number(cols);
  const row = Math.floor(cell / Number(cols));
  const rect = grid.getBoundingClientRect();
  const sx = grid.clientWidth / grid.width;
  const sy = grid.clientHeight / grid.height;
  grid.dispatchEvent(new MouseEvent("click", {
    clientX: rect.left + grid.clientLeft + (g + col * (cw + g) + cw / 2) * sx,
    clientY: rect.top + grid.clientTop + (g + row * (ch + g) + ch / 2) * sy,
    bubbles: true,
  }));
}

const $ = (el, id) => el.querySelector(`[data-testid="${id}"]`);

describe("explorer module", () => {
  test("draws grid and exactly one primary projection with its data attributes", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    await tick();
    const grid = $(el, "channel-grid");
    expect(grid.dataset.layer).toBe("conv");
    expect(grid.dataset.channel).toBe("0");
    const primaries = el.querySelectorAll('[data-testid="projection"]');
    expect(primaries.length).toBe(1);
    expect(primaries[0].dataset.method).toBe("deconvnet");
    expect(primaries[0].dataset.version).toBe("1");
    expect(primaries[0].dataset.pending).toBe("0");
    expect(grid.dataset.prefetched).toBe("4"); // every channel is in the traits
    done();
  });

  test("a click on another cell redraws locally and sends the channel at once", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    await tick();
    clickCell($(el, "channel-grid"), 1);
    expect(model.get("channel")).toBe(1);
    expect(model.saves.at(-1).channel).toBe(1);
    await tick();
    const projection = $(el, "projection");
    expect(projection.dataset.channel).toBe("1");
    expect(projection.dataset.version).toBe("2");
    done();
  });

  test("arrow keys on the focused grid move the channel; every pick is sent at once", async () => {
    const model = makeModel(state({ all: false }));
    const { el, done } = mount(model);
    await tick();
    const grid = $(el, "channel-grid");
    expect(grid.getAttribute("tabindex")).toBe("0");
    // 4 channels in 2 columns: 0 -> 1 -> 2 -> 1 -> (down a row) 3
    for (const key of ["ArrowRight", "ArrowRight", "ArrowLeft", "ArrowDown"]) {
      grid.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    }
    expect(model.get("channel")).toBe(3);
    expect(grid.dataset.channel).toBe("3");
    expect(model.saves.map((s) => s.channel)).toEqual([1, 2, 1, 3]); // no debounce
    done();
  });

  test("Python setting channel and method redraws as a click would", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    await tick();
    model.fromPython({ channel: 3, method: "guided" });
    await tick();
    const projection = $(el, "projection");
    expect(projection.dataset.method).toBe("guided");
    expect(projection.dataset.channel).toBe("3");
    expect(el.querySelectorAll('[data-testid="projection"]').length).toBe(1);
    expect($(el, "channel-grid").dataset.channel).toBe("3");
    done();
  });

  test("a pick without data is pending and says computing; stale results are not drawn", async () => {
    const model = makeModel(state({ all: false }));
    const { el, done } = mount(model);
    await tick();
    const projection = () => $(el, "projection");
    expect(projection().dataset.version).toBe("1");
    clickCell($(el, "channel-grid"), 2);
    await tick();
    expect(projection().dataset.pending).toBe("1");
    expect(projection().dataset.version).toBe("1");
    expect(projection().closest("figure").textContent).toContain("deconvnet · channel 2 · computing…");
    // an old result (for channel 1) arrives late: it must not be drawn
    model.fromPython(projTraits({ channels: [1], request: 2 }));
    await tick();
    expect(projection().dataset.version).toBe("1");
    expect(projection().dataset.pending).toBe("1");
    model.fromPython(projTraits({ channels: [2], request: 3 }));
    await tick();
    expect(projection().dataset.channel).toBe("2");
    expect(projection().dataset.version).toBe("2");
    expect(projection().dataset.pending).toBe("0");
    done();
  });

  test("traits for another image (proj_key.image != image_version) are not drawn", async () => {
    const model = makeModel({ ...state({ all: false }), ...projTraits({ channels: [0], image: 1 }), image_version: 2 });
    const { el, done } = mount(model);
    await tick();
    expect($(el, "projection").dataset.pending).toBe("1");
    expect($(el, "projection").dataset.version).toBeUndefined();
    model.fromPython(projTraits({ channels: [0], image: 2, request: 2 }));
    await tick();
    expect($(el, "projection").dataset.pending).toBe("0");
    expect($(el, "projection").dataset.version).toBe("1");
    model.fromPython(projTraits({ channels: [0], seed: "ones", image: 2, request: 3 })); // another seed
    await tick();
    expect($(el, "projection").dataset.version).toBe("1");
    done();
  });

  test("a subset of methods: the present one is drawn, the others say computing", async () => {
    const model = makeModel({ ...state({ all: false }), method: "guided",
      ...projTraits({ channels: [0], methods: ["guided"] }) });
    const { el, done } = mount(model);
    await tick();
    const primary = $(el, "projection");
    expect(primary.dataset.method).toBe("guided");
    expect(primary.dataset.pending).toBe("0");
    expect(primary.dataset.version).toBe("1");
    const others = model.get("methods").filter((m) => m !== "guided");
    expect(others.length).toBe(model.get("methods").length - 1);
    for (const m of others) {
      const other = $(el, `projection-${m}`);
      expect(other.dataset.pending).toBe("1");
      expect(other.closest("figure").textContent).toContain(`${m} · channel 0 · computing…`);
    }
    model.fromPython(projTraits({ channels: [0], request: 2 })); // the others arrive
    await tick();
    for (const m of others) expect($(el, `projection-${m}`).dataset.pending).toBe("0");
    expect($(el, "projection").dataset.version).toBe("1"); // the primary was already drawn
    done();
  });

  test("an error for a method is its caption; the other methods still draw", async () => {
    for (const failing of CONTRACT.methods.filter((m) => m !== "deconvnet")) {
      const model = makeModel({ ...state(), proj_errors: { [failing]: `cannot pass ${PAYLOAD}` } });
      const { el, done } = mount(model);
      await tick();
      const figure = $(el, `projection-${failing}`).closest("figure");
      expect(figure.textContent).toContain(`${failing}: cannot pass ${PAYLOAD}`);
      expect(figure.querySelector("img")).toBeNull();
      expect($(el, `projection-${failing}`).width).toBe(0); // cleared, not drawn
      expect($(el, "projection").dataset.pending).toBe("0");
      for (const m of model.get("methods").filter((m) => m !== failing && m !== "deconvnet")) {
        expect($(el, `projection-${m}`).width).toBe(H); // the others still draw
      }
      done();
    }
  });

  test("a seed the shown method does not take: its error shows, a click elsewhere still draws", async () => {
    const methods = [...CONTRACT.methods];
    const failing = methods.slice(-2); // e.g. the LRP methods, which take no seed "ones"
    const errors = Object.fromEntries(failing.map((m) => [m, `method '${m}' does not start from seed 'ones'`]));
    const model = makeModel({ ...state(), method: failing[0], seed: "ones",
      ...projTraits({ channels: [0, 1, 2, 3], seed: "ones" }), proj_errors: errors });
    const { el, done } = mount(model);
    await tick();
    const primary = $(el, "projection");
    expect(primary.dataset.method).toBe(failing[0]);
    expect(primary.closest("figure").textContent).toContain(errors[failing[0]]);
    expect(primary.dataset.pending).toBe("0");
    $(el, `projection-${methods[0]}`).click(); // the page stays alive: another method
    expect(model.saves.at(-1).method).toBe(methods[0]);
    await tick();
    expect($(el, "projection").dataset.method).toBe(methods[0]);
    expect($(el, "projection").width).toBe(H);
    done();
  });

  test("Python replacing a method's entry by a configured key: its canvas, menu and click follow", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    await tick();
    const before = model.get("methods");
    const at = before.length - 2;
    const key = `${before[at]}(epsilon=0.1) ${PAYLOAD}`;
    const methods = before.map((m, i) => (i === at ? key : m));
    const kept = $(el, `projection-${before[1]}`); // not the primary (its testid is "projection")
    expect(kept).not.toBeNull();
    model.fromPython({ method: key, methods, ...projTraits({ channels: [0, 1, 2, 3], methods, request: 2 }) });
    await tick();
    const canvases = [...el.querySelectorAll('[data-testid^="projection"]')];
    expect(canvases.map((c) => c.dataset.method)).toEqual(methods);
    expect($(el, "projection").dataset.method).toBe(key);
    expect($(el, "projection").closest("figure").textContent).toContain(key);
    expect($(el, `projection-${before[at]}`)).toBeNull();
    expect($(el, `projection-${before[1]}`)).toBe(kept); // the other canvases stay
    expect([...$(el, "method-select").options].map((o) => o.value)).toEqual(methods);
    expect($(el, "method-select").value).toBe(key);
    $(el, `projection-${before[0]}`).click();
    expect(model.saves.at(-1).method).toBe(before[0]);
    await tick();
    $(el, `projection-${key}`).click(); // the configured one is sent back as its key
    expect(model.saves.at(-1).method).toBe(key);
    expect(el.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("a nested model's outer/inner layer names: layer menu, inspector and grid", async () => {
    const names = ["base/conv1", `base/${PAYLOAD}`, "base"];
    const rows = names.map((name) => ({ name, kind: "Conv2D", output_shape: [2, 2, 4], params: 10,
      receptive_field: 3, jump: 1 }));
    const model = makeModel({ ...state({ layer: "base/conv1" }), layers: rows });
    const { el, done } = mount(model);
    await tick();
    const menu = $(el, "layer-select");
    expect([...menu.options].map((o) => o.value)).toEqual(names);
    expect(menu.value).toBe("base/conv1");
    expect([...$(el, "inspector").querySelectorAll("tbody tr")].map((r) => r.dataset.layer)).toEqual(names);
    expect($(el, "channel-grid").dataset.layer).toBe("base/conv1");
    expect($(el, "projection").dataset.layer).toBe("base/conv1");
    $(el, "inspector").querySelectorAll("tbody tr")[1].click();
    expect(model.saves.at(-1).layer).toBe(`base/${PAYLOAD}`);
    menu.value = "base";
    menu.dispatchEvent(new Event("change"));
    expect(model.saves.at(-1).layer).toBe("base");
    expect(el.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
    done();
    const picker = makeModel({ ...state({ layer: "base/conv1" }), layers: rows });
    const mounted = mount(picker, channelPicker);
    expect([...$(mounted.el, "layer-select").options].map((o) => o.value)).toEqual(names);
    expect($(mounted.el, "channel-grid").dataset.layer).toBe("base/conv1");
    mounted.done();
  });

  test("a prefetched projection draws at once on click, with no request needed", async () => {
    const model = makeModel(state({ channels: 16, all: false }));
    const { el, done } = mount(model);
    await tick();
    const grid = $(el, "channel-grid");
    expect(grid.dataset.prefetched).toBe("1");
    prefetch(model, { channel: 5 });
    prefetch(model, { channel: 7, method: "guided" }); // another method: not counted
    prefetch(model, { channel: 9, image: 0 }); // another image: not counted
    await tick();
    expect(grid.dataset.prefetched).toBe("2");
    const saves = model.saves.length;
    clickCell(grid, 5);
    expect(model.saves.length).toBe(saves + 1); // the pick itself is still sent
    const projection = $(el, "projection");
    expect(projection.dataset.pending).toBe("0"); // drawn synchronously, within the click
    expect(projection.dataset.channel).toBe("5");
    await tick();
    expect(projection.dataset.channel).toBe("5");
    expect(projection.dataset.pending).toBe("0");
    expect(projection.dataset.version).toBe("2");
    expect($(el, "projection-guided").dataset.pending).toBe("1");
    expect(model.sent).toEqual([{ type: "view" }]); // only the render's hello: nothing asked of Python
    // the projections of earlier picks stay in the page: back to 0 draws at once too
    $(el, "channel-input").value = "0";
    $(el, "channel-input").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await tick();
    expect(projection.dataset.channel).toBe("0");
    expect(projection.dataset.pending).toBe("0");
    done();
  });

  test("hook attributes are written only when they change (observers see real changes)", async () => {
    const model = makeModel(state({ channels: 16, all: false }));
    const { el, done } = mount(model);
    await tick();
    const projection = $(el, "projection");
    const records = [];
    new MutationObserver((r) => records.push(...r.map((m) => m.attributeName)))
      .observe(projection, { attributes: true, attributeFilter: ["data-version", "data-pending", "data-channel"] });
    prefetch(model, { channel: 9 }); // not the current channel: nothing to redraw
    model.fromPython({ status: "guided for channel 9…", proj_key: { ...model.get("proj_key"), request: 7 } });
    await tick();
    await tick();
    expect(records).toEqual([]);
    model.fromPython({ channel: 9 });
    await tick();
    expect(records.sort()).toEqual(["data-channel", "data-version"]);
    done();
  });

  test("the prefetch cache keeps within half of cache_budget (least recently used go first)", async () => {
    const model = makeModel({ ...state({ channels: 16, all: false }), cache_budget: 6 * H * W * 4 });
    const { el, done } = mount(model);
    await tick();
    for (const channel of [3, 4, 5, 6]) prefetch(model, { channel });
    await tick();
    const grid = $(el, "channel-grid");
    expect(grid.dataset.prefetched).toBe("4"); // 4, 5, 6 cached + 0 in the traits
    model.fromPython({ channel: 3 });
    await tick();
    expect($(el, "projection").dataset.pending).toBe("1"); // 3 was evicted
    done();
  });

  test("picks kept from the traits never evict what Python prefetched (their own half)", async () => {
    // half the budget: 16 projections, three picks of every method
    const model = makeModel({ ...state({ channels: 16, all: false }), cache_budget: 32 * H * W * 4 });
    const { el, done } = mount(model);
    await tick();
    for (const channel of [3, 4, 5]) prefetch(model, { channel });
    await tick();
    // ten picks published one by one, each copied into the page's cache of earlier picks
    for (const [i, channel] of [7, 8, 9, 10, 11, 12, 13, 14, 15, 1].entries()) {
      model.fromPython({ ...projTraits({ channels: [channel], request: i + 2 }), channel });
      await tick();
    }
    for (const channel of [3, 4, 5]) {
      model.fromPython({ channel });
      expect($(el, "projection").dataset.pending).toBe("0"); // drawn at once, no round trip
    }
    model.fromPython({ channel: 7 }); // the oldest pick: its half was full
    expect($(el, "projection").dataset.pending).toBe("1");
    model.fromPython({ channel: 15 });
    expect($(el, "projection").dataset.pending).toBe("0");
    done();
  });

  test("channel-input: Enter picks like a click; out of range and NaN are ignored", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    await tick();
    const box = $(el, "channel-input");
    expect(box.value).toBe("0");
    expect(box.max).toBe("3");
    box.value = "2";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    box.dispatchEvent(new Event("change")); // Enter's change event: no second send
    expect(model.saves.map((s) => s.channel)).toEqual([2]);
    expect($(el, "channel-grid").dataset.channel).toBe("2");
    for (const bad of ["4", "-1", "", "1.5", "x"]) {
      box.value = bad;
      box.dispatchEvent(new Event("change"));
    }
    expect(model.saves.length).toBe(1);
    expect(model.get("channel")).toBe(2);
    model.fromPython({ channel: 3 });
    box.blur();
    model.fromPython({ channel: 1 });
    expect(box.value).toBe("1");
    done();
  });

  test("order-select strongest: cell i shows strongest[i]; a click on the first cell picks it", async () => {
    const model = makeModel({ ...state(), strongest: [2, 0, 3, 1] });
    const { el, done } = mount(model);
    await tick();
    const grid = $(el, "channel-grid");
    const order = $(el, "order-select");
    expect(order.value).toBe("index");
    order.value = "strongest";
    order.dispatchEvent(new Event("change"));
    expect(grid.dataset.order).toBe("strongest");
    clickCell(grid, 0);
    expect(model.get("channel")).toBe(2);
    expect(model.saves.at(-1).channel).toBe(2);
    grid.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(model.get("channel")).toBe(0); // the neighbouring cell on screen
    model.fromPython({ activations: bytes(new Array(16).fill(1)) }); // a redraw keeps the order
    expect(grid.dataset.order).toBe("strongest");
    clickCell(grid, 3);
    expect(model.get("channel")).toBe(1);
    done();
  });

  test("the grid fits the Explorer's width; the projections panel is sticky above it", async () => {
    const model = makeModel({ ...state({ channels: 512, all: false }),
      activations: bytes(new Array(14 * 14 * 512).fill(0).map((_, i) => i % 13)), act_shape: [14, 14, 512],
      strongest: [...Array(512).keys()] });
    const el = document.createElement("div");
    el.style.width = "360px";
    document.body.appendChild(el);
    const cleanup = explorer.render({ model, el });
    await tick();
    const grid = $(el, "channel-grid");
    const root = el.firstElementChild;
    expect(grid.width).toBeLessThanOrEqual(360);
    expect(grid.getBoundingClientRect().right).toBeLessThanOrEqual(root.getBoundingClientRect().right + 0.5);
    expect(root.scrollWidth).toBeLessThanOrEqual(root.clientWidth);
    const panel = $(el, "selection");
    expect(getComputedStyle(panel).position).toBe("sticky");
    expect(panel.contains($(el, "projection"))).toBe(true);
    expect(panel.compareDocumentPosition(grid) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    clickCell(grid, 511);
    expect(model.get("channel")).toBe(511);
    cleanup();
    el.remove();
  });

  test("the projections stay on screen after scrolling to the end of a 2048-tile grid", async () => {
    // JupyterLab-like: the notebook scrolls; the output area has overflow:auto (CSS sticky
    // alone would stick to it, and it never scrolls)
    const scroller = document.createElement("div");
    Object.assign(scroller.style, { height: "500px", width: "700px", overflowY: "auto" });
    const output = document.createElement("div");
    output.style.overflow = "auto";
    const el = document.createElement("div");
    output.appendChild(el);
    scroller.append(output);
    document.body.appendChild(scroller);
    const model = makeModel({ ...state({ channels: 2048, all: false }),
      activations: bytes(new Array(7 * 7 * 2048).fill(0).map((_, i) => i % 5)), act_shape: [7, 7, 2048],
      strongest: [...Array(2048).keys()] });
    const cleanup = explorer.render({ model, el });
    await tick();
    const grid = $(el, "channel-grid");
    expect(grid.getBoundingClientRect().height).toBeGreaterThan(500);
    scroller.scrollTop = scroller.scrollHeight; // the grid's last rows (and what follows)
    grid.scrollIntoView({ block: "end" });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const top = scroller.getBoundingClientRect().top;
    clickCell(grid, 2047);
    expect(model.get("channel")).toBe(2047);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const box = $(el, "projection").getBoundingClientRect();
    expect(box.top).toBeGreaterThanOrEqual(top - 1);
    expect(box.top + box.height / 2).toBeLessThanOrEqual(scroller.getBoundingClientRect().bottom);
    scroller.scrollTop = 0; // back at the top: the panel is in its place again
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    expect($(el, "selection").style.transform).toBe("");
    cleanup();
    scroller.remove();
  });

  test("in a scroller too short for it (Notebook 7's scrolled output) the panel stays in place", async () => {
    const scroller = document.createElement("div");
    Object.assign(scroller.style, { height: "260px", width: "700px", overflowY: "auto" });
    const el = document.createElement("div");
    scroller.appendChild(el);
    document.body.appendChild(scroller);
    const model = makeModel({ ...state({ channels: 256, all: false }),
      activations: bytes(new Array(7 * 7 * 256).fill(1)), act_shape: [7, 7, 256] });
    const cleanup = explorer.render({ model, el });
    await tick();
    scroller.scrollTop = scroller.scrollHeight;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const panel = $(el, "selection");
    expect(panel.getBoundingClientRect().height * 1.5).toBeGreaterThan(260);
    expect(panel.classList.contains("dw-unstuck")).toBe(true);
    expect(getComputedStyle(panel).position).toBe("static");
    expect(panel.style.transform).toBe("");
    cleanup();
    scroller.remove();
  });

  test("hostile layer names and errors stay text", async () => {
    window.__pwned = undefined;
    const model = makeModel(state({ layer: PAYLOAD }));
    const { el, done } = mount(model);
    model.fromPython({ status: `error: unknown layer ${PAYLOAD}` });
    await new Promise((r) => setTimeout(r, 50));
    expect(el.querySelector("img")).toBeNull();
    expect($(el, "status").textContent).toContain(PAYLOAD);
    expect(el.textContent).toContain(PAYLOAD);
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("rendering says a page shows the widget (Python prefetches only then)", async () => {
    const model = makeModel(state());
    const { done } = mount(model);
    expect(model.sent).toEqual([{ type: "view" }]);
    done();
  });

  test("top-k hits show their source file (an atlas's) as text, else the image number", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    const entry = (offset) => ({ shape: [2, 2, 1], offset });
    model.fromPython({
      topk: bytes([...new Array(16).fill(0.25)]),
      topk_index: [
        { image: 3, source: `cat${PAYLOAD}.png`, y: 0, x: 1, value: 2.5, patch: entry(0), projection: entry(4) },
        { image: 4, y: 1, x: 1, value: 1.5, patch: entry(8), projection: entry(12) },
      ],
    });
    await new Promise((r) => setTimeout(r, 20));
    const text = el.querySelector('[data-testid="topk"]').textContent;
    expect(text).toContain(`#1 cat${PAYLOAD}.png`);
    expect(text).toContain("#2 image 4");
    expect(el.querySelector('[data-testid="topk"] img')).toBeNull();
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("the job bar sits in the sticky panel under the status line; its stop is sent", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    const bar = $(el, "jobs");
    expect(bar.hidden).toBe(true);
    expect($(el, "selection").contains(bar)).toBe(true);
    expect($(el, "status").compareDocumentPosition(bar) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    model.fromPython({ jobs: [{ id: 7, kind: "topk", label: "top 9 of channel 0", done: 3, total: 10, state: "running" }] });
    expect(bar.hidden).toBe(false);
    const row = el.querySelector('[data-testid="job"][data-job-kind="topk"][data-state="running"]');
    expect(row.dataset.jobId).toBe("7");
    row.querySelector('[data-testid="job-stop"]').click();
    expect(model.sent.at(-1)).toEqual({ type: "stop", job: 7 });
    expect(el.querySelectorAll("progress").length).toBe(1); // the job bar's: no other progress bar
    done();
  });

  test("ladder and top-k buttons send requests to Python", async () => {
    const model = makeModel(state());
    const { el, done } = mount(model);
    for (const b of el.querySelectorAll("button")) if (/ladder|top 9/.test(b.textContent)) b.click();
    expect(model.sent).toEqual([{ type: "view" }, { type: "ladder" }, { type: "topk", k: 9 }]);
    done();
  });

  test("the top-k button asks for topk_k hits and says so", async () => {
    const model = makeModel({ ...state(), topk_k: 5 });
    const { el, done } = mount(model);
    const button = [...el.querySelectorAll("button")].find((b) => /top 5 over all images/.test(b.textContent));
    button.click();
    expect(model.sent.at(-1)).toEqual({ type: "topk", k: 5 });
    done();
  });
});

describe("the first picture", () => {
  const frames = (n = 3) => new Promise((r) => {
    const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : r());
    step(n);
  });
  /** The Explorer in a root `width` px wide on an input of `size` x `size` x 3. */
  function mountAt(width, size = H) {
    const model = makeModel({ ...state(), image: bytes(new Array(size * size * 3).fill(0.5)),
      image_shape: [size, size, 3] });
    const el = document.createElement("div");
    el.style.width = `${width}px`;
    document.body.appendChild(el);
    const cleanup = explorer.render({ model, el });
    return { el, model, done: () => { cleanup(); el.remove(); } };
  }
  /** The long side (CSS px, without the border) of each projection canvas and of the input. */
  const sides = (el) => [...el.querySelectorAll('[data-testid^="projection"], [data-testid="input-image"]')]
    .map((c) => Math.max(c.clientWidth, c.clientHeight));

  test("pictureSize: a whole multiple of the input up to a quarter of the width, at least 160", () => {
    expect(pictureSize(1400, 4)).toBe(348);
    expect(pictureSize(1400, 224)).toBe(224);
    expect(pictureSize(2000, 224)).toBe(448);
    expect(pictureSize(800, 224)).toBe(200); // a quarter: smaller than the input
    expect(pictureSize(400, 224)).toBe(PICTURE_MIN);
    expect(pictureSize(1000, 32)).toBe(224);
    expect(pictureSize(300, 28)).toBe(PICTURE_MIN);
    expect(pictureSize(0, 0)).toBe(PICTURE_MIN);
    expect(pictureSize(1000)).toBe(250);
  });

  test("a wide root: each projection and the input a quarter of its width; a narrow one: 160 px", async () => {
    for (const width of [1400, 400]) {
      const { el, done } = mountAt(width);
      await tick();
      const got = sides(el);
      expect(got.length).toBe(METHODS.length + 1);
      const quarter = Math.max(PICTURE_MIN, width / 4);
      for (const side of got) {
        expect(side).toBeGreaterThanOrEqual(PICTURE_MIN);
        expect(side).toBeLessThanOrEqual(quarter);
      }
      if (width > 4 * PICTURE_MIN) expect(Math.min(...got)).toBeGreaterThan(quarter - 8); // the padding
      else expect(got.every((side) => side === PICTURE_MIN)).toBe(true);
      const panel = $(el, "selection");
      expect(panel.contains($(el, "projection"))).toBe(true);
      expect(panel.compareDocumentPosition($(el, "channel-grid")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
      done();
    }
  });

  test("a large input (224) is shown at least at its own size, and follows the root's width", async () => {
    const { el, model, done } = mountAt(1400, 224);
    await tick();
    for (const side of sides(el)) expect(side).toBeGreaterThanOrEqual(224);
    for (const side of sides(el)) expect(side).toBeLessThanOrEqual(1400 / 4);
    el.style.width = "600px"; // narrower: a quarter (150) is under the minimum
    await frames();
    for (const side of sides(el)) expect(side).toBe(PICTURE_MIN);
    el.style.width = "2100px";
    await frames();
    for (const side of sides(el)) expect(side).toBe(448); // twice the input: square pixels
    const log = console.error;
    console.error = () => {}; // the fake model sets image and image_shape one at a time: one redraw fails
    try {
      model.fromPython({ image: bytes(new Array(32 * 32 * 3).fill(0.5)), image_shape: [32, 32, 3], image_version: 2 });
    } finally {
      console.error = log;
    }
    await tick();
    for (const side of sides(el)) expect(side % 32).toBe(0);
    done();
  });
});

describe("deconv view and channel picker", () => {
  test("canvases and choices come from the methods and seeds traits, in their order", async () => {
    for (const module of [deconvView, explorer]) {
      const model = makeModel({ ...state(), methods: ["saliency", "deconvnet"], seeds: ["ones", "activation"] });
      const { el, done } = mount(model, module);
      await tick();
      const canvases = [...el.querySelectorAll('[data-testid^="projection"]')];
      expect(canvases.map((c) => c.dataset.method)).toEqual(["saliency", "deconvnet"]);
      expect($(el, "projection").dataset.method).toBe("deconvnet");
      const options = (id) => [...$(el, id).options].map((o) => o.value);
      expect(options("method-select")).toEqual(["saliency", "deconvnet"]);
      expect(options("seed-select")).toEqual(["ones", "activation"]);
      done();
    }
  });

  test("deconv view draws one channel by the same rules (traits, else pending)", async () => {
    const model = makeModel(state({ all: false }));
    const { el, done } = mount(model, deconvView);
    await tick();
    expect($(el, "projection").dataset.pending).toBe("0");
    model.fromPython({ channel: 2 });
    await tick();
    expect($(el, "projection").dataset.pending).toBe("1");
    model.fromPython(projTraits({ channels: [2], request: 2 }));
    await tick();
    expect($(el, "projection").dataset.channel).toBe("2");
    expect($(el, "projection").dataset.version).toBe("2");
    done();
  });

  test("channel picker: fitted grid, order select, a click sends the channel", async () => {
    const model = makeModel({ ...state(), strongest: [3, 2, 1, 0] });
    const { el, done } = mount(model, channelPicker);
    const grid = $(el, "channel-grid");
    const order = $(el, "order-select");
    order.value = "strongest";
    order.dispatchEvent(new Event("change"));
    clickCell(grid, 0);
    expect(model.saves.at(-1).channel).toBe(3);
    expect(grid.dataset.prefetched).toBeUndefined();
    done();
  });
});
