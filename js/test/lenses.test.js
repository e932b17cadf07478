import { describe, expect, test } from "vitest";
import explorer from "../src/explorer.js";
import {
  CHANNEL_TARGET, gradcamPart, heatRGBA, lensPanel, lensTargetPart, occlusionPart, overlayRGBA,
  sanityCaption, sanityPart, targetOptions,
} from "../src/parts/lenses.js";
import { colourTable, TABLE_STEPS } from "../src/lib/colormaps.js";
import { $, bytes, CONTRACT, distinct, makeModel, mountPart, PAYLOAD, tick } from "./model.js";

const H = 4, W = 4;

const ramp = (n, scale = 1) => Array.from({ length: n }, (_, i) => scale * i);

function lensTraits(version = 1) {
  return {
    lenses: bytes([...ramp(H * W), ...ramp(H * W).map((v) => Math.sin(v))]),
    lenses_index: [
      { kind: "gradcam", shape: [H, W], offset: 0, layer: "conv", target: "channel 0" },
      { kind: "guided_gradcam", shape: [H, W, 1], offset: H * W, layer: "conv", target: "channel 0" },
    ],
    lens_version: version,
  };
}

function baseState() {
  return {
    channel: 2, classes: ["circle", "corner", PAYLOAD], lens_target: CHANNEL_TARGET,
    image: bytes(new Array(H * W).fill(0.5)), image_shape: [H, W, 1],
    lenses: bytes([]), lenses_index: [], lens_version: 0,
    occlusion: bytes([]), occlusion_index: [], occlusion_version: 0,
    sanity: bytes([]), sanity_index: [], sanity_version: 0,
    predictions: [], class_synonyms: [], method: "guided",
    faithfulness: bytes([]), faithfulness_index: [], faithfulness_version: 0,
  };
}

describe("lens helpers", () => {
  test("targetOptions: the current channel first, then the classes by name", () => {
    expect(targetOptions(5, ["a", "b"])).toEqual([
      { value: -1, label: "channel 5" }, { value: 0, label: "a" }, { value: 1, label: "b" },
    ]);
    expect(targetOptions(0, undefined)).toEqual([{ value: -1, label: "channel 0" }]);
  });

  test("heatRGBA maps min to the map's first colour and max to its last", () => {
    const table = colourTable("sequential");
    const rgba = heatRGBA(new Float32Array([-3, 1, 5]));
    expect([...rgba.slice(0, 4)]).toEqual([...table.slice(0, 3), 255]);
    const last = (TABLE_STEPS - 1) * 3;
    expect([...rgba.slice(8, 12)]).toEqual([...table.slice(last, last + 3), 255]);
  });

  test("overlayRGBA blends the map with the image; without a matching image it is the map", () => {
    const map = new Float32Array([0, 1, 2, 4]);
    const alone = heatRGBA(map, { min: 0, max: 4 });
    expect(overlayRGBA(map, null, [])).toEqual(alone);
    expect(overlayRGBA(map, new Float32Array(9), [3, 3, 1])).toEqual(alone);
    const white = overlayRGBA(map, new Float32Array(4).fill(1), [2, 2, 1], 0.5);
    for (let k = 0; k < 3; k++) expect(white[k]).toBe(Math.round(0.5 * alone[k] + 0.5 * 255));
    expect(white[3]).toBe(255);
  });

  test("sanityCaption names the randomised layer and rho (the trained model first)", () => {
    expect(sanityCaption({ layer: null, rho: 1 })).toBe("trained · rho 1.00");
    expect(sanityCaption({ layer: "conv3_2", rho: 0.8712 })).toBe("conv3_2 · rho 0.87");
  });
});

describe("lens parts", () => {
  test("the target select lists the channel and the class names as text; a pick is sent", () => {
    window.__pwned = undefined;
    const model = makeModel(baseState());
    const { el, done } = mountPart(lensTargetPart, model);
    const select = $(el, "lens-target");
    expect([...select.options].map((o) => o.textContent)).toEqual(["channel 2", "circle", "corner", PAYLOAD]);
    expect(select.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
    select.value = "1";
    select.dispatchEvent(new Event("change"));
    expect(model.saves.at(-1).lens_target).toBe(1);
    model.fromPython({ channel: 7, lens_target: CHANNEL_TARGET });
    expect(select.options[0].textContent).toBe("channel 7");
    expect(select.value).toBe("-1");
    done();
  });

  test("Grad-CAM and Guided Grad-CAM draw and carry data-version; clearing empties them", () => {
    const model = makeModel(baseState());
    const { el, done } = mountPart(gradcamPart, model);
    const cam = $(el, "gradcam");
    const guided = $(el, "guided-gradcam");
    expect(cam.dataset.version).toBe("0");
    model.fromPython(lensTraits(1));
    expect(cam.dataset.version).toBe("1");
    expect(guided.dataset.version).toBe("1");
    expect([cam.width, cam.height, guided.width]).toEqual([W, H, W]);
    expect(distinct(cam)).toBeGreaterThan(3);
    expect(distinct(guided)).toBeGreaterThan(3);
    expect(el.textContent).toContain("Grad-CAM · channel 0 on conv");
    model.fromPython({ lenses: bytes([]), lenses_index: [], lens_version: 2 });
    expect(cam.dataset.version).toBe("2");
    expect(cam.width).toBe(0);
    done();
  });

  test("occlusion: the button asks Python, maps draw with captions", () => {
    const model = makeModel(baseState());
    const { el, done } = mountPart(occlusionPart, model);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "occlusion map").click();
    expect(model.sent).toEqual([{ type: "occlusion" }]);
    expect(el.querySelector("progress")).toBeNull(); // its progress is the Explorer's job bar
    model.fromPython({
      occlusion: bytes([...ramp(9), ...ramp(9, -1)]),
      occlusion_index: [
        { shape: [3, 3], offset: 0, kind: "channel", target: "channel 2", unoccluded: 10, min: 0, max: 8 },
        { shape: [3, 3], offset: 9, kind: "class", target: `class ${PAYLOAD}`, unoccluded: 1, min: -8, max: 0 },
      ],
      occlusion_version: 1,
    });
    const maps = $(el, "occlusion");
    expect(maps.dataset.version).toBe("1");
    const canvases = maps.querySelectorAll("canvas");
    expect(canvases.length).toBe(2);
    canvases.forEach((c) => expect(distinct(c)).toBeGreaterThan(3));
    expect(maps.textContent).toContain("channel 2");
    expect(maps.textContent).toContain(`class ${PAYLOAD}`);
    expect(maps.querySelector("img")).toBeNull();
    done();
  });

  test("sanity: the strip shows each step with its layer and rho, the trained model first", () => {
    const model = makeModel(baseState());
    const { el, done } = mountPart(sanityPart, model);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "sanity check").click();
    expect(model.sent).toEqual([{ type: "sanity" }]);
    model.fromPython({
      sanity: bytes([...ramp(H * W).map(Math.sin), ...ramp(H * W).map(Math.cos)]),
      sanity_index: [
        { shape: [H, W, 1], offset: 0, layer: null, rho: 1 },
        { shape: [H, W, 1], offset: H * W, layer: "conv", rho: 0.25 },
      ],
      sanity_version: 3,
    });
    const strip = $(el, "sanity");
    expect(strip.dataset.version).toBe("3");
    const captions = [...strip.querySelectorAll(".dw-caption")].map((c) => c.textContent);
    expect(captions).toEqual(["trained · rho 1.00", "conv · rho 0.25"]);
    strip.querySelectorAll("canvas").forEach((c) => expect(distinct(c)).toBeGreaterThan(3));
    done();
  });

  test("the panel's Grad-CAM button sends the lenses request", () => {
    const model = makeModel(baseState());
    const { el, done } = mountPart(lensPanel, model);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "Grad-CAM").click();
    expect(model.sent).toEqual([{ type: "lenses" }]);
    done();
  });
});

describe("explorer with lenses", () => {
  test("the Explorer shows the lens panel with its hooks", async () => {
    const act = ramp(2 * 2 * 4).map((v) => (v % 7) - 2);
    const model = makeModel({
      ...baseState(), ...CONTRACT, status: "", layer: "conv", channel: 0, method: "deconvnet", seed: "activation",
      layers: [{ name: "conv", kind: "Conv2D", output_shape: [2, 2, 4], params: 10, receptive_field: 3, jump: 1 }],
      image_version: 1, activations: bytes(act), act_shape: [2, 2, 4], strongest: [3, 2, 1, 0],
      cache_budget: 2 ** 20, projections: bytes([]), proj_shape: [0], proj_methods: [], proj_channels: [],
      proj_errors: {}, proj_key: {}, image_index: 0, n_images: 1, ladder: bytes([]), ladder_index: [],
      topk: bytes([]), topk_index: [],
    });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = explorer.render({ model, el });
    await tick();
    for (const id of ["lenses", "lens-target", "lens-target-search", "gradcam", "guided-gradcam", "occlusion",
      "faithfulness", "sanity", "top5"]) {
      expect($(el, id), id).not.toBeNull();
    }
    model.fromPython(lensTraits(4));
    expect($(el, "gradcam").dataset.version).toBe("4");
    cleanup();
    el.remove();
  });
});
