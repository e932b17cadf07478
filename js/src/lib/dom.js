// DOM helpers. Text from Python (layer names, programs, errors) only ever enters the page
// through textContent or attribute values: nothing here parses HTML.

/** @typedef {string | number | Node | null | undefined | false} Child text (a text node) or a node */
/** @typedef {Child | readonly Child[]} Children one child or a list (nested lists are flattened) */
/** @typedef {Record<string, unknown>} Attrs attributes, on* handlers, style and dataset objects */

/**
 * Create an element: h("div", { class: "x", dataset: { testid: "status" } }, ["text", child]).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {Children} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * Create an SVG element (namespaced) with attributes and children.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {Children} [children]
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs = {}, children = []) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * Set attributes, event handlers (on*: functions), style objects and dataset entries.
 * @param {HTMLElement | SVGElement} el
 * @param {Attrs} attrs
 */
function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, String(v));
    } else if (key === "dataset" && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/**
 * Append children: strings and numbers become text nodes, arrays are flattened.
 * @template {Node} E
 * @param {E} el
 * @param {Children | readonly Children[]} children
 * @returns {E}
 */
export function append(el, children) {
  const list = Array.isArray(children) ? children : [children];
  for (const child of list) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Replace an element's content by text (never HTML).
 * @template {Node} E
 * @param {E} el
 * @param {unknown} text
 * @returns {E}
 */
export function setText(el, text) {
  el.textContent = text === undefined || text === null ? "" : String(text);
  return el;
}

/**
 * Set a data-* attribute only when it changes (observers of data-version etc. see real changes).
 * @param {HTMLElement | SVGElement} el
 * @param {string} name
 * @param {string | number | boolean | null | undefined} value
 */
export function setData(el, name, value) {
  if (value === undefined || value === null) {
    if (name in el.dataset) delete el.dataset[name];
  } else if (el.dataset[name] !== String(value)) {
    el.dataset[name] = String(value);
  }
}

/**
 * Remove every child of an element.
 * @template {Node} E
 * @param {E} el
 * @returns {E}
 */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/**
 * A <select> whose options are the given values (labels are text).
 * @param {readonly unknown[]} values
 * @param {unknown} current
 * @param {(value: string) => void} onChange
 * @param {Attrs} [attrs]
 */
export function select(values, current, onChange, attrs = {}) {
  const el = h("select", attrs);
  setOptions(el, values, current);
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

/**
 * A labelled <select> not bound to a trait (display options that live in the page).
 * @param {string} label
 * @param {readonly unknown[]} values
 * @param {unknown} current
 * @param {(value: string) => void} onChange
 * @param {Attrs} [attrs]
 */
export function localChoice(label, values, current, onChange, attrs = {}) {
  const el = select(values, current, onChange, attrs);
  return h("label", {}, [label, el]);
}

/**
 * Replace the options of a <select>, keeping `current` selected.
 * @param {HTMLSelectElement} el
 * @param {readonly unknown[]} values
 * @param {unknown} current
 */
export function setOptions(el, values, current) {
  clear(el);
  for (const v of values) {
    const opt = h("option", { value: String(v) }, [v === "" ? "(none)" : String(v)]);
    if (String(v) === String(current)) opt.selected = true;
    el.appendChild(opt);
  }
  el.value = String(current);
}

/**
 * The 2D context of a canvas (throws if the canvas already has another kind of context).
 * @param {HTMLCanvasElement} canvas
 * @param {CanvasRenderingContext2DSettings} [settings]
 * @returns {CanvasRenderingContext2D}
 */
export function context2d(canvas, settings) {
  const ctx = canvas.getContext("2d", settings);
  if (!ctx) throw new Error("deconv-widgets: this canvas has no 2D context");
  return ctx;
}

const injected = new Set();

/**
 * Inject a <style> element once per document and key (scoped by class prefixes).
 * @param {string} key
 * @param {string} css
 */
export function injectStyle(key, css) {
  if (injected.has(key) && document.getElementById(`dw-style-${key}`)) return;
  injected.add(key);
  if (document.getElementById(`dw-style-${key}`)) return;
  const style = document.createElement("style");
  style.id = `dw-style-${key}`;
  style.textContent = css;
  document.head.appendChild(style);
}

/** A status line (data-testid="status") for showStatus. */
export function statusLine() {
  return h("div", { class: "dw-status", dataset: { testid: "status" }, role: "status" });
}

/**
 * Show a status message; messages starting with "error" or kind "error" are highlighted.
 * @param {HTMLElement} el
 * @param {string | null | undefined} text
 * @param {string} [kind]
 */
export function showStatus(el, text, kind) {
  setText(el, text || "");
  const isError = kind === "error" || /^(error|invalid|unknown)\b/i.test(text || "");
  el.classList.toggle("dw-error", isError);
}
