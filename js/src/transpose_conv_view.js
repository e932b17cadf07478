// TransposeConvView: conv2d_transpose in four steps, against TensorFlow, and the round trip.
import { clear, h, select, setOptions } from "./lib/dom.js";
import { ensureStyle } from "./lib/style.js";
import { renderStep } from "./lib/step_view.js";
import { formatValue } from "./lib/grid.js";
import { push, watch } from "./lib/widget.js";
import { choicePart, note, numberPart, statusPart, textPart } from "./lib/parts.js";

/** @typedef {import("./lib/traits.js").TransposeConvTraits} Traits */
/** @typedef {import("@anywidget/types").AnyModel<Traits>} Model */

/**
 * A titled step grid.
 * @param {string} title
 * @param {import("./lib/traits.js").StepGrid} grid
 */
function step(title, grid) {
  return renderStep({ ...grid, title });
}

/**
 * The output size pickers: the heights and widths Python offers for the stride and padding.
 * @param {Model} model
 */
function sizePart(model) {
  /** @param {number} axis */
  const pick = (axis) => (/** @type {string} */ v) => {
    const size = [...model.get("output_size")];
    size[axis] = Number.parseInt(v, 10);
    push(model, { output_size: size });
  };
  const rows = select([], "", pick(0), { dataset: { testid: "output-height" } });
  const cols = select([], "", pick(1), { dataset: { testid: "output-width" } });
  const stop = watch(model, ["output_size", "output_sizes"], () => {
    const sizes = model.get("output_sizes") || [[], []];
    const size = model.get("output_size") || [0, 0];
    setOptions(rows, sizes[0] || [], size[0]);
    setOptions(cols, sizes[1] || [], size[1]);
  });
  return { root: h("label", {}, ["output size ", rows, " × ", cols]), stop };
}

/**
 * Render the widget into `el`; returns the cleanup that stops every part.
 * @param {import("@anywidget/types").RenderProps<Traits>} props
 */
function render({ model, el }) {
  ensureStyle();
  const y = textPart(model, "input_text", "y (the forward conv's output)", { rows: 4, cols: 16 });
  const kernel = textPart(model, "kernel_text", "kernel", { rows: 4, cols: 12 });
  const stride = numberPart(model, "stride", "stride ", { min: 1, max: 4 });
  const padding = choicePart(model, "padding", "padding ", ["VALID", "SAME"]);
  const size = sizePart(model);
  const status = statusPart(model);
  const steps = h("div", { class: "dw-row" });
  const compare = h("div", { class: "dw-row" });
  const trip = h("div", { class: "dw-row" });
  const stop = watch(model, ["result"], () => {
    const r = model.get("result");
    if (!r || !r.output) return;
    [steps, compare, trip].forEach(clear);
    const [[top, bottom], [left, right]] = r.pads;
    steps.append(
      step("1. kernel flipped 180°", r.flipped_kernel),
      step("2. stride−1 zeros inserted", r.zero_inserted),
      step(`3. padded (top ${top}, bottom ${bottom}, left ${left}, right ${right})`, r.padded),
      step("4. stride-1 convolution = output", r.output),
    );
    compare.append(
      step("tf.nn.conv2d_transpose", r.tf_output),
      note(`max |four steps − TensorFlow| = ${formatValue(r.max_abs_diff)}`),
    );
    const t = r.roundtrip;
    trip.append(
      step("x (random, the forward conv's input size)", t.x),
      step("conv then transposed conv", t.back),
      step("best any linear way back could do", t.best),
      note(`Round trip: the transposed convolution is the adjoint, not the inverse. `
        + `At best ${formatValue(100 * t.recovered_fraction)}% of x's energy can come back `
        + `(rank ${t.rank} of ${t.dimension}); the plain way back has cosine `
        + `${formatValue(t.cosine)} with x and relative error ${formatValue(t.relative_error)} `
        + `after the best scaling.`),
    );
  });
  el.appendChild(h("div", { class: "dw-root" }, [
    h("div", { class: "dw-controls" }, [y.root, kernel.root,
      h("div", { class: "dw-controls" }, [stride.root, padding.root, size.root])]),
    status.root,
    steps,
    h("details", { open: true }, [h("summary", {}, ["against TensorFlow"]), compare]),
    h("details", { open: true }, [h("summary", {}, ["the round trip"]), trip]),
  ]));
  return () => { [y, kernel, stride, padding, size, status].forEach((p) => p.stop()); stop(); };
}

export default /** @type {import("@anywidget/types").AnyWidget<Traits>} */ ({ render });
