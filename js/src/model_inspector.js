// ModelInspector: the layer table (kind, output shape, params, receptive field, jump).
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { inspectorPart, statusPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").InspectorTraits} Traits */

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const table = inspectorPart(model);
  const status = statusPart(model);
  el.appendChild(h("div", { class: "dw-root" }, [table.root, status.root]));
  return () => { table.stop(); status.stop(); };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
