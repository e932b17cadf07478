// Keep a panel on screen while its root is: CSS `position: sticky` does it in a plain page, but
// an ancestor with overflow other than visible (JupyterLab's output area, Lumino widgets) makes
// that ancestor the sticky container, and it never scrolls. So, on scroll, the panel is also
// shifted by a transform to the top of the visible region (the deepest clipping ancestor's top).
// In a region less than 1.5 times the panel's height (Notebook 7's scrolled output box) a stuck
// panel would cover the rest of the widget: there it stays in place ("dw-unstuck").

/**
 * The visible region (viewport px): `top`, the largest top edge of el's clipping ancestors (the
 * panel's place while stuck); `height`, the height of the viewport and of every ancestor that
 * actually scrolls, whichever is least (the room the widget is seen through).
 * @param {HTMLElement} el
 */
export function visibleRegion(el) {
  let top = 0;
  let height = window.innerHeight;
  for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
    if (getComputedStyle(a).overflowY === "visible") continue;
    const rect = a.getBoundingClientRect();
    top = Math.max(top, rect.top);
    if (a.scrollHeight > a.clientHeight + 1) height = Math.min(height, a.clientHeight);
  }
  return { top, height };
}

/**
 * Keep `panel` (a sticky child of `root`) in view while scrolling; returns a stop function.
 * @param {HTMLElement} panel
 * @param {HTMLElement} root
 * @returns {() => void}
 */
export function keepInView(panel, root) {
  let frame = 0;
  let shift = 0;
  const update = () => {
    frame = 0;
    if (!root.isConnected) return;
    const { top, height } = visibleRegion(root);
    const rect = panel.getBoundingClientRect();
    const unstuck = height < 1.5 * rect.height;
    panel.classList.toggle("dw-unstuck", unstuck);
    if (unstuck) {
      shift = 0;
      panel.style.transform = "";
      return;
    }
    const natural = rect.top - shift;
    const room = root.getBoundingClientRect().bottom - rect.height - natural;
    const want = Math.max(0, Math.min(top - natural, room));
    if (Math.abs(want - shift) < 0.5) return;
    shift = want;
    panel.style.transform = want ? `translateY(${Math.round(want)}px)` : "";
  };
  const later = () => { if (!frame) frame = requestAnimationFrame(update); };
  document.addEventListener("scroll", later, { capture: true, passive: true });
  window.addEventListener("resize", later, { passive: true });
  const resized = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(later);
  resized?.observe(panel);
  resized?.observe(root);
  return () => {
    resized?.disconnect();
    document.removeEventListener("scroll", later, { capture: true });
    window.removeEventListener("resize", later);
    cancelAnimationFrame(frame);
  };
}
