// ChannelPicker: a layer's activations as one grid; click or arrow keys pick the channel.
import { h } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { gridPart, layerPickerPart, statusPart } from "./lib/parts.js";

function render({ model, el }) {
  ensureStyle();
  const layer = layerPickerPart(model);
  const grid = gridPart(model, { onDemand: false });
  const status = statusPart(model);
  el.appendChild(h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [layer.root, grid.normaliseControl]), status.root, grid.root,
  ]));
  return () => [layer, grid, status].forEach((p) => p.stop());
}

export default { render };
