// Where the page finds a projection for the current pick (layer, seed, image_version, channel)
// and a method: the `projections` traits when proj_key matches that context and holds the
// channel and the method; else the page's LRU caches of projections Python prefetched
// ("prefetched" custom messages) and published earlier (half of cache_budget each); else
// nothing (pending). The page decides nothing else: Python chooses what to compute and drops
// stale picks itself.
import { shapeSize, toFloat32, toFloat32Shaped } from "./buffers.js";
import { createLRU } from "./cache.js";
import { watch } from "./widget.js";

/** @typedef {import("@anywidget/types").AnyModel<import("./traits.js").ProjectionTraits>} ProjectionModel */
/** @typedef {{ data: Float32Array, shape: number[] }} Projection an (H, W, C) projection */
/**
 * What lookup finds: a projection (and where from), Python's error for the method, or null.
 * @typedef {(Projection & { from: "traits" | "cache", error?: undefined })
 *   | { error: string, data?: undefined } | null} Found
 */
/** @typedef {import("./messages.js").PrefetchedMessage} PrefetchMessage a "prefetched" message (one float32 buffer) */

const DEFAULT_CACHE_BUDGET = 64 * 2 ** 20;
// Published results of at most this many channels are copied into the cache as well, so that
// going back to an earlier channel of a big layer needs no round trip.
const KEEP_PUBLISHED = 4;

/**
 * Cache key of one projection.
 * @param {string | undefined} layer
 * @param {string | undefined} seed
 * @param {number | undefined} image
 * @param {string} method
 * @param {number} channel
 */
function projectionKey(layer, seed, image, method, channel) {
  return JSON.stringify([layer, seed, image, method, channel]);
}

/**
 * The current context: { layer, seed, image (image_version), channel }.
 * @param {ProjectionModel} model
 */
function currentPick(model) {
  return { layer: model.get("layer"), seed: model.get("seed"), image: model.get("image_version"),
    channel: model.get("channel") };
}

/**
 * True when proj_key describes the current layer, seed and image.
 * @param {ProjectionModel} model
 */
function traitsMatch(model) {
  const key = model.get("proj_key") || {};
  const pick = currentPick(model);
  return key.layer === pick.layer && key.seed === pick.seed && key.image === pick.image;
}

/**
 * A projection source bound to a model (listens for "prefetched" messages); stop() detaches.
 * @param {ProjectionModel} model
 */
export function createProjectionSource(model) {
  /** @type {Map<string, Set<number>>} projectionKey without channel -> the channels held */
  const byContext = new Map();
  /**
   * @param {string | undefined} layer
   * @param {string | undefined} seed
   * @param {number | undefined} image
   * @param {string} method
   */
  const contextKey = (layer, seed, image, method) => JSON.stringify([layer, seed, image, method]);
  const half = () => (model.get("cache_budget") ?? DEFAULT_CACHE_BUDGET) / 2;
  /** @typedef {Projection & { context: string, channel: number }} Entry */
  /** @type {ReturnType<typeof createLRU<string, Entry>>[]} */
  const pools = [];
  /**
   * A pool of half the budget; an entry leaves byContext when no pool holds it any more.
   * @returns {ReturnType<typeof createLRU<string, Entry>>}
   */
  const pool = () => createLRU(half(), {
    onEvict: (key, entry) => {
      if (!pools.some((p) => p.has(key))) byContext.get(entry.context)?.delete(entry.channel);
    },
  });
  // Two pools, half the budget each, so that going through many channels (each pick keeps every
  // method's projection) never evicts what Python prefetched: prefetch fills at most its half.
  const prefetched = pool();
  const published = pool();
  pools.push(prefetched, published);
  /** @type {Set<(msg: PrefetchMessage) => void>} */
  const listeners = new Set();
  /** @type {{ buffer: DataView | null, shape: number[], data: Float32Array | null }} */
  let decoded = { buffer: null, shape: [], data: null };

  /**
   * Keep one projection in a pool.
   * @param {ReturnType<typeof createLRU<string, Entry>>} target prefetched or published
   * @param {string | undefined} layer
   * @param {string | undefined} seed
   * @param {number | undefined} image
   * @param {string} method
   * @param {number} channel
   * @param {Float32Array} data
   * @param {number[]} shape
   */
  function store(target, layer, seed, image, method, channel, data, shape) {
    const context = contextKey(layer, seed, image, method);
    const entry = { data, shape, context, channel };
    if (!target.put(projectionKey(layer, seed, image, method, channel), entry, data.byteLength)) return;
    const held = byContext.get(context) ?? new Set();
    byContext.set(context, held.add(channel));
  }
  /** The `projections` trait as float32 (decoded once per buffer and shape), or null. */
  function traitData() {
    const buffer = model.get("projections");
    const shape = model.get("proj_shape") || [];
    if (decoded.buffer !== buffer || String(decoded.shape) !== String(shape)) {
      decoded = { buffer, shape, data: shape.length === 5 ? toFloat32Shaped(buffer, shape) : null };
    }
    return decoded.data;
  }
  /**
   * Slice (method, channel) out of the traits, or null when they do not hold it.
   * @param {string} method
   * @param {number} channel
   * @returns {Projection | null}
   */
  function fromTraits(method, channel) {
    const shape = model.get("proj_shape") || [];
    const at = (model.get("proj_methods") || []).indexOf(method);
    const b = (model.get("proj_channels") || []).indexOf(channel);
    if (shape.length !== 5 || at < 0 || b < 0 || at >= shape[0] || b >= shape[1]) return null;
    const data = traitData();
    if (!data) return null;
    const per = shape[2] * shape[3] * shape[4];
    const start = (at * shape[1] + b) * per;
    return { data: data.subarray(start, start + per), shape: shape.slice(2) };
  }
  /**
   * Keep a prefetched projection and tell the listeners.
   * @param {PrefetchMessage | null} msg
   * @param {DataView[]} [buffers]
   */
  function onMessage(msg, buffers) {
    if (!msg || msg.type !== "prefetched") return;
    const shape = msg.shape || [];
    const data = toFloat32(buffers?.[0]);
    if (shape.length !== 3 || data.length !== shapeSize(shape) || !Number.isInteger(msg.channel)) {
      console.warn("deconv-widgets: ignored a prefetched projection of the wrong size", msg);
      return;
    }
    store(prefetched, msg.layer, msg.seed, msg.image, msg.method, msg.channel, data, shape);
    listeners.forEach((fn) => fn(msg));
  }
  let keepScheduled = false;
  /** Copy the published projections of a few channels into the cache. */
  function keepPublished() {
    keepScheduled = false;
    const key = model.get("proj_key") || {};
    const channels = model.get("proj_channels") || [];
    const errors = model.get("proj_errors") || {};
    if (!channels.length || channels.length > KEEP_PUBLISHED) return;
    try {
      for (const method of model.get("proj_methods") || []) {
        if (errors[method]) continue;
        for (const channel of channels) {
          const found = fromTraits(method, channel);
          if (found) store(published, key.layer, key.seed, key.image, method, channel, found.data.slice(), found.shape);
        }
      }
    } catch (err) {
      console.error("deconv-widgets: bad projections traits", err);
    }
  }
  model.on("msg:custom", onMessage);
  const stops = [
    watch(model, ["cache_budget"], () => pools.forEach((p) => p.setBudget(half())), { now: false }),
    watch(model, ["proj_key", "projections", "proj_methods", "proj_channels"], () => {
      if (keepScheduled) return;
      keepScheduled = true;
      queueMicrotask(keepPublished);
    }),
  ];

  return {
    /** The two pools: what Python prefetched, and copies of what it published for a pick. */
    pools: { prefetched, published },
    /**
     * The current pick's projection for a method: {data, shape, from} | {error} | null (pending).
     * @param {string} method
     * @returns {Found}
     */
    lookup(method, channel = model.get("channel")) {
      const { layer, seed, image } = currentPick(model);
      if (traitsMatch(model)) {
        const error = (model.get("proj_errors") || {})[method];
        if (error) return { error: String(error) };
        const found = fromTraits(method, channel);
        if (found) return { ...found, from: "traits" };
      }
      const key = projectionKey(layer, seed, image, method, channel);
      const entry = prefetched.get(key) ?? published.get(key);
      return entry ? { data: entry.data, shape: entry.shape, from: "cache" } : null;
    },
    /**
     * Channels of the current layer, seed and image drawable for a method without a round trip.
     * @param {string} method
     * @returns {Set<number>}
     */
    ready(method) {
      const { layer, seed, image } = currentPick(model);
      const channels = new Set(byContext.get(contextKey(layer, seed, image, method)) || []);
      if (traitsMatch(model) && (model.get("proj_methods") || []).includes(method)
        && !(model.get("proj_errors") || {})[method]) {
        for (const c of model.get("proj_channels") || []) channels.add(c);
      }
      return channels;
    },
    /**
     * Call fn(msg) whenever a prefetched projection arrives; returns an unsubscribe function.
     * @param {(msg: PrefetchMessage) => void} fn
     */
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** Stop listening to the model. */
    stop() {
      model.off("msg:custom", onMessage);
      stops.forEach((s) => s());
      listeners.clear();
    },
  };
}
