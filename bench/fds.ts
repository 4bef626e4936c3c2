import { existsSync, readdirSync } from "node:fs";

/** The process's open file descriptors (Linux `/proc/self/fd`), or undefined where that is not there. */
export function openFds(): number | undefined {
  try {
    return existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : undefined;
  } catch {
    return undefined; // EMFILE: not even /proc/self/fd can be opened
  }
}
