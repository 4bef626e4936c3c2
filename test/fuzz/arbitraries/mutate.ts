// Mutations shared by every event arbitrary: a valid content in, a broken or hostile variant out.
import fc from "fast-check";

/** A value of the wrong type for any field (and the odd huge string). */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.string({ maxLength: 40 }),
  hugeString(),
);

/** A string of 64 KiB to 1 MiB. */
export function hugeString(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 16, max: 20 }), fc.constantFrom("a", "€", "\u0000", "{"))
    .map(([bits, ch]) => ch.repeat(2 ** bits));
}

/** The key paths of `content` (objects and arrays, two levels deep). */
function paths(content: unknown, prefix: (string | number)[] = [], depth = 0): (string | number)[][] {
  if (typeof content !== "object" || content === null || depth > 2) {
    return [];
  }
  const entries: [string | number, unknown][] = Array.isArray(content)
    ? content.map((v, i) => [i, v] as [number, unknown])
    : Object.entries(content);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k], depth + 1)]);
}

function setPath(target: unknown, path: (string | number)[], value: unknown, remove: boolean): void {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    node = node[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) {
      node.splice(Number(last), 1);
    } else {
      Reflect.deleteProperty(node, last);
    }
  } else {
    node[last] = value;
  }
}

/**
 * One to three structural mutations of `content`: a field removed, a field given a wrong type or a huge string, an
 * unknown field added; or the whole content replaced by a non-object.
 */
export function mutated(content: Record<string, unknown>): fc.Arbitrary<unknown> {
  const all = paths(content);
  const add = fc.record({
    kind: fc.constant("add" as const),
    key: fc.string({ maxLength: 12 }),
    value: wrongValue,
  });
  type Op =
    | { kind: "add"; key: string; value: unknown }
    | { kind: "remove" | "retype"; path: (string | number)[]; value?: unknown };
  const one: fc.Arbitrary<Op> =
    all.length === 0
      ? add
      : fc.oneof(
          fc.record({ kind: fc.constant("remove" as const), path: fc.constantFrom(...all) }),
          fc.record({
            kind: fc.constant("retype" as const),
            path: fc.constantFrom(...all),
            value: wrongValue,
          }),
          add,
        );
  return fc
    .oneof(
      { weight: 9, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: wrongValue.map((v) => ({ replace: v })) },
    )
    .map((ops) => {
      if (!Array.isArray(ops)) {
        return ops.replace;
      }
      const copy = structuredClone(content);
      for (const op of ops) {
        try {
          if (op.kind === "add") {
            copy[op.key] = op.value;
          } else {
            setPath(copy, op.path, op.kind === "retype" ? op.value : undefined, op.kind === "remove");
          }
        } catch {
          // an earlier mutation removed the parent: nothing to do
        }
      }
      return copy;
    });
}
