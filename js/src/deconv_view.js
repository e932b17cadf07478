// DeconvView: one channel's projections (deconvnet, guided, saliency) beside the input.
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { METHODS, SEEDS, choicePart, inputImagePart, projectionsPart, statusPart } from "./lib/parts.js";

function render({ model, el }) {
  ensureStyle();
  const method = choicePart(model, "method", "method ", METHODS);
  const seed = choicePart(model, "seed", "seed ", SEEDS);
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

export default { render };
