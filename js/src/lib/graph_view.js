// Graph view (SVG): nodes in columns by depth, edges as arrows, edges that pass through
// stop_gradient drawn dashed, and each x's gradient written under its node.
import { clear, svg } from "./dom.js";

/** @typedef {import("./traits.js").Graph} Graph */
/** @typedef {NonNullable<Graph["nodes"]>[number]} GraphNode */
/** @typedef {NonNullable<Graph["edges"]>[number]} GraphEdge */

const COL_WIDTH = 150;
const ROW_HEIGHT = 70;

/**
 * Depth of every node: the longest path from a node without inputs.
 * @param {GraphNode[]} nodes
 * @param {GraphEdge[]} edges
 * @returns {Map<string, number>}
 */
export function nodeDepths(nodes, edges) {
  const ids = new Set(nodes.map((n) => String(n.id)));
  /** @type {Map<string, string[]>} */
  const inputs = new Map([...ids].map((id) => [id, []]));
  for (const e of edges) {
    if (ids.has(String(e.source))) inputs.get(String(e.target))?.push(String(e.source));
  }
  /** @type {Map<string, number>} */
  const depth = new Map();
  const visiting = new Set();
  /**
   * @param {string} id
   * @returns {number}
   */
  const visit = (id) => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle: should not happen, never loop
    visiting.add(id);
    const d = (inputs.get(id) ?? []).reduce((m, s) => Math.max(m, visit(s) + 1), 0);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const id of ids) visit(id);
  return depth;
}

/**
 * Positions {id: [x, y]} of the nodes, columns by depth, and the drawing's size.
 * @param {GraphNode[]} nodes
 * @param {GraphEdge[]} edges
 */
function layoutGraph(nodes, edges) {
  const depth = nodeDepths(nodes, edges);
  /** @type {Map<number, string[]>} */
  const columns = new Map();
  for (const n of nodes) {
    const d = depth.get(String(n.id)) ?? 0;
    columns.set(d, [...(columns.get(d) ?? []), String(n.id)]);
  }
  /** @type {Record<string, [number, number]>} */
  const pos = {};
  let maxRows = 1;
  for (const [d, ids] of columns) {
    maxRows = Math.max(maxRows, ids.length);
    ids.forEach((id, i) => { pos[id] = [60 + d * COL_WIDTH, 30 + i * ROW_HEIGHT]; });
  }
  return { pos, width: 120 + Math.max(0, ...columns.keys()) * COL_WIDTH, height: 40 + maxRows * ROW_HEIGHT };
}

/**
 * Draw a graph into a container (replacing its content; none for no nodes); grads: x -> text.
 * @param {Element} container
 * @param {Graph | null | undefined} graph
 * @param {Record<string, string>} [grads]
 * @returns {SVGSVGElement | null}
 */
export function renderGraph(container, graph, grads = {}) {
  clear(container);
  const nodes = graph?.nodes ?? [];
  const edges = graph?.edges ?? [];
  if (!nodes.length) return null;
  const { pos, width, height } = layoutGraph(nodes, edges);
  const root = svg("svg", {
    class: "dw-graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "computation graph",
  });
  const marker = svg("marker", {
    id: "dw-arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6",
    markerHeight: "6", orient: "auto-start-reverse",
  }, [svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "dw-arrowhead" })]);
  root.appendChild(svg("defs", {}, [marker]));
  for (const e of edges) {
    const a = pos[String(e.source)];
    const b = pos[String(e.target)];
    if (!a || !b) continue;
    root.appendChild(svg("line", {
      class: e.stop_gradient ? "dw-edge dw-edge-stop" : "dw-edge",
      x1: a[0] + 28, y1: a[1], x2: b[0] - 30, y2: b[1], "marker-end": "url(#dw-arrow)",
      "stroke-dasharray": e.stop_gradient ? "6 4" : undefined,
      dataset: { source: e.source, target: e.target, stopGradient: e.stop_gradient ? "true" : "false" },
    }));
  }
  for (const n of nodes) {
    const [x, y] = pos[String(n.id)];
    const label = String(n.label ?? n.id);
    const kind = String(n.kind ?? "");
    const g = svg("g", { class: `dw-node dw-node-${kind.replace(/[^a-z_]/gi, "")}`, dataset: { id: n.id } });
    g.appendChild(svg("rect", { x: x - 30, y: y - 14, width: 60, height: 28, rx: 6 }));
    g.appendChild(svg("text", { x, y: y + 4, "text-anchor": "middle" }, [label.length > 9 ? `${label.slice(0, 8)}…` : label]));
    g.appendChild(svg("title", {}, [n.op ? `${label} = ${n.op}` : label]));
    const grad = grads[String(n.id)] ?? grads[label];
    if (grad !== undefined) {
      g.appendChild(svg("text", { x, y: y + 28, "text-anchor": "middle", class: "dw-grad" }, [`∂ = ${grad}`]));
    }
    root.appendChild(g);
  }
  container.appendChild(root);
  return root;
}
