import { afterEach, describe, expect, test } from "vitest";
import explorer from "../src/explorer.js";
import {
  MAX_UPLOAD_BYTES, cameraError, centreCrop, ownImagesPart, rgbaToRGB, tooBigMessage,
} from "../src/parts/images.js";
import { bytes, CONTRACT, makeModel, METHODS, PAYLOAD, tick } from "./model.js";

const $ = (el, id) => el.querySelector(`[data-testid="${id}"]`);

/** The fake model, recording each message's buffers as anywidget's send(content, callbacks, buffers) gets them. */
function recordingModel(initial = {}) {
  const model = makeModel({
    image_shape: [8, 6, 1], image_version: 1, frames: 0, status: "", method: "deconvnet",
    proj_methods: METHODS, proj_key: { layer: "conv", seed: "activation", image: 1, request: 1 },
    ...initial,
  });
  model.messages = [];
  model.send = (msg, _callbacks, buffers = []) => {
    model.sent.push(msg);
    model.messages.push({ msg, buffers });
  };
  return model;
}

const ofType = (model, type) => model.messages.filter((m) => m.msg.type === type);

/** Wait until cond() holds (polling), or fail after `ms`. */
async function until(cond, ms = 3000, what = "condition") {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A camera stand-in: a real MediaStream from a canvas painted in three vertical bands. */
function canvasCamera(width = 40, height = 20) {
  const canvas = document.createElement("canvas");
  Object.assign(canvas, { width, height });
  const streams = [];
  const paint = () => {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgb(255, 0, 0)";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "rgb(0, 255, 0)";
    ctx.fillRect(width / 4, 0, width / 2, height); // the centre half: green
  };
  paint();
  const timer = setInterval(paint, 30); // a captured canvas only yields frames when drawn
  const camera = async () => {
    const stream = canvas.captureStream(30);
    streams.push(stream);
    return stream;
  };
  return { camera, streams, done: () => clearInterval(timer) };
}

const mounted = [];
function mountPart(model, options = {}) {
  const target = document.createElement("figure");
  const part = ownImagesPart(model, { dropTarget: target, ...options });
  const el = document.createElement("div");
  el.append(part.root, target);
  document.body.appendChild(el);
  mounted.push(() => { part.stop(); el.remove(); });
  return { part, target, root: part.root };
}
afterEach(() => { while (mounted.length) mounted.pop()(); });

function fileList(files) {
  const dt = new DataTransfer();
  files.forEach((f) => dt.items.add(f));
  return dt;
}

describe("own images: files", () => {
  test("the picker sends one upload message per file, with its bytes", async () => {
    const model = recordingModel();
    const { root } = mountPart(model);
    const picker = $(root, "image-upload");
    expect(picker.type).toBe("file");
    expect(picker.accept).toBe("image/png,image/jpeg,image/webp");
    expect(picker.multiple).toBe(true);
    const a = new File([new Uint8Array([137, 80, 78, 71, 1, 2])], "a.png", { type: "image/png" });
    const b = new File([new Uint8Array([255, 216, 255, 9])], "b.jpg", { type: "image/jpeg" });
    picker.files = fileList([a, b]).files;
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    await until(() => ofType(model, "upload").length === 2, 3000, "two uploads");
    const [first, second] = ofType(model, "upload");
    expect(first.msg).toEqual({ type: "upload", name: "a.png", size: 6 });
    expect(second.msg).toEqual({ type: "upload", name: "b.jpg", size: 4 });
    expect(first.buffers.length).toBe(1);
    expect([...new Uint8Array(first.buffers[0])]).toEqual([137, 80, 78, 71, 1, 2]);
    expect([...new Uint8Array(second.buffers[0])]).toEqual([255, 216, 255, 9]);
    expect(picker.value).toBe(""); // the same file again is a new change
  });

  test("a 25 MB file is refused in the page: a message with the status text, no bytes", async () => {
    const model = recordingModel();
    const { root } = mountPart(model);
    const big = new File([new Uint8Array(25 * 2 ** 20)], "big.png", { type: "image/png" });
    const small = new File([new Uint8Array([1])], "ok.png", { type: "image/png" });
    const picker = $(root, "image-upload");
    picker.files = fileList([big, small]).files;
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    await until(() => ofType(model, "upload").length === 1, 3000, "the small upload");
    expect(ofType(model, "refused")).toEqual([{ msg: { type: "refused",
      message: "error: big.png: 25.0 MB is above the limit of 20 MB; save a smaller picture" }, buffers: [] }]);
    expect(ofType(model, "upload").map((m) => m.msg.name)).toEqual(["ok.png"]);
    expect(model.messages.every((m) => m.buffers.every((b) => b.byteLength < 1024))).toBe(true);
    expect(tooBigMessage("x.webp", MAX_UPLOAD_BYTES + 1)).toBe(
      "error: x.webp: 20.0 MB is above the limit of 20 MB; save a smaller picture");
    // exactly the limit is allowed
    const model2 = recordingModel();
    const part2 = mountPart(model2).part;
    await part2.upload([new File([new Uint8Array(MAX_UPLOAD_BYTES)], "edge.png")]);
    expect(ofType(model2, "upload").length).toBe(1);
  });

  test("a drop on the input image sends an upload; dragover highlights and is accepted", async () => {
    const model = recordingModel();
    const { target } = mountPart(model);
    const file = new File([new Uint8Array([82, 73, 70, 70])], "dropped.webp", { type: "image/webp" });
    const dt = fileList([file]);
    const over = new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true); // else the browser would open the file
    expect(target.classList.contains("dw-dragover")).toBe(true);
    const drop = new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    expect(target.classList.contains("dw-dragover")).toBe(false);
    await until(() => ofType(model, "upload").length === 1, 3000, "the dropped upload");
    expect(ofType(model, "upload")[0].msg).toEqual({ type: "upload", name: "dropped.webp", size: 4 });
    expect([...new Uint8Array(ofType(model, "upload")[0].buffers[0])]).toEqual([82, 73, 70, 70]);
  });

  test("dragging text (not files) over the input image is left alone", () => {
    const model = recordingModel();
    const { target } = mountPart(model);
    const dt = new DataTransfer();
    dt.setData("text/plain", "hello");
    const over = new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(false);
    expect(target.classList.contains("dw-dragover")).toBe(false);
  });

  test("hostile file names stay text: in messages verbatim, never in the page as HTML", async () => {
    const model = makeModel(explorerState());
    model.messages = [];
    model.send = (msg, _c, buffers = []) => model.messages.push({ msg, buffers });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = explorer.render({ model, el });
    mounted.push(() => { cleanup(); el.remove(); });
    const input = $(el, "input-image").closest("figure");
    const dt = fileList([new File([new Uint8Array([1, 2])], `${PAYLOAD}.png`, { type: "image/png" }),
      new File([new Uint8Array(21 * 2 ** 20)], `${PAYLOAD}.jpg`, { type: "image/jpeg" })]);
    input.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    await until(() => ofType(model, "upload").length === 1 && ofType(model, "refused").length === 1);
    expect(ofType(model, "upload")[0].msg.name).toBe(`${PAYLOAD}.png`);
    const refused = ofType(model, "refused")[0].msg.message;
    expect(refused).toBe(`error: ${PAYLOAD}.jpg: 21.0 MB is above the limit of 20 MB; save a smaller picture`);
    model.fromPython({ status: refused }); // Python puts it in the status line
    await tick();
    const status = $(el, "status");
    expect(status.textContent).toBe(refused);
    expect(status.classList.contains("dw-error")).toBe(true);
    expect(el.querySelectorAll("img").length).toBe(0);
    expect(window.__pwned).toBeUndefined();
  });
});

describe("own images: camera", () => {
  test("centre crop and alpha drop", () => {
    expect(centreCrop(640, 480, 64, 64)).toEqual([80, 0, 480, 480]);
    expect(centreCrop(480, 640, 64, 64)).toEqual([0, 80, 480, 480]);
    expect(centreCrop(640, 480, 224, 112)).toEqual([0, 80, 640, 320]);
    expect([...rgbaToRGB(new Uint8Array([1, 2, 3, 255, 4, 5, 6, 0]))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cameraError(new DOMException("Permission denied", "NotAllowedError")))
      .toBe("camera: permission refused (NotAllowedError: Permission denied)");
    expect(cameraError(new DOMException("Requested device not found", "NotFoundError")))
      .toBe("camera: no camera found (NotFoundError: Requested device not found)");
  });

  test("one frame in flight: the next only after Python answered and the projection is drawn", async () => {
    const model = recordingModel();
    const cam = canvasCamera();
    mounted.push(cam.done);
    const { root } = mountPart(model, { camera: cam.camera, timeoutMs: 60_000 });
    const toggle = $(root, "camera");
    const freeze = $(root, "freeze");
    const frames = () => ofType(model, "frame");
    expect(toggle.dataset.state).toBe("off");
    expect(toggle.textContent).toBe("camera on");
    expect(freeze.disabled).toBe(true);
    toggle.click();
    expect(toggle.dataset.state).toBe("starting");
    await until(() => frames().length === 1, 5000, "the first frame");
    expect(toggle.dataset.state).toBe("on");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect(toggle.textContent).toBe("camera off");
    expect(freeze.disabled).toBe(false);
    expect(ofType(model, "camera").map((m) => m.msg.state)).toEqual(["on"]);
    // the frame: the model's input size (8 x 6), RGB, the centre crop of the 40 x 20 source (green)
    const [{ msg, buffers }] = frames();
    expect(msg).toEqual({ type: "frame", shape: [8, 6, 3] });
    const rgb = new Uint8Array(buffers[0]);
    expect(rgb.length).toBe(8 * 6 * 3);
    for (let i = 0; i < rgb.length; i += 3) {
      expect(rgb[i]).toBeLessThan(40);
      expect(rgb[i + 1]).toBeGreaterThan(215);
    }
    expect(root.dataset.framesSent).toBe("1");
    // Python handled it (frames, new image) but the projection is the old image's: hold
    await sleep(80);
    model.fromPython({ frames: 1, image_version: 2 });
    await sleep(80);
    expect(frames().length).toBe(1);
    // the projection of image 2 arrives: the next frame goes after it is drawn
    model.fromPython({ proj_key: { layer: "conv", seed: "activation", image: 2, request: 2 } });
    expect(frames().length).toBe(1); // not synchronously: after the next animation frame
    await until(() => frames().length === 2, 2000, "the second frame");
    expect(root.dataset.framesDrawn).toBe("1");
    // a refused frame (Python's status says so) also lets the next one go
    await sleep(50);
    expect(frames().length).toBe(2);
    model.fromPython({ frames: 2, status: "error: frame: shape [8, 6, 3] does not match" });
    await until(() => frames().length === 3, 2000, "the third frame");
    // the projection of another method than the shown one does not count
    model.fromPython({ status: "", frames: 3, image_version: 3,
      proj_methods: ["guided"], proj_key: { layer: "conv", seed: "activation", image: 3, request: 3 } });
    await sleep(80);
    expect(frames().length).toBe(3);
    model.fromPython({ proj_methods: METHODS });
    await until(() => frames().length === 4, 2000, "the fourth frame");
    expect(root.dataset.framesSent).toBe("4");
    expect(root.dataset.framesDrawn).toBe("2"); // frames 1 and 3; 2 was refused
    // freeze: Python keeps the last frame sent; the camera stops so that it stays shown
    const [stream] = cam.streams;
    freeze.click();
    expect(ofType(model, "freeze").length).toBe(1);
    expect(toggle.dataset.state).toBe("off");
    expect(freeze.disabled).toBe(true);
    expect(stream.getTracks().every((t) => t.readyState === "ended")).toBe(true);
    expect(root.querySelector("video").srcObject).toBe(null);
    expect(model.messages.at(-1).msg).toEqual({ type: "freeze" }); // Python's status says what it kept
    model.fromPython({ frames: 4, image_version: 4, proj_key: { layer: "conv", seed: "activation", image: 4, request: 4 } });
    await sleep(100);
    expect(frames().length).toBe(4);
  });

  test("the safety timeout sends the next frame when no answer comes", async () => {
    const model = recordingModel();
    const cam = canvasCamera();
    mounted.push(cam.done);
    const { root } = mountPart(model, { camera: cam.camera, timeoutMs: 150 });
    $(root, "camera").click();
    await until(() => ofType(model, "frame").length === 1, 5000, "the first frame");
    const start = performance.now();
    await until(() => ofType(model, "frame").length === 2, 2000, "a frame after the timeout");
    expect(performance.now() - start).toBeGreaterThan(100);
    // off: every track ended, the video has no source, Python is told, no more frames
    const toggle = $(root, "camera");
    toggle.click();
    expect(toggle.dataset.state).toBe("off");
    expect(toggle.textContent).toBe("camera on");
    expect(cam.streams[0].getTracks().every((t) => t.readyState === "ended")).toBe(true);
    expect(root.querySelector("video").srcObject).toBe(null);
    expect(ofType(model, "camera").map((m) => m.msg)).toEqual([
      { type: "camera", state: "on", message: "camera: on" },
      { type: "camera", state: "off", message: "camera: off" }]);
    await sleep(300);
    expect(ofType(model, "frame").length).toBe(2);
    // on again: a new stream, frames again
    toggle.click();
    await until(() => ofType(model, "frame").length === 3, 5000, "a frame after switching on again");
    expect(cam.streams.length).toBe(2);
  });

  test("the view removed while the camera runs releases it", async () => {
    const model = recordingModel();
    const cam = canvasCamera();
    mounted.push(cam.done);
    const target = document.createElement("figure");
    const part = ownImagesPart(model, { dropTarget: target, camera: cam.camera });
    document.body.append(part.root, target);
    $(part.root, "camera").click();
    await until(() => ofType(model, "frame").length === 1, 5000, "the first frame");
    part.stop();
    part.root.remove();
    target.remove();
    expect(cam.streams[0].getTracks().every((t) => t.readyState === "ended")).toBe(true);
    expect(part.root.querySelector("video").srcObject).toBe(null);
    // the drop target no longer listens
    const dt = fileList([new File([new Uint8Array([1])], "late.png")]);
    target.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    await sleep(30);
    expect(ofType(model, "upload").length).toBe(0);
  });

  test("switching off while the camera starts releases the late stream", async () => {
    const model = recordingModel();
    const cam = canvasCamera();
    mounted.push(cam.done);
    let answer;
    const slow = (c) => new Promise((r) => { answer = () => r(cam.camera(c)); });
    const { root } = mountPart(model, { camera: slow });
    const toggle = $(root, "camera");
    toggle.click();
    expect(toggle.dataset.state).toBe("starting");
    toggle.click();
    expect(toggle.dataset.state).toBe("off");
    answer();
    await until(() => cam.streams.length === 1);
    await sleep(50);
    expect(cam.streams[0].getTracks().every((t) => t.readyState === "ended")).toBe(true);
    expect(ofType(model, "frame").length).toBe(0);
    expect(toggle.dataset.state).toBe("off");
  });

  test("permission refused: a camera error message, the toggle back off", async () => {
    const model = recordingModel();
    const refuse = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
    const { root } = mountPart(model, { camera: refuse });
    const toggle = $(root, "camera");
    toggle.click();
    await until(() => ofType(model, "camera").length === 1);
    expect(ofType(model, "camera")[0].msg).toEqual({ type: "camera", state: "error",
      message: "camera: permission refused (NotAllowedError: Permission denied)" });
    expect(toggle.dataset.state).toBe("off");
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    expect($(root, "freeze").disabled).toBe(true);
    expect(ofType(model, "frame").length).toBe(0);
  });

  test("this headless Chromium's own camera (none, or refused) ends as a camera error", async () => {
    const model = recordingModel();
    const { root } = mountPart(model);
    $(root, "camera").click();
    await until(() => ofType(model, "camera").length === 1, 10_000, "the camera's answer");
    const { msg } = ofType(model, "camera")[0];
    expect(msg.state).toBe("error");
    expect(msg.message).toMatch(/^camera: (permission refused|no camera found|could not start) \(/);
    expect($(root, "camera").dataset.state).toBe("off");
  });
});

/** A minimal Explorer state (one 4 x 4 grey image, one 2 x 2 x 2 layer). */
function explorerState() {
  const proj = new Array(3 * 2 * 16).fill(0).map((_, i) => Math.sin(i));
  return {
    ...CONTRACT, status: "", layer: "conv", channel: 0, method: "deconvnet", seed: "activation",
    layers: [{ name: "conv", kind: "Conv2D", output_shape: [2, 2, 2], params: 10, receptive_field: 3, jump: 1 }],
    image: bytes(new Array(16).fill(0.5)), image_shape: [4, 4, 1], image_version: 1, frames: 0,
    activations: bytes([1, 2, 3, 4, 5, 6, 7, 8]), act_shape: [2, 2, 2], strongest: [1, 0],
    cache_budget: 64 * 2 ** 20, projections: bytes(proj), proj_shape: [3, 2, 4, 4, 1],
    proj_methods: METHODS, proj_channels: [0, 1], proj_errors: {},
    proj_key: { layer: "conv", seed: "activation", image: 1, request: 1 },
    image_index: 0, n_images: 2, ladder: bytes([]), ladder_index: [], topk: bytes([]), topk_index: [],
    jobs: [],
  };
}
