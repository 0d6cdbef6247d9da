/** Waits for a simulated link time; zero or less resolves on the next microtask. */
export function waitLinkLatency(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
