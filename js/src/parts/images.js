// The images part: the image picker, and your own images: a file picker, drag and drop onto
// the input image, a live camera (Python's twin: deconv_widgets/widgets/parts/images.py). Files go to Python as their bytes ("upload"); camera frames are centre-cropped to
// the aspect ratio of the model's input, scaled here to its size (canvas smoothing at "high"
// quality) and sent one at a time as RGB bytes ("frame"): the next goes once the previous
// one's projection is drawn. Python's conversion (image_files.to_model_input) then makes the
// colours (BT.601 grey for a grey model) and, the frame being at the size, crops and resizes
// nothing. Python checks and decodes; it reports in `status` (shown as text by the status
// line; this part never shows a file name itself).
import { context2d, h, injectStyle, setData, setText } from "../lib/dom.js";
import { push, watch } from "../lib/widget.js";

/**
 * The traits own images read: the image's size and version, frames answered, status, projections.
 * @typedef {import("@anywidget/types").AnyModel<import("../lib/traits.js").ProjectionTraits
 *   & import("../lib/traits.js").OwnImagesTraits>} OwnImagesModel
 */
/** @typedef {import("../lib/messages.js").PageMessage} PageMessage */

/** Files above this size are refused in the page and never sent (Python's limit too). */
export const MAX_UPLOAD_BYTES = 20 * 2 ** 20;
const ACCEPT = "image/png,image/jpeg,image/webp";
/** A frame with no answer after this long no longer holds the next one back. */
const FRAME_TIMEOUT_MS = 5000;

const CSS = `
.dw-drop-target.dw-dragover { outline: 2px dashed var(--jp-brand-color1, #1976d2); outline-offset: 2px; }
.dw-own-images button[aria-pressed="true"] { font-weight: bold; }
`;

/**
 * The status text of a file above the limit (the words Python uses).
 * @param {string} name
 * @param {number} size bytes
 * @returns {string}
 */
export function tooBigMessage(name, size) {
  return `error: ${name}: ${(size / 2 ** 20).toFixed(1)} MB is above the limit of 20 MB; save a smaller picture`;
}

/**
 * The centre crop of a width x height source with the aspect ratio of outWidth x outHeight.
 * @param {number} width
 * @param {number} height
 * @param {number} outWidth
 * @param {number} outHeight
 * @returns {[number, number, number, number]} sx, sy, sw, sh
 */
export function centreCrop(width, height, outWidth, outHeight) {
  const aspect = outWidth / outHeight;
  if (width / height > aspect) return [(width - height * aspect) / 2, 0, height * aspect, height];
  return [0, (height - width / aspect) / 2, width, width / aspect];
}

/**
 * RGBA bytes without their alpha.
 * @param {Uint8ClampedArray | Uint8Array} rgba
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function rgbaToRGB(rgba) {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i];
    out[j + 1] = rgba[i + 1];
    out[j + 2] = rgba[i + 2];
  }
  return out;
}

/**
 * The video's current frame, centre-cropped to the aspect ratio of height x width and scaled to
 * it with imageSmoothingQuality "high" (the browser's best filter for a downscale such as
 * 640 x 480 to 64 x 64; the default "low" may be plain bilinear, which aliases), as RGB bytes
 * (row-major).
 * @param {HTMLVideoElement} video
 * @param {HTMLCanvasElement} canvas scratch canvas
 * @param {number} height
 * @param {number} width
 * @returns {Uint8Array<ArrayBuffer>}
 */
function grabFrame(video, canvas, height, width) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = context2d(canvas, { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(video, ...centreCrop(video.videoWidth, video.videoHeight, width, height), 0, 0, width, height);
  return rgbaToRGB(ctx.getImageData(0, 0, width, height).data);
}

/**
 * The status text of a camera that did not start (getUserMedia's error).
 * @param {unknown} err
 * @returns {string}
 */
export function cameraError(err) {
  const e = /** @type {{ name?: unknown, message?: unknown } | null | undefined} */ (err);
  const name = e?.name || "Error";
  const detail = `(${name}: ${e?.message ?? String(err)})`;
  if (name === "NotAllowedError" || name === "SecurityError") return `camera: permission refused ${detail}`;
  if (name === "NotFoundError" || name === "OverconstrainedError") return `camera: no camera found ${detail}`;
  if (name === "NotReadableError") return `camera: busy or unreadable ${detail}`;
  return `camera: could not start ${detail}`;
}

/**
 * The browser's camera, or an error when the page has none (no https, old browser).
 * @param {MediaStreamConstraints} constraints
 * @returns {Promise<MediaStream>}
 */
function browserCamera(constraints) {
  if (!navigator.mediaDevices?.getUserMedia) {
    const err = new Error("this page has no camera access (it needs https or localhost)");
    err.name = "NotSupportedError";
    return Promise.reject(err);
  }
  return navigator.mediaDevices.getUserMedia(constraints);
}

/**
 * Resolve once the video has a frame to draw.
 * @param {HTMLVideoElement} video
 * @returns {Promise<unknown>}
 */
function firstFrame(video) {
  if (video.readyState >= 2 && video.videoWidth) return Promise.resolve();
  return new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
}

/**
 * Make `target` take dropped files (outlined while files are dragged over); returns a stop function.
 * @param {HTMLElement} target
 * @param {(files: File[]) => unknown} upload
 * @returns {() => void}
 */
function acceptDrops(target, upload) {
  /** @param {DragEvent} event */
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  /** @param {DragEvent} event */
  const onDrag = (event) => {
    if (!hasFiles(event) || !event.dataTransfer) return;
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer.dropEffect = "copy";
    target.classList.add("dw-dragover");
  };
  /** @param {DragEvent} event */
  const onLeave = (event) => {
    if (!target.contains(/** @type {Node | null} */ (event.relatedTarget))) target.classList.remove("dw-dragover");
  };
  /** @param {DragEvent} event */
  const onDrop = (event) => {
    target.classList.remove("dw-dragover");
    if (!hasFiles(event) || !event.dataTransfer) return;
    event.preventDefault();
    event.stopPropagation();
    upload([...event.dataTransfer.files]);
  };
  /** @type {[string, (event: DragEvent) => void][]} */
  const drops = [["dragenter", onDrag], ["dragover", onDrag], ["dragleave", onLeave], ["drop", onDrop]];
  target.classList.add("dw-drop-target");
  target.title = "drop PNG, JPEG or WebP pictures here";
  drops.forEach(([name, fn]) => target.addEventListener(name, /** @type {EventListener} */ (fn)));
  return () => drops.forEach(([name, fn]) => target.removeEventListener(name, /** @type {EventListener} */ (fn)));
}

/**
 * The picker, drop target and camera of the Explorer's own images. `camera` stands in for
 * getUserMedia in tests. Hooks: data-frames-sent and data-frames-drawn on the root, data-state
 * ("off", "starting", "on") on the camera button.
 * @param {OwnImagesModel} model
 * @param {{dropTarget?: HTMLElement | null, camera?: (c: MediaStreamConstraints) => Promise<MediaStream>,
 *   timeoutMs?: number}} [options]
 * @returns {{root: HTMLElement, stop: () => void, upload: (files: Iterable<File>) => Promise<void>}}
 */
export function ownImagesPart(model, { dropTarget = null, camera = browserCamera,
  timeoutMs = FRAME_TIMEOUT_MS } = {}) {
  injectStyle("own-images", CSS);
  const picker = h("input", { type: "file", accept: ACCEPT, multiple: true,
    dataset: { testid: "image-upload" } });
  const toggle = h("button", { type: "button", "aria-pressed": "false",
    dataset: { testid: "camera", state: "off" } }, ["camera on"]);
  const freeze = h("button", { type: "button", disabled: true, dataset: { testid: "freeze" },
    title: "keep this frame as an image" }, ["freeze"]);
  const video = h("video", { playsinline: true, muted: true, hidden: true });
  video.muted = true;
  const scratch = document.createElement("canvas");
  const label = h("label", { title: "PNG, JPEG or WebP up to 20 MB; or drop them on the input image" },
    ["your images ", picker]);
  const root = h("span", { class: "dw-controls dw-own-images",
    dataset: { testid: "own-images", framesSent: 0, framesDrawn: 0 } }, [label, toggle, freeze, video]);

  let state = "off";
  /** @type {MediaStream | null} */
  let stream = null;
  let run = 0; // bumped on every start and stop: a late getUserMedia answer sees it is stale
  let sent = 0;
  let drawn = 0; // frames whose projection was drawn (data-frames-drawn)
  let target = 0; // `frames` that answers the frame in flight
  let waiting = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /**
   * Send files one message each, in order; too big ones are refused here.
   * @param {Iterable<File>} files
   */
  async function upload(files) {
    for (const file of files) {
      if (file.size > MAX_UPLOAD_BYTES) {
        model.send(/** @satisfies {PageMessage} */ ({ type: "refused", message: tooBigMessage(file.name, file.size) }));
        continue;
      }
      let bytes;
      try {
        bytes = await file.arrayBuffer();
      } catch (err) {
        const message = `error: ${file.name}: could not be read (${/** @type {Error} */ (err)?.name ?? err})`;
        model.send(/** @satisfies {PageMessage} */ ({ type: "refused", message }));
        continue;
      }
      const message = /** @satisfies {PageMessage} */ ({ type: "upload", name: file.name, size: file.size });
      model.send(message, undefined, [bytes]);
    }
  }

  /**
   * Show the camera's state ("off", "starting", "on") on its buttons.
   * @param {string} next
   */
  function setState(next) {
    state = next;
    setData(toggle, "state", next);
    toggle.setAttribute("aria-pressed", String(next !== "off"));
    toggle.textContent = next === "off" ? "camera on" : "camera off";
    freeze.disabled = next !== "on";
  }

  /** Python's answer to the frame in flight: "drawn" (its projection is shown), "refused" or null. */
  function answered() {
    if ((model.get("frames") ?? 0) < target) return null;
    if (/^error/.test(model.get("status") || "")) return "refused";
    const key = model.get("proj_key") || {};
    const methods = model.get("proj_methods") || [];
    return key.image === model.get("image_version") && methods.includes(model.get("method")) ? "drawn" : null;
  }

  /** Send the video's current frame (or try again soon when there is none yet). */
  function sendFrame() {
    clearTimeout(timer);
    if (state !== "on") return;
    const [height, width] = model.get("image_shape") || [];
    if (!(height > 0 && width > 0 && video.videoWidth)) {
      timer = setTimeout(sendFrame, 100); // no size or no picture yet
      return;
    }
    const rgb = grabFrame(video, scratch, height, width);
    target = Math.max(target, model.get("frames") ?? 0) + 1;
    waiting = true;
    model.send(/** @satisfies {PageMessage} */ ({ type: "frame", shape: [height, width, 3] }), undefined, [rgb.buffer]);
    sent += 1;
    setData(root, "framesSent", sent);
    timer = setTimeout(sendFrame, timeoutMs); // never stall on a lost answer
  }

  let queued = false;
  function check() { // after the current microtasks: every trait of one update is set by then
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; next(); });
  }
  /** On Python's answer to the frame in flight, send the next one once the page has drawn. */
  function next() {
    const answer = state === "on" && waiting ? answered() : null;
    if (!answer) return;
    waiting = false;
    const mine = run;
    requestAnimationFrame(() => { // drawn by then
      if (run !== mine || waiting) return;
      if (answer === "drawn") setData(root, "framesDrawn", ++drawn);
      sendFrame();
    });
  }

  /**
   * Stop every track of a stream.
   * @param {MediaStream | null} media
   */
  function release(media) {
    media?.getTracks().forEach((track) => track.stop());
  }

  /** Switch the camera off (notify: tell Python when it was on). */
  function stopCamera(notify = true) {
    const was = state;
    run += 1;
    clearTimeout(timer);
    waiting = false;
    release(stream);
    stream = null;
    video.pause();
    video.srcObject = null;
    setState("off");
    if (notify && was !== "off") {
      model.send(/** @satisfies {PageMessage} */ ({ type: "camera", state: "off", message: "camera: off" }));
    }
  }

  /** Switch the camera on and start sending frames; Python hears how it went. */
  async function startCamera() {
    const mine = ++run;
    setState("starting");
    let media = null;
    try {
      media = await camera({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (mine !== run) return release(media); // switched off meanwhile
      stream = media;
      video.srcObject = media;
      await video.play();
      await firstFrame(video);
    } catch (err) {
      if (mine !== run) return release(media);
      stopCamera(false);
      model.send(/** @satisfies {PageMessage} */ ({ type: "camera", state: "error", message: cameraError(err) }));
      return;
    }
    if (mine !== run || !media) return;
    media.getVideoTracks().forEach((track) => track.addEventListener("ended", () => {
      if (stream !== media) return; // the camera went away (unplugged, revoked)
      stopCamera(false);
      const message = "camera: the camera stopped (ended)";
      model.send(/** @satisfies {PageMessage} */ ({ type: "camera", state: "error", message }));
    }));
    setState("on");
    model.send(/** @satisfies {PageMessage} */ ({ type: "camera", state: "on", message: "camera: on" }));
    target = model.get("frames") ?? 0;
    sendFrame();
  }

  picker.addEventListener("change", () => {
    const files = [...(picker.files || [])];
    picker.value = ""; // the same file again is a new change
    upload(files);
  });
  toggle.addEventListener("click", () => (state === "off" ? startCamera() : stopCamera()));
  freeze.addEventListener("click", () => { // keep the last frame sent: it stays shown, the camera stops
    if (state !== "on") return;
    stopCamera(false);
    model.send(/** @satisfies {PageMessage} */ ({ type: "freeze" }));
  });

  const stopDrops = dropTarget ? acceptDrops(dropTarget, upload) : () => {};

  const stopWatch = watch(model, ["frames", "proj_key", "proj_methods", "image_version", "method", "status"],
    check, { now: false });
  return {
    root,
    upload,
    stop() {
      stopWatch();
      stopCamera();
      stopDrops();
    },
  };
}

/**
 * The image picker: the image's number, previous and next.
 * @param {import("@anywidget/types").AnyModel<import("../lib/traits.js").ExplorerTraits>} model
 */
export function imagePickerPart(model) {
  const input = h("input", { type: "number", min: "0", step: "1", style: { width: "4em" },
    dataset: { testid: "image-index" } });
  const count = h("span", {}, [""]);
  /** @param {number} i */
  const go = (i) => push(model, { image_index: i });
  input.addEventListener("change", () => go(Number.parseInt(input.value, 10)));
  const prev = h("button", { onclick: () => go(model.get("image_index") - 1) }, ["◀"]);
  const next = h("button", { onclick: () => go(model.get("image_index") + 1) }, ["▶"]);
  const stop = watch(model, ["image_index", "n_images"], () => {
    const n = model.get("n_images");
    input.value = String(model.get("image_index"));
    input.max = String(Math.max(0, n - 1));
    setText(count, `of ${n}`);
    prev.disabled = model.get("image_index") <= 0;
    next.disabled = model.get("image_index") >= n - 1;
  });
  return { root: h("label", {}, ["image ", prev, input, next, count]), stop };
}
