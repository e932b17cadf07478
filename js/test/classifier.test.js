import { describe, expect, test } from "vitest";
import {
  belowFloat32, categoricalColour, categoricalRGBA, classLabel, drawCurves, faithfulnessPart, occlusionCaption,
  percent, predictionsPart, searchClasses, targetSearchPart,
} from "../src/parts/classifier.js";
import { LISTED_CLASSES, lensTargetPart, occlusionPart, targetOptions } from "../src/parts/lenses.js";
import { $, bytes, distinct, makeModel, mountPart, PAYLOAD } from "./model.js";

const NAMES = ["tench", "goldfish", "tabby cat", "tiger cat", "Egyptian Mau", "espresso", PAYLOAD];
const SYNONYMS = ["tench, Tinca tinca", "goldfish, Carassius auratus", "tabby, tabby cat", "tiger cat",
  "Egyptian cat", "espresso", ""];

function state(extra = {}) {
  return {
    classes: NAMES, class_synonyms: SYNONYMS, lens_target: -1, channel: 3, method: "guided",
    predictions: [], occlusion: bytes([]), occlusion_index: [], occlusion_version: 0,
    faithfulness: bytes([]), faithfulness_index: [], faithfulness_version: 0, ...extra,
  };
}

describe("class search", () => {
  test("searchClasses matches names and synonyms, case-insensitive, best first", () => {
    expect(searchClasses("tabby", NAMES, SYNONYMS)).toEqual([{ value: 2, label: "2 tabby cat" }]);
    expect(searchClasses("CAT", NAMES, SYNONYMS).map((m) => m.value)).toEqual([2, 3, 4]);
    expect(searchClasses("cat", NAMES, SYNONYMS, 2).map((m) => m.value)).toEqual([2, 3]);
    expect(searchClasses("tinca", NAMES, SYNONYMS)).toEqual([{ value: 0, label: "0 tench" }]);
    expect(searchClasses("5", NAMES, SYNONYMS)[0]).toEqual({ value: 5, label: "5 espresso" });
    expect(searchClasses("  ", NAMES, SYNONYMS)).toEqual([]);
    expect(searchClasses("gold", NAMES)).toEqual([{ value: 1, label: "1 goldfish" }]);
  });

  test("the search lists matches as text; Enter picks the first, a click picks one", () => {
    window.__pwned = undefined;
    const model = makeModel(state());
    const { el, done } = mountPart(targetSearchPart, model);
    const input = $(el, "lens-target-search");
    input.value = "tabby";
    input.dispatchEvent(new Event("input"));
    const matches = [...$(el, "lens-target-matches").querySelectorAll("button")];
    expect(matches.map((b) => b.textContent)).toEqual(["2 tabby cat"]);
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.saves.at(-1).lens_target).toBe(2);
    input.value = "img";
    input.dispatchEvent(new Event("input"));
    const hostile = $(el, "lens-target-matches").querySelector("button");
    expect(hostile.textContent).toBe(`6 ${PAYLOAD}`);
    expect(el.querySelector("img")).toBeNull();
    hostile.click();
    expect(model.saves.at(-1).lens_target).toBe(6);
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("without classes the search hides", () => {
    const { el, done } = mountPart(targetSearchPart, makeModel(state({ classes: [], class_synonyms: [] })));
    expect(el.firstChild.hidden).toBe(true);
    done();
  });

  test("a long class list: the menu lists the channel, the predictions and the target only", () => {
    const many = Array.from({ length: 1000 }, (_, k) => `class ${k}`);
    expect(targetOptions(1, NAMES).length).toBe(NAMES.length + 1);
    const options = targetOptions(1, many, { current: 281, predictions: [{ class: 285 }, { class: 281 }] });
    expect(options).toEqual([{ value: -1, label: "channel 1" }, { value: 285, label: "285 class 285" },
      { value: 281, label: "281 class 281" }]);
    expect(LISTED_CLASSES).toBeLessThan(1000);
    const model = makeModel(state({ classes: many, lens_target: 7, predictions: [{ class: 3, name: "class 3", probability: 0.5 }] }));
    const { el, done } = mountPart(lensTargetPart, model);
    expect([...$(el, "lens-target").options].map((o) => o.textContent)).toEqual(["channel 3", "3 class 3", "7 class 7"]);
    expect($(el, "lens-target").value).toBe("7");
    done();
  });
});

describe("predictions", () => {
  test("the top-5 lists names and probabilities as text; a click sets the lens target", () => {
    window.__pwned = undefined;
    const model = makeModel(state());
    const { el, done } = mountPart(predictionsPart, model);
    const list = $(el, "top5");
    expect(list.hidden).toBe(true);
    model.fromPython({ predictions: [
      { class: 4, name: "Egyptian Mau", probability: 0.3634 },
      { class: 6, name: PAYLOAD, probability: 0.012 },
      { class: 0, name: "tench", probability: 1e-7 },
    ] });
    expect(list.hidden).toBe(false);
    const items = [...list.querySelectorAll("li")];
    expect(items.map((li) => li.textContent)).toEqual(["Egyptian Mau36%", `${PAYLOAD}1.2%`, "tench<0.1%"]);
    expect(el.querySelector("img")).toBeNull();
    items[0].click();
    expect(model.saves.at(-1).lens_target).toBe(4);
    expect(list.querySelector("li").classList.contains("dw-selected")).toBe(true);
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("percent and classLabel", () => {
    expect([percent(0.97), percent(0.05), percent(0.0004)]).toEqual(["97%", "5.0%", "<0.1%"]);
    expect(classLabel(281, { 281: "tabby cat" })).toBe("281 tabby cat");
  });
});

describe("Fig. 7 occlusion", () => {
  const classes = [{ class: 4, name: "Egyptian Mau", count: 5 }, { class: 6, name: PAYLOAD, count: 4 }];
  const traits = {
    occlusion: bytes([...Array.from({ length: 9 }, (_, i) => i), ...Array.from({ length: 9 }, (_, i) => i / 10),
      4, 4, 6, 4, 6, 6, 4, 4, 6]),
    occlusion_index: [
      { shape: [3, 3], offset: 0, kind: "unit", target: "strongest unit: channel 9 of top", unoccluded: 42, min: 0, max: 8 },
      { shape: [3, 3], offset: 9, kind: "probability", target: "p(Egyptian Mau)", class: 4, unoccluded: 0.36, min: 0, max: 0.8 },
      { shape: [3, 3], offset: 18, kind: "most_probable", target: "most probable class", class: 4, unoccluded: 4,
        min: 4, max: 6, classes },
    ],
    occlusion_version: 2,
  };

  test("three maps, the classes' map in their colours with a legend of name and index", () => {
    window.__pwned = undefined;
    const model = makeModel(state());
    const { el, done } = mountPart(occlusionPart, model);
    model.fromPython(traits);
    const maps = $(el, "occlusion");
    expect(maps.dataset.version).toBe("2");
    const canvases = [...maps.querySelectorAll("canvas")];
    expect(canvases.map((c) => c.dataset.kind)).toEqual(["unit", "probability", "most_probable"]);
    expect(distinct(canvases[0])).toBeGreaterThan(3);
    expect(distinct(canvases[1])).toBeGreaterThan(3);
    expect(distinct(canvases[2])).toBe(2);
    const pixel = [...canvases[2].getContext("2d").getImageData(0, 0, 1, 1).data];
    expect(pixel).toEqual([...categoricalColour(0), 255]);
    const legend = $(el, "occlusion-legend");
    expect([...legend.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["4 Egyptian Mau", `6 ${PAYLOAD}`]);
    const captions = [...maps.querySelectorAll(".dw-caption")].map((c) => c.textContent);
    expect(captions).toEqual(["(b) strongest unit: channel 9 of top · 42 unoccluded",
      "(d) p(Egyptian Mau) · 0.36 unoccluded", "(e) most probable class · Egyptian Mau unoccluded"]);
    expect(el.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("a saturated probability (a spread of float32 rounding) draws flat and says so", () => {
    const model = makeModel(state());
    const { el, done } = mountPart(occlusionPart, model);
    const p = new Float32Array([0.99999976, 0.99999988, 0.99999976, 0.99999988]);
    model.fromPython({
      occlusion: bytes([...p]), occlusion_index: [{
        shape: [2, 2], offset: 0, kind: "probability", target: "p(vertical stripes)", class: 6,
        unoccluded: 0.9999999, min: 0.99999976, max: 0.99999988,
      }], occlusion_version: 3,
    });
    const canvas = $(el, "occlusion").querySelector("canvas");
    expect(canvas.dataset.flat).toBe("true");
    expect(distinct(canvas)).toBe(1);
    expect(canvas.title).toContain("float32");
    expect(belowFloat32({ min: 0, max: 0.8 })).toBe(false);
    expect(belowFloat32({ min: 0.99999976, max: 0.99999988 })).toBe(true);
    expect(belowFloat32({ min: 0, max: 0 })).toBe(true);
    done();
  });

  test("categorical colours are distinct, also past the fixed table", () => {
    const colours = Array.from({ length: 40 }, (_, i) => categoricalColour(i).join(","));
    expect(new Set(colours).size).toBe(40);
    const rgba = categoricalRGBA(new Float32Array([7, 9, 8]), [{ class: 9 }, { class: 7 }]);
    expect([...rgba.slice(0, 3)]).toEqual(categoricalColour(1));
    expect([...rgba.slice(8, 11)]).toEqual([0, 0, 0]); // a class not in the legend
    expect(occlusionCaption({ kind: "channel", target: "channel 2", unoccluded: 1.5 })).toBe("channel 2 · 1.5 unoccluded");
  });
});

describe("faithfulness", () => {
  const steps = 4;
  const fractions = [0, 0.25, 0.5, 0.75, 1];
  const rows = [
    ["guided", "guided backprop", [0.9, 0.5, 0.3, 0.2, 0.1], [0.1, 0.3, 0.6, 0.8, 0.9]],
    ["gradcam", "Grad-CAM", [0.9, 0.3, 0.2, 0.1, 0.1], [0.1, 0.6, 0.8, 0.9, 0.9]],
  ];
  const values = [...fractions, ...rows.flatMap(([, , d, i]) => [...d, ...i])];
  const entry = (offset) => ({ shape: [steps + 1], offset });
  const index = rows.map(([method, label], r) => ({
    method, label, target: "class tabby cat (2)", class: 2, deletion_auc: 0.3 - 0.1 * r, insertion_auc: 0.6 + 0.1 * r,
    fractions: entry(0), deletion: entry(5 + 10 * r), insertion: entry(10 + 10 * r),
  }));
  index.push({ method: "occlusion", label: "occlusion", error: "no" });

  test("the button asks Python; curves of the method on show; the table of every method", () => {
    const model = makeModel(state());
    const { el, done } = mountPart(faithfulnessPart, model);
    [...el.querySelectorAll("button")].find((b) => b.textContent === "faithfulness").click();
    expect(model.sent).toEqual([{ type: "faithfulness" }]);
    const box = $(el, "faithfulness");
    expect(box.hidden).toBe(true);
    model.fromPython({ faithfulness: bytes(values), faithfulness_index: index, faithfulness_version: 1 });
    expect(box.hidden).toBe(false);
    expect(box.dataset.version).toBe("1");
    expect(box.dataset.method).toBe("guided");
    const canvas = $(el, "faithfulness-curves");
    expect(distinct(canvas)).toBeGreaterThan(3);
    const table = $(el, "faithfulness-table");
    const cells = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent));
    expect(cells).toEqual([["guided backprop", "0.300", "0.600"], ["Grad-CAM", "0.200", "0.700"],
      ["occlusion", "cannot explain the class"]]);
    expect(table.querySelectorAll("td.dw-best").length).toBe(2);
    expect(el.textContent).toContain("guided backprop · class tabby cat (2): deletion AUC 0.300");
    table.querySelectorAll("tbody tr")[1].click(); // a row's curves
    expect(box.dataset.method).toBe("gradcam");
    model.fromPython({ method: "saliency" }); // no row: the first one
    expect(box.dataset.method).toBe("guided");
    model.fromPython({ faithfulness: bytes([]), faithfulness_index: [], faithfulness_version: 2 });
    expect(box.hidden).toBe(true);
    expect(box.dataset.version).toBe("2");
    done();
  });

  test("drawCurves draws both colours", () => {
    const canvas = document.createElement("canvas");
    canvas.width = 100;
    canvas.height = 80;
    drawCurves(canvas, [0, 1], [{ data: [1, 0], colour: "#ff0000" }, { data: [0, 1], colour: "#0000ff" }]);
    const data = canvas.getContext("2d").getImageData(0, 0, 100, 80).data;
    let red = 0, blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] > 200 && data[i + 2] < 60) red++;
      if (data[i + 2] > 200 && data[i] < 60) blue++;
    }
    expect(red).toBeGreaterThan(20);
    expect(blue).toBeGreaterThan(20);
  });
});
