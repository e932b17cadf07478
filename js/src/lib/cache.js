// A byte-budgeted LRU map: put(key, value, bytes) evicts the least recently used entries until
// the total is within the budget; get(key) marks an entry as recently used. Map order is the
// recency order (oldest first).

/**
 * An LRU cache holding at most `budget` bytes; onEvict(key, value) hears about evictions.
 * @template K, V
 * @param {number} budget
 * @param {{ onEvict?: (key: K, value: V) => void }} [options]
 */
export function createLRU(budget, { onEvict } = {}) {
  /** @type {Map<K, { value: V, bytes: number }>} */
  const items = new Map();
  let bytes = 0;
  let limit = budget;
  /** @param {K} key */
  const drop = (key) => {
    const entry = /** @type {{ value: V, bytes: number }} */ (items.get(key));
    items.delete(key);
    bytes -= entry.bytes;
    onEvict?.(key, entry.value);
  };
  const trim = () => {
    for (const key of items.keys()) {
      if (bytes <= limit) break;
      drop(key);
    }
  };
  return {
    /**
     * The value under key (and mark it recently used), or undefined.
     * @param {K} key
     */
    get(key) {
      const entry = items.get(key);
      if (!entry) return undefined;
      items.delete(key);
      items.set(key, entry);
      return entry.value;
    },
    /**
     * True when key is held (does not change the recency order).
     * @param {K} key
     */
    has: (key) => items.has(key),
    /**
     * Store a value of `size` bytes; false (and nothing stored) when it exceeds the budget.
     * @param {K} key
     * @param {V} value
     * @param {number} size
     */
    put(key, value, size) {
      if (items.has(key)) drop(key);
      if (!(size <= limit)) return false;
      items.set(key, { value, bytes: size });
      bytes += size;
      trim();
      return true;
    },
    /**
     * Change the budget (evicting at once if the new one is smaller).
     * @param {number} next
     */
    setBudget(next) {
      limit = next;
      trim();
    },
    /** Keys from the least to the most recently used. */
    keys: () => [...items.keys()],
    get bytes() { return bytes; },
    get size() { return items.size; },
    get budget() { return limit; },
  };
}
