/**
 * Returns the distinct ArrayBuffers under typed arrays, for the transfer list of a message. A
 * SharedArrayBuffer is left out, because it is shared rather than transferred. Each array must own
 * its whole buffer: a transfer detaches the buffer from every view of it in the sending thread.
 */
export function ownBuffers(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((array) => array.buffer))].filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer);
}
