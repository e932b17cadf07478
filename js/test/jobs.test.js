import { describe, expect, test } from "vitest";
import { isActive, jobCount, jobsPart } from "../src/parts/jobs.js";
import { occlusionPart, occlusionProgress, sanityPart } from "../src/parts/lenses.js";
import { faithfulnessPart } from "../src/parts/classifier.js";
import { $, bytes, distinct, makeModel, mountPart, PAYLOAD } from "./model.js";

/** A row of the `jobs` trait. */
const job = (id, state, extra = {}) => ({ id, kind: "occlusion", label: `occlusion of channel ${id}`,
  done: 0, total: 64, state, ...extra });

const rows = (el) => [...el.querySelectorAll('[data-testid="job"]')];

describe("job bar", () => {
  test("one row per job with its data attributes, progress, label and done/total; hidden when empty", () => {
    const model = makeModel({ jobs: [] });
    const { el, done } = mountPart(jobsPart, model);
    expect($(el, "jobs").hidden).toBe(true);
    model.fromPython({ jobs: [
      job(1, "done", { kind: "ladder", label: "ladder of channel 3", done: 5, total: 5 }),
      job(2, "running", { done: 12 }),
      job(3, "queued", { kind: "sanity", label: "sanity cascade", total: 0 }),
    ] });
    expect($(el, "jobs").hidden).toBe(false);
    expect(rows(el).map((r) => [r.dataset.jobId, r.dataset.state, r.dataset.jobKind]))
      .toEqual([["1", "done", "ladder"], ["2", "running", "occlusion"], ["3", "queued", "sanity"]]);
    const running = rows(el)[1];
    expect($(running, "job-label").textContent).toBe("occlusion of channel 2");
    expect($(running, "job-count").textContent).toBe("12/64");
    const bar = running.querySelector("progress");
    expect([bar.value, bar.max]).toEqual([12, 64]);
    expect($(rows(el)[2], "job-count").textContent).toBe("0/?");
    expect(rows(el)[0].querySelector("progress").value).toBe(5);
    expect(rows(el)[0].classList.contains("dw-finished")).toBe(true);
    expect($(el, "jobs").dataset.active).toBe("2");
    done();
  });

  test("an unknown total while running is an indeterminate bar", () => {
    const model = makeModel({ jobs: [job(4, "running", { total: 0, done: 3 })] });
    const { el, done } = mountPart(jobsPart, model);
    const bar = rows(el)[0].querySelector("progress");
    expect(bar.hasAttribute("value")).toBe(false);
    expect(bar.matches(":indeterminate")).toBe(true);
    expect($(rows(el)[0], "job-count").textContent).toBe("3/?");
    model.fromPython({ jobs: [job(4, "running", { total: 10, done: 3 })] });
    expect(bar.matches(":indeterminate")).toBe(false);
    expect(bar.value).toBe(3);
    done();
  });

  test("updates on a change of jobs: rows kept by id, updated in place, gone ones removed", () => {
    const model = makeModel({ jobs: [job(1, "running", { done: 1 }), job(2, "queued")] });
    const { el, done } = mountPart(jobsPart, model);
    const [first, second] = rows(el);
    const stop = $(second, "job-stop");
    model.fromPython({ jobs: [job(1, "done", { done: 64 }), job(2, "running", { done: 7 }), job(5, "queued")] });
    expect(rows(el)[0]).toBe(first);
    expect(rows(el)[1]).toBe(second);
    expect($(second, "job-stop")).toBe(stop); // the button under the pointer is not replaced
    expect(first.dataset.state).toBe("done");
    expect($(first, "job-count").textContent).toBe("64/64");
    expect($(second, "job-count").textContent).toBe("7/64");
    expect(rows(el).map((r) => r.dataset.jobId)).toEqual(["1", "2", "5"]);
    model.fromPython({ jobs: [job(2, "running", { done: 8 }), job(5, "queued")] }); // Python trimmed job 1
    expect(rows(el).map((r) => r.dataset.jobId)).toEqual(["2", "5"]);
    expect(first.isConnected).toBe(false);
    model.fromPython({ jobs: [] });
    expect(rows(el)).toEqual([]);
    expect($(el, "jobs").hidden).toBe(true);
    done();
  });

  test("stop sends {type: stop, job: id}; finished rows have it disabled", () => {
    const model = makeModel({ jobs: [job(1, "done"), job(2, "stopped"), job(3, "failed", { error: "x" }),
      job(4, "running"), job(5, "queued")] });
    const { el, done } = mountPart(jobsPart, model);
    const buttons = rows(el).map((r) => $(r, "job-stop"));
    expect(buttons.map((b) => b.disabled)).toEqual([true, true, true, false, false]);
    for (const b of buttons) {
      expect(b.textContent).toBe("stop");
      expect(b.getAttribute("aria-label")).toMatch(/^stop occlusion of channel \d$/);
    }
    buttons[0].click(); // disabled: nothing is sent
    buttons[3].click();
    buttons[4].click();
    expect(model.sent).toEqual([{ type: "stop", job: 4 }, { type: "stop", job: 5 }]);
    expect(buttons[3].disabled).toBe(true); // asked once: "stopping…" until its state changes
    expect(buttons[3].textContent).toBe("stopping…");
    buttons[3].click();
    expect(model.sent.length).toBe(2);
    model.fromPython({ jobs: [job(4, "stopped", { done: 12 })] });
    expect(buttons[3].disabled).toBe(true);
    expect(buttons[3].textContent).toBe("stop");
    expect(rows(el)[0].dataset.state).toBe("stopped");
    expect(isActive(job(1, "queued"))).toBe(true);
    expect(isActive(job(1, "failed"))).toBe(false);
    done();
  });

  test("a failed row shows its error as text; hostile labels stay text", () => {
    window.__pwned = undefined;
    const model = makeModel({ jobs: [job(1, "running", { label: `topk ${PAYLOAD}`, kind: "topk" })] });
    const { el, done } = mountPart(jobsPart, model);
    expect($(el, "job-error").hidden).toBe(true);
    model.fromPython({ jobs: [job(1, "failed", { label: `topk ${PAYLOAD}`, kind: "topk",
      error: `ValueError: bad ${PAYLOAD}` })] });
    const error = $(el, "job-error");
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe(`ValueError: bad ${PAYLOAD}`);
    expect($(el, "job-label").textContent).toBe(`topk ${PAYLOAD}`);
    expect($(el, "job-stop").getAttribute("aria-label")).toBe(`stop topk ${PAYLOAD}`);
    expect(el.querySelector("img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
    done();
  });

  test("jobCount", () => {
    expect(jobCount(job(1, "running", { done: 3, total: 9 }))).toBe("3/9");
    expect(jobCount(job(1, "running", { done: 3, total: 0 }))).toBe("3/?");
  });
});

describe("partial results", () => {
  const lensState = () => ({
    channel: 2, classes: [], lens_target: -1, image: bytes(new Array(16).fill(0.5)), image_shape: [4, 4, 1],
    occlusion: bytes([]), occlusion_index: [], occlusion_version: 0,
    sanity: bytes([]), sanity_index: [], sanity_version: 0,
    predictions: [], class_synonyms: [], method: "guided",
    faithfulness: bytes([]), faithfulness_index: [], faithfulness_version: 0,
  });
  // an 8 x 8 map of which the first 12 positions are computed; the others hold the unoccluded value
  const partialMap = (done) => Array.from({ length: 64 }, (_, i) => (i < done ? i / 4 : 10));
  const occlusionEntry = (done, state) => ({ shape: [8, 8], offset: 0, kind: "channel", target: "channel 2",
    unoccluded: 10, min: 0, max: 10, done, total: 64, state });

  test("occlusion: a running entry draws with done/total, a stopped one says where it stopped", () => {
    const model = makeModel(lensState());
    const { el, done } = mountPart(occlusionPart, model);
    model.fromPython({ occlusion: bytes(partialMap(12)), occlusion_index: [occlusionEntry(12, "running")],
      occlusion_version: 1 });
    const maps = $(el, "occlusion");
    expect(maps.dataset.version).toBe("1");
    expect($(el, "occlusion-progress").textContent).toBe("12/64 positions");
    let canvas = maps.querySelector("canvas");
    expect([canvas.width, canvas.height]).toEqual([8, 8]);
    expect(distinct(canvas)).toBeGreaterThan(3);
    expect([canvas.dataset.done, canvas.dataset.total, canvas.dataset.state]).toEqual(["12", "64", "running"]);
    model.fromPython({ occlusion: bytes(partialMap(20)), occlusion_index: [occlusionEntry(20, "running")],
      occlusion_version: 2 }); // redrawn at each update
    expect($(el, "occlusion-progress").textContent).toBe("20/64 positions");
    expect(maps.querySelector("canvas").dataset.done).toBe("20");
    model.fromPython({ occlusion_index: [occlusionEntry(20, "stopped")], occlusion_version: 3 });
    expect($(el, "occlusion-progress").textContent).toBe("stopped at 20/64");
    expect($(el, "occlusion-progress").dataset.state).toBe("stopped");
    canvas = maps.querySelector("canvas");
    expect(canvas.dataset.state).toBe("stopped");
    expect(distinct(canvas)).toBeGreaterThan(3);
    model.fromPython({ occlusion: bytes(partialMap(64)), occlusion_index: [occlusionEntry(64, "done")],
      occlusion_version: 4 });
    expect($(el, "occlusion-progress").textContent).toBe("64 positions");
    expect(occlusionProgress({})).toBe("");
    done();
  });

  test("occlusion: nothing computed yet, no range, an entry the buffer does not hold yet: no crash", () => {
    const model = makeModel(lensState());
    const { el, done } = mountPart(occlusionPart, model);
    const errors = [];
    const original = console.error;
    console.error = (...args) => errors.push(args);
    try {
      model.fromPython({
        occlusion: bytes(new Array(64).fill(10)),
        occlusion_index: [
          { ...occlusionEntry(0, "running"), min: undefined, max: undefined }, // all unoccluded, no range
          { shape: [8, 8], offset: 64, kind: "probability", target: "p(x)", unoccluded: 1, done: 0, total: 64,
            state: "running" }, // beyond the buffer: not there yet
          null,
        ],
        occlusion_version: 1,
      });
    } finally {
      console.error = original;
    }
    expect(errors).toEqual([]);
    const canvases = $(el, "occlusion").querySelectorAll("canvas");
    expect(canvases.length).toBe(1);
    expect(distinct(canvases[0])).toBe(1);
    expect($(el, "occlusion-progress").textContent).toBe("0/64 positions");
    done();
  });

  test("sanity: the cascade draws the steps there are as they arrive", () => {
    const model = makeModel(lensState());
    const { el, done } = mountPart(sanityPart, model);
    const step = (i) => Array.from({ length: 16 }, (_, k) => Math.sin(k + i));
    model.fromPython({ sanity: bytes(step(0)), sanity_index: [{ shape: [4, 4, 1], offset: 0, layer: null, rho: 1 }],
      sanity_version: 1 });
    expect($(el, "sanity").querySelectorAll("canvas").length).toBe(1);
    model.fromPython({ sanity: bytes([...step(0), ...step(1)]), sanity_index: [
      { shape: [4, 4, 1], offset: 0, layer: null, rho: 1 }, { shape: [4, 4, 1], offset: 16, layer: "conv2", rho: 0.5 },
      { shape: [4, 4, 1], offset: 32, layer: "conv1", rho: 0.1 }, // its array is not there yet
    ], sanity_version: 2 });
    const captions = [...$(el, "sanity").querySelectorAll(".dw-caption")].map((c) => c.textContent);
    expect(captions).toEqual(["trained · rho 1.00", "conv2 · rho 0.50"]);
    expect($(el, "sanity").dataset.version).toBe("2");
    done();
  });

  test("faithfulness: rows arrive method by method; a row clicked stays chosen as more arrive", () => {
    const model = makeModel(lensState());
    const { el, done } = mountPart(faithfulnessPart, model);
    const entry = (offset) => ({ shape: [3], offset });
    const row = (method, r) => ({ method, label: method, target: "class 2", class: 2,
      deletion_auc: 0.3 - 0.1 * r, insertion_auc: 0.5 + 0.1 * r,
      fractions: entry(0), deletion: entry(3 + 6 * r), insertion: entry(6 + 6 * r) });
    const values = (n) => [0, 0.5, 1, ...Array.from({ length: 6 * n }, (_, i) => (i % 3) / 2)];
    model.fromPython({ faithfulness: bytes(values(1)), faithfulness_index: [row("saliency", 0)],
      faithfulness_version: 1 });
    const box = $(el, "faithfulness");
    expect(box.hidden).toBe(false);
    expect(box.dataset.method).toBe("saliency"); // the method on show ("guided") has no row yet
    model.fromPython({ faithfulness: bytes(values(2)), faithfulness_index: [row("saliency", 0), row("deconvnet", 1)],
      faithfulness_version: 2 });
    $(el, "faithfulness-table").querySelectorAll("tbody tr")[1].click();
    expect(box.dataset.method).toBe("deconvnet");
    model.fromPython({ faithfulness: bytes(values(3)),
      faithfulness_index: [row("saliency", 0), row("deconvnet", 1), row("guided", 2)], faithfulness_version: 3 });
    expect(box.dataset.method).toBe("deconvnet");
    expect($(el, "faithfulness-table").querySelectorAll("tbody tr").length).toBe(3);
    model.fromPython({ faithfulness: bytes(values(1)), faithfulness_index: [row("saliency", 0)],
      faithfulness_version: 4 }); // a new run: the method on show again (or the first row)
    expect(box.dataset.method).toBe("saliency");
    done();
  });
});
