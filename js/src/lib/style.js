// Shared scoped CSS (class prefix dw-), injected once; JupyterLab --jp-* variables with
// fallbacks so that light and dark themes both read well.
import { injectStyle } from "./dom.js";

const CSS = `
.dw-root { font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px;
  color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color1, transparent);
  display: flex; flex-direction: column; gap: 8px; padding: 4px; }
.dw-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.dw-controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
.dw-controls label { display: inline-flex; gap: 4px; align-items: center; }
.dw-root select, .dw-root input, .dw-root textarea, .dw-root button {
  font: inherit; color: var(--jp-ui-font-color1, #222);
  background: var(--jp-layout-color2, #f3f3f3); border: 1px solid var(--jp-border-color1, #bbb);
  border-radius: 3px; padding: 2px 6px; }
.dw-root button { cursor: pointer; }
.dw-root button:disabled { opacity: 0.5; cursor: default; }
.dw-root textarea { font-family: var(--jp-code-font-family, monospace); }
.dw-status { min-height: 1.3em; color: var(--jp-ui-font-color2, #555); white-space: pre-wrap; }
.dw-status.dw-error { color: var(--jp-error-color1, #c62828); }
.dw-grid, .dw-image { image-rendering: pixelated; display: block;
  border: 1px solid var(--jp-border-color2, #ddd); }
.dw-grid { max-width: 100%; height: auto; box-sizing: border-box; }
.dw-grid-wrap { max-width: 100%; }
.dw-sticky { position: sticky; top: 0; z-index: 5; display: flex; flex-direction: column; gap: 4px;
  background: var(--jp-layout-color1, #fff); padding: 4px 0;
  border-bottom: 1px solid var(--jp-border-color2, #ddd); }
/* one row however many methods: the panel stays low, the grid under it stays clickable */
.dw-sticky.dw-unstuck { position: static; }
.dw-sticky .dw-row { flex-wrap: nowrap; }
.dw-sticky > .dw-row { overflow-x: auto; }
.dw-figure.dw-pending canvas { opacity: 0.35; }
.dw-scroll-x { overflow-x: auto; max-width: 100%; }
.dw-grid:focus { outline: 2px solid var(--jp-brand-color1, #1976d2); outline-offset: 1px; }
.dw-readout { font-family: var(--jp-code-font-family, monospace); font-size: 11px; min-height: 1.3em;
  color: var(--jp-ui-font-color2, #555); }
.dw-figure { margin: 0; display: flex; flex-direction: column; gap: 2px; width: min-content; }
.dw-caption { font-weight: 600; }
.dw-figure.dw-primary .dw-caption { color: var(--jp-brand-color1, #1976d2); }
.dw-figure.dw-primary canvas { border-color: var(--jp-brand-color1, #1976d2); }
.dw-table { border-collapse: collapse; font-size: 12px; }
.dw-table th, .dw-table td { border-bottom: 1px solid var(--jp-border-color2, #ddd);
  padding: 2px 8px; text-align: left; }
.dw-table tr.dw-selected { background: var(--jp-layout-color3, #e3e3e3); }
.dw-table tr[data-layer] { cursor: pointer; }
.dw-code { font-family: var(--jp-code-font-family, monospace); font-size: 12px; white-space: pre;
  background: var(--jp-layout-color2, #f5f5f5); padding: 6px; margin: 0; overflow: auto; }
.dw-note { color: var(--jp-ui-font-color2, #555); max-width: 60em; }
.dw-step { margin: 0; }
.dw-step figcaption { font-size: 12px; font-weight: 600; }
.dw-step-table { border-collapse: collapse; font-family: var(--jp-code-font-family, monospace);
  font-size: 11px; }
.dw-step-table td { border: 1px solid var(--jp-border-color2, #ccc); min-width: 2.6em;
  text-align: right; padding: 1px 3px; color: #111; }
.dw-step-table td.dw-mark-zero { outline: 2px dashed #7b1fa2; outline-offset: -3px; }
.dw-step-table td.dw-mark-pad { background-image: repeating-linear-gradient(45deg,
  rgba(0,0,0,0.18) 0 3px, transparent 3px 6px); }
.dw-step-table td.dw-mark-max { font-weight: 700; outline: 2px solid #ff2d95; outline-offset: -3px; }
.dw-step-canvas { image-rendering: pixelated; }
.dw-graph .dw-edge { stroke: var(--jp-ui-font-color2, #666); stroke-width: 1.5; }
.dw-graph .dw-edge-stop { stroke: var(--jp-error-color1, #c62828); }
.dw-graph .dw-arrowhead { fill: var(--jp-ui-font-color2, #666); }
.dw-graph rect { fill: var(--jp-layout-color2, #eef); stroke: var(--jp-border-color1, #889); }
.dw-graph .dw-node-variable rect { stroke: var(--jp-brand-color1, #1976d2); stroke-width: 2; }
.dw-graph text { fill: var(--jp-ui-font-color1, #222); font-size: 12px;
  font-family: var(--jp-code-font-family, monospace); }
.dw-graph text.dw-grad { fill: var(--jp-brand-color1, #1976d2); font-size: 11px; }
.dw-jobs { margin: 0; padding: 0; list-style: none; display: flex; flex-direction: column; gap: 1px;
  font-size: 11px; }
.dw-job { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.dw-job progress { width: 120px; height: 0.9em; }
.dw-job-label { max-width: 40em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dw-count { font-variant-numeric: tabular-nums; color: var(--jp-ui-font-color2, #555); }
.dw-job-state { color: var(--jp-ui-font-color2, #555); }
.dw-root .dw-job button { font-size: 11px; padding: 0 4px; }
.dw-job.dw-finished { opacity: 0.6; }
.dw-job[data-state="failed"] { opacity: 1; }
.dw-job-error { color: var(--jp-error-color1, #c62828); white-space: pre-wrap; flex-basis: 100%; }
/* the first picture keeps its size: no flex shrink, no host max-width on its canvases */
.dw-sticky .dw-figure { flex: none; }
.dw-sticky .dw-image { max-width: none; }
.dw-gallery { display: flex; flex-wrap: wrap; gap: 6px; }
.dw-strip { display: flex; flex-wrap: wrap; gap: 6px; align-items: flex-end; }
.dw-col { display: flex; flex-direction: column; gap: 2px; }
.dw-top5 { margin: 0; padding: 0; list-style: none; font-size: 11px; width: 160px; }
.dw-top5 li { display: flex; justify-content: space-between; gap: 6px; padding: 0 3px; cursor: pointer;
  background: linear-gradient(90deg, var(--jp-layout-color3, #dde6f3) var(--dw-share, 0%), transparent 0); }
.dw-top5 li.dw-selected { outline: 1px solid var(--jp-brand-color1, #1976d2); }
.dw-top5 .dw-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dw-search { position: relative; display: inline-flex; flex-direction: column; }
.dw-matches { display: flex; flex-wrap: wrap; gap: 3px; max-width: 36em; }
.dw-root button.dw-match { font-size: 11px; padding: 0 4px; }
.dw-legend { margin: 0; padding: 0; list-style: none; font-size: 11px; max-width: 160px; }
.dw-legend li { display: flex; gap: 4px; align-items: center; }
.dw-swatch { display: inline-block; width: 10px; height: 10px; flex: none;
  border: 1px solid var(--jp-border-color2, #999); }
.dw-curves { border: 1px solid var(--jp-border-color2, #ddd); width: 240px; height: 150px; }
.dw-table td.dw-best { font-weight: 700; }
.dw-table tr[data-method] { cursor: pointer; }
`;

/** Inject the shared stylesheet (once per document). */
export function ensureStyle() {
  injectStyle("deconv-widgets", CSS);
}
