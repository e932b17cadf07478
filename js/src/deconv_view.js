// DeconvView: one channel's projections (one per method of `methods`) beside the input.
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { inputImagePart, listChoicePart, projectionsPart, statusPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").ProjectionTraits} Traits */

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const method = listChoicePart(model, "method", "method ", "methods");
  const seed = listChoicePart(model, "seed", "seed ", "seeds");
  const input = inputImagePart(model);
  const projections = projectionsPart(model);
  const status = statusPart(model);
  el.appendChild(h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [method.root, seed.root, projections.modeControl]),
    status.root,
    h("div", { class: "dw-row" }, [input.root, projections.root]),
  ]));
  return () => [method, seed, input, projections, status].forEach((p) => p.stop());
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
