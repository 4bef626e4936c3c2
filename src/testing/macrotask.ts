/**
 * A portable "next macrotask": `setImmediate` in Node (runs before timers), `setTimeout(0)` elsewhere (browsers,
 * where the testing kit also runs for the web demo). Returns a cancel function.
 */
export function scheduleMacrotask(fn: () => void): () => void {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  const clear = (globalThis as { clearImmediate?: (handle: unknown) => void }).clearImmediate;
  if (typeof immediate === "function" && typeof clear === "function") {
    const handle = immediate(fn);
    return () => {
      clear(handle);
    };
  }
  const handle = setTimeout(fn, 0);
  return () => {
    clearTimeout(handle);
  };
}

/** Resolves in a later macrotask. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    scheduleMacrotask(resolve);
  });
}
