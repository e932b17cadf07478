// Explorer: the whole DeconvNet app in one anywidget module, composed from lib/parts.js and
// one module per part of the Python Explorer (parts/images, lenses, classifier, search, jobs).
// Layout, top to bottom: the controls; the sticky selection panel (the status line, the job bar
// of parts/jobs.js, the input with its predictions and the selected channel's projections, each
// sized by pictureSize: from its own size up to a quarter of the widget's width, at least 160 px);
// the lenses; the channel grid (the widget's whole width); the layer table; the ladder; top-k.
// Python computes every long request (ladder, top-k, lenses, occlusion, sanity, faithfulness) as a
// job on a worker thread: the job bar shows each with its progress and a stop button, and the
// panels draw the partial results as they arrive.
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { createProjectionSource } from "./lib/projection_source.js";
import { keepInView } from "./lib/sticky.js";
import { lensPanel } from "./parts/lenses.js";
import { predictionsPart } from "./parts/classifier.js";
import { imagePickerPart, ownImagesPart } from "./parts/images.js";
import { jobsPart } from "./parts/jobs.js";
import { ladderPart, topkPart, visualizePart } from "./parts/search.js";
import {
  gridPart, inputImagePart, inspectorPart, layerPickerPart, listChoicePart, projectionsPart,
  statusPart,
} from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").ExplorerTraits} Traits */
/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */
/** @typedef {import("./lib/messages.js").PageMessage} PageMessage */

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const source = createProjectionSource(model);
  const status = statusPart(model);
  const jobs = jobsPart(model);
  const inspector = inspectorPart(model, { selectable: true });
  const layer = layerPickerPart(model);
  const method = listChoicePart(model, "method", "method ", "methods");
  const seed = listChoicePart(model, "seed", "seed ", "seeds");
  const picker = imagePickerPart(model);
  const grid = gridPart(model, { source });
  const input = inputImagePart(model);
  const predictions = predictionsPart(model);
  const own = ownImagesPart(model, { dropTarget: input.root });
  const projections = projectionsPart(model, { source });
  const ladder = ladderPart(model);
  const topk = topkPart(model);
  const wants = visualizePart(model);
  const lenses = lensPanel(model);
  // the selected channel's projections (and the job bar) stay on screen however far down the grid one clicks
  const panel = h("div", { class: "dw-sticky", dataset: { testid: "selection" } }, [
    status.root, jobs.root, h("div", { class: "dw-row" }, [h("div", { class: "dw-col" }, [input.root, predictions.root]),
      projections.root]), grid.grid.readout,
  ]);
  const root = h("div", { class: "dw-root dw-explorer" }, [
    h("div", { class: "dw-controls" }, [layer.root, method.root, seed.root, picker.root, own.root,
      grid.normaliseControl, grid.orderControl, projections.modeControl, grid.channelControl]),
    panel,
    lenses.root,
    grid.root,
    h("details", { open: true }, [h("summary", {}, ["layers"]),
      h("div", { class: "dw-scroll-x" }, [inspector.root])]),
    ladder.root,
    topk.root,
    wants.root,
  ]);
  el.appendChild(root);
  model.send(/** @satisfies {PageMessage} */ ({ type: "view" })); // a page shows the widget: Python may prefetch for it
  grid.fitTo(root);
  projections.fitTo(root, [input.view]); // the first picture: big enough to say something
  const stopPanel = keepInView(panel, root);
  const parts = [status, jobs, inspector, layer, method, seed, picker, own, grid, input, predictions, projections, ladder,
    topk, wants, lenses];
  return () => {
    parts.forEach((p) => p.stop());
    stopPanel();
    source.stop();
  };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
