// Graph view (SVG): nodes in columns by depth, edges as arrows, edges that pass through
// stop_gradient drawn dashed, and each x's gradient written under its node.
import { clear, svg } from "./dom.js";

/** Depth of every node: the longest path from a node without inputs. */
export function nodeDepths(nodes, edges) {
  const ids = new Set(nodes.map((n) => String(n.id)));
  const inputs = new Map([...ids].map((id) => [id, []]));
  for (const e of edges) {
    if (ids.has(String(e.source)) && ids.has(String(e.target))) inputs.get(String(e.target)).push(String(e.source));
  }
  const depth = new Map();
  const visiting = new Set();
  const visit = (id) => {
    if (depth.has(id)) return depth.get(id);
    if (visiting.has(id)) return 0; // a cycle: should not happen, never loop
    visiting.add(id);
    const d = inputs.get(id).reduce((m, s) => Math.max(m, visit(s) + 1), 0);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const id of ids) visit(id);
  return depth;
}

/** Positions {id: [x, y]} of the nodes, columns by depth, and the drawing's size. */
export function layoutGraph(nodes, edges, options = {}) {
  const colW = options.colWidth ?? 150;
  const rowH = options.rowHeight ?? 70;
  const depth = nodeDepths(nodes, edges);
  const columns = new Map();
  for (const n of nodes) {
    const d = depth.get(String(n.id));
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d).push(String(n.id));
  }
  const pos = {};
  let maxRows = 1;
  for (const [d, ids] of columns) {
    maxRows = Math.max(maxRows, ids.length);
    ids.forEach((id, i) => { pos[id] = [60 + d * colW, 30 + i * rowH]; });
  }
  return { pos, width: 120 + (Math.max(0, ...columns.keys()) ) * colW, height: 40 + maxRows * rowH };
}

/** Draw a graph into a container (replacing its content; none for no nodes); grads: x -> text. */
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
    const attrs = {
      class: e.stop_gradient ? "dw-edge dw-edge-stop" : "dw-edge",
      x1: a[0] + 28, y1: a[1], x2: b[0] - 30, y2: b[1], "marker-end": "url(#dw-arrow)",
      dataset: { source: e.source, target: e.target, stopGradient: e.stop_gradient ? "true" : "false" },
    };
    if (e.stop_gradient) attrs["stroke-dasharray"] = "6 4";
    root.appendChild(svg("line", attrs));
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
