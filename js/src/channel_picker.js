// ChannelPicker: a layer's activations as one grid; click or arrow keys pick the channel.
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { gridPart, layerPickerPart, statusPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").ProjectionTraits} Traits */

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const layer = layerPickerPart(model);
  const grid = gridPart(model);
  const status = statusPart(model);
  const root = h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [layer.root, grid.normaliseControl, grid.orderControl,
      grid.channelControl]),
    status.root, grid.root,
  ]);
  el.appendChild(root);
  grid.fitTo(root);
  return () => [layer, grid, status].forEach((p) => p.stop());
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
