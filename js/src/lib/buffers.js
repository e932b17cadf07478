// Decode the binary buffers that anywidget hands over (DataView, ArrayBuffer or typed arrays).
// A DataView may be a window into a larger buffer: always honour byteOffset and byteLength.

/** @typedef {ArrayBuffer | ArrayBufferView | null | undefined} BufferLike */

/**
 * Bytes of any buffer-like value as a Uint8Array view (no copy).
 * @param {BufferLike} value
 * @returns {Uint8Array}
 */
export function asBytes(value) {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`expected a DataView, ArrayBuffer or typed array, got ${typeof value}`);
}

/**
 * Little-endian float32 values of a buffer-like value (copies only when unaligned).
 * @param {BufferLike} value
 * @returns {Float32Array}
 */
export function toFloat32(value) {
  if (value instanceof Float32Array) return value;
  const bytes = asBytes(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`float32 buffer length ${bytes.byteLength} is not a multiple of 4`);
  }
  if (bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * Number of elements of a shape.
 * @param {number[] | null | undefined} shape
 */
export function shapeSize(shape) {
  return (shape || []).reduce((a, b) => a * b, 1);
}

/**
 * Float32 array checked against a shape; throws a RangeError naming both sizes.
 * @param {BufferLike} value
 * @param {number[]} shape
 * @returns {Float32Array}
 */
export function toFloat32Shaped(value, shape) {
  const data = toFloat32(value);
  const want = shapeSize(shape);
  if (data.length !== want) {
    throw new RangeError(`buffer holds ${data.length} floats but shape [${shape}] needs ${want}`);
  }
  return data;
}
