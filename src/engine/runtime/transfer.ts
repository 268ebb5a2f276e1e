/**
 * Results that hand their buffers over instead of having them copied. A worker's reply is structured-cloned on
 * its way to the host; for the attention view's [layer][head][query][key] array (9.5 MB for a 12 x 12 model at
 * 128 tokens) that copy is avoidable: the buffer was made for this reply, so it can move. A leaf module (no Node
 * import) so that operations can mark their results and the server can read the mark.
 */

const transfers = new WeakMap<object, ArrayBuffer[]>();

/**
 * Marks `result` so that the worker moves `buffers` to the host instead of copying them. Only for buffers the
 * operation allocated for this reply and keeps no reference to: after the reply they are detached (empty) here.
 */
export function transferring<R extends object>(result: R, buffers: readonly ArrayBufferLike[]): R {
  const own = buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  transfers.set(result, [...new Set(own)]);
  return result;
}

/** The buffers `transferring` marked on `result`, if any. */
export function transferListOf(result: unknown): ArrayBuffer[] {
  return typeof result === 'object' && result !== null ? (transfers.get(result) ?? []) : [];
}
