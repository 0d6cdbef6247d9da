/**
 * Puts one request's travel times back in route order: a bus reaches a later stop of its trip no
 * sooner than an earlier one. Each target's time comes from its own stop pair's history and band
 * coefficients, so now and then a later stop comes out a little sooner.
 *
 * The times are replaced by their least-squares projection onto non-decreasing sequences (pool
 * adjacent violators): each run of targets out of order takes the mean of its times. Targets
 * without a finite time are skipped and keep their value. Runs in place and allocates only when a
 * request has more targets than any before it.
 */
export function keepRouteOrder(travelS: number[]): void {
  let blocks = 0;
  let merged = false;
  for (let index = 0; index < travelS.length; index += 1) {
    const value = travelS[index]!;
    if (!Number.isFinite(value)) continue;
    ensureCapacity(blocks + 1);
    blockSum[blocks] = value;
    blockCount[blocks] = 1;
    blockEnd[blocks] = index;
    blocks += 1;
    // Merge while the block before has a larger mean than the new one.
    while (blocks > 1 && blockSum[blocks - 2]! * blockCount[blocks - 1]! > blockSum[blocks - 1]! * blockCount[blocks - 2]!) {
      blockSum[blocks - 2]! += blockSum[blocks - 1]!;
      blockCount[blocks - 2]! += blockCount[blocks - 1]!;
      blockEnd[blocks - 2] = blockEnd[blocks - 1]!;
      blocks -= 1;
      merged = true;
    }
  }
  if (!merged) return;
  let index = 0;
  for (let block = 0; block < blocks; block += 1) {
    const mean = blockSum[block]! / blockCount[block]!;
    for (; index <= blockEnd[block]!; index += 1) if (Number.isFinite(travelS[index]!)) travelS[index] = mean;
  }
}

let blockSum = new Float64Array(64);
let blockCount = new Int32Array(64);
let blockEnd = new Int32Array(64);

function ensureCapacity(size: number): void {
  if (size <= blockSum.length) return;
  const length = Math.max(size, blockSum.length * 2);
  blockSum = grown(blockSum, new Float64Array(length));
  blockCount = grown(blockCount, new Int32Array(length));
  blockEnd = grown(blockEnd, new Int32Array(length));
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
