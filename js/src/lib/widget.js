// Small helpers around the anywidget model API.

/** Call fn() now and on every change of the named traits; returns an unsubscribe function. */
export function watch(model, names, fn, { now = true } = {}) {
  const handler = () => {
    try {
      fn();
    } catch (err) {
      console.error("deconv-widgets: redraw failed", err);
    }
  };
  for (const name of names) model.on(`change:${name}`, handler);
  if (now) handler();
  return () => {
    for (const name of names) model.off(`change:${name}`, handler);
  };
}

/** Set traits on the model and send them to Python. */
export function push(model, values) {
  for (const [k, v] of Object.entries(values)) model.set(k, v);
  model.save_changes();
}

/** A debounced version of fn (latest call wins after `ms` of quiet). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
