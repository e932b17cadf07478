// A minimal in-page stand-in for anywidget's model API (get/set/on/off/save_changes/send and
// custom messages from Python), enough to render a widget module and watch what it sends back.
import contract from "./contract.json";

export function makeModel(initial) {
  const state = { ...initial };
  const handlers = new Map();
  const model = {
    saves: [],
    sent: [],
    get: (k) => state[k],
    set(k, v) {
      const changed = state[k] !== v;
      state[k] = v;
      if (changed) for (const fn of handlers.get(`change:${k}`) || []) fn();
    },
    on(event, fn) {
      if (!handlers.has(event)) handlers.set(event, []);
      handlers.get(event).push(fn);
    },
    off(event, fn) {
      handlers.set(event, (handlers.get(event) || []).filter((f) => f !== fn));
    },
    save_changes() {
      model.saves.push({ ...state });
    },
    send(msg) {
      model.sent.push(msg);
    },
    /** Python's side: a custom message (anywidget's "msg:custom": handler(msg, buffers)). */
    fromPythonMessage(msg, buffers = []) {
      for (const fn of handlers.get("msg:custom") || []) fn(msg, buffers);
    },
    /** Python's side: set several traits as one message would. */
    fromPython(values) {
      for (const [k, v] of Object.entries(values)) model.set(k, v);
    },
  };
  return model;
}

/**
 * The read-only traits Python sends every projection widget (topk_k: the Explorer's only), as a
 * new widget sends them: contract.json, which tests/test_js_unit.py checks against Python's
 * traits (so it follows the registry, deconv_widgets.methods.NAMES). The tests read the methods
 * from the model's `methods` trait, as the page does; METHODS and SEEDS are for building one.
 */
export const CONTRACT = Object.freeze({ ...contract });
/** Python's projection methods (the `methods` trait of a new widget), in display order. */
export const METHODS = Object.freeze([...contract.methods]);
/** Python's seeds (the `seeds` trait), in order. */
export const SEEDS = Object.freeze([...contract.seeds]);

export const tick = () => new Promise((r) => setTimeout(r, 0));

/** Text that would run script if it were ever inserted as HTML. */
export const PAYLOAD = "<img src=x onerror=window.__pwned=1>";

/** Packed float32 bytes as anywidget hands them over: a DataView at an offset of a buffer. */
export function bytes(values) {
  const f = new Float32Array(values);
  const backing = new ArrayBuffer(f.byteLength + 8);
  new Uint8Array(backing, 8).set(new Uint8Array(f.buffer));
  return new DataView(backing, 8, f.byteLength);
}

/** The element under `el` with data-testid `id`. */
export const $ = (el, id) => el.querySelector(`[data-testid="${id}"]`);

/** Build a page part on a model and put it in the document; done() stops and removes it. */
export function mountPart(part, model) {
  const built = part(model);
  const el = document.createElement("div");
  el.appendChild(built.root);
  document.body.appendChild(el);
  return { el, built, done: () => { built.stop(); el.remove(); } };
}

/** Distinct RGBA values of a canvas (a drawn map has several). */
export function distinct(canvas) {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4) seen.add(data.slice(i, i + 4).join(","));
  return seen.size;
}
