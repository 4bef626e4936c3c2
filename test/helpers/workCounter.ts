// Counts the elements that Map, Set and Array operations walk through while a piece of code runs: a step that
// visits every member of a room (a rebuild, a copy, a sort, a scan) shows up as a count that grows with the room.
// No timing: the same work gives the same counts on any machine.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any receiver: the methods of three prototypes
type Method = (this: any, ...args: unknown[]) => unknown;

/** Elements walked, by kind of collection. */
export interface WorkCounts {
  /** Elements yielded by Map iteration (`for…of`, spread, `keys`, `values`, `entries`, `forEach`). */
  map: number;
  /** Elements yielded by Set iteration. */
  set: number;
  /** Array elements iterated or passed over by the array methods that walk them. */
  array: number;
}

const ITERATING = ["keys", "values", "entries", Symbol.iterator] as const;
const ARRAY_WALKS = [
  "map",
  "filter",
  "find",
  "findIndex",
  "some",
  "every",
  "forEach",
  "reduce",
  "indexOf",
  "includes",
  "sort",
  "slice",
  "concat",
  "flatMap",
] as const;

function* counted<T>(iterator: Iterator<T>, bump: () => void): Generator<T, undefined> {
  for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
    bump();
    yield next.value;
  }
  return undefined;
}

/**
 * Runs `work` with the prototypes of Map, Set and Array instrumented and returns what it walked. The instrumented
 * methods are restored before this resolves, even when `work` throws. Keep `work` free of other concurrent tasks
 * (only microtasks of the code under test): whatever runs meanwhile is counted too.
 */
export async function countWork(work: () => Promise<void> | void): Promise<WorkCounts> {
  const counts: WorkCounts = { map: 0, set: 0, array: 0 };
  const restore: (() => void)[] = [];
  const patch = (proto: object, key: string | symbol, wrap: (original: Method) => Method): void => {
    const original = Reflect.get(proto, key) as Method;
    Reflect.set(proto, key, wrap(original));
    restore.push(() => Reflect.set(proto, key, original));
  };
  for (const [proto, kind] of [
    [Map.prototype, "map"],
    [Set.prototype, "set"],
    [Array.prototype, "array"],
  ] as const) {
    const bump = (): void => {
      counts[kind]++;
    };
    for (const key of ITERATING) {
      patch(
        proto,
        key,
        (original) =>
          function (this: unknown) {
            return counted(original.call(this) as Iterator<unknown>, bump);
          },
      );
    }
    if (kind !== "array") {
      patch(
        proto,
        "forEach",
        (original) =>
          function (this: Map<unknown, unknown> | Set<unknown>, ...args: unknown[]) {
            counts[kind] += this.size;
            return original.apply(this, args);
          },
      );
    }
  }
  for (const key of ARRAY_WALKS) {
    patch(
      Array.prototype,
      key,
      (original) =>
        function (this: unknown[], ...args: unknown[]) {
          counts.array += this.length;
          return original.apply(this, args);
        },
    );
  }
  let result: WorkCounts;
  try {
    await work();
  } finally {
    result = { ...counts }; // before restoring: the restoring loop itself is not counted
    for (let i = restore.length - 1; i >= 0; i--) {
      restore[i]?.();
    }
  }
  return result;
}
