// Small helpers around the anywidget model API.

/**
 * Call fn() now and on every change of the named traits; returns an unsubscribe function.
 * @template {Record<string, any>} T
 * @param {import("@anywidget/types").AnyModel<T>} model
 * @param {(keyof T & string)[]} names
 * @param {() => void} fn
 * @param {{ now?: boolean }} [options] now: false waits for the first change
 * @returns {() => void}
 */
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

/**
 * Set traits on the model and send them to Python.
 * @template {Record<string, any>} T
 * @param {import("@anywidget/types").AnyModel<T>} model
 * @param {Partial<T>} values
 */
export function push(model, values) {
  for (const [k, v] of Object.entries(values)) model.set(k, v);
  model.save_changes();
}

/**
 * A debounced version of fn (latest call wins after `ms` of quiet); cancel() drops a pending call.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {((...args: A) => void) & { cancel: () => void }}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @param {A} args */
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  return Object.assign(wrapped, { cancel: () => clearTimeout(timer) });
}
