// DOM helpers. Text from Python (layer names, programs, errors) only ever enters the page
// through textContent or attribute values: nothing here parses HTML.

/** Create an element: h("div", { class: "x", dataset: { testid: "status" } }, ["text", child]). */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Create an SVG element (namespaced) with attributes and children. */
export function svg(tag, attrs = {}, children = []) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Set attributes, event handlers (on*: functions), style objects and dataset entries. */
export function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, String(v));
    } else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "text") {
      el.textContent = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Append children: strings and numbers become text nodes, arrays are flattened. */
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

/** Replace an element's content by text (never HTML). */
export function setText(el, text) {
  el.textContent = text === undefined || text === null ? "" : String(text);
  return el;
}

/** Set a data-* attribute only when it changes (observers of data-version etc. see real changes). */
export function setData(el, name, value) {
  if (value === undefined || value === null) {
    if (name in el.dataset) delete el.dataset[name];
  } else if (el.dataset[name] !== String(value)) {
    el.dataset[name] = String(value);
  }
}

/** Remove every child of an element. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A <select> whose options are the given values (labels are text). */
export function select(values, current, onChange, attrs = {}) {
  const el = h("select", attrs);
  setOptions(el, values, current);
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

/** A labelled <select> not bound to a trait (display options that live in the page). */
export function localChoice(label, values, current, onChange, attrs = {}) {
  const el = select(values, current, onChange, attrs);
  return h("label", {}, [label, el]);
}

/** Replace the options of a <select>, keeping `current` selected. */
export function setOptions(el, values, current) {
  clear(el);
  for (const v of values) {
    const opt = h("option", { value: String(v) }, [v === "" ? "(none)" : String(v)]);
    if (String(v) === String(current)) opt.selected = true;
    el.appendChild(opt);
  }
  el.value = String(current);
}

const injected = new Set();

/** Inject a <style> element once per document and key (scoped by class prefixes). */
export function injectStyle(key, css) {
  if (injected.has(key) && document.getElementById(`dw-style-${key}`)) return;
  injected.add(key);
  if (document.getElementById(`dw-style-${key}`)) return;
  const style = document.createElement("style");
  style.id = `dw-style-${key}`;
  style.textContent = css;
  document.head.appendChild(style);
}

/** A status line (data-testid="status"); kind "error" colours it. */
export function statusLine() {
  const el = h("div", { class: "dw-status", dataset: { testid: "status" }, role: "status" });
  return el;
}

/** Show a status message; messages starting with "error" or kind "error" are highlighted. */
export function showStatus(el, text, kind) {
  setText(el, text || "");
  const isError = kind === "error" || /^(error|invalid|unknown)\b/i.test(text || "");
  el.classList.toggle("dw-error", isError);
}
