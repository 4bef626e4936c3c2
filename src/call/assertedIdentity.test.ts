import { describe, expect, it } from "vitest";
import { wireExample } from "../../test/helpers/wireExamples.js";
import { isVoipError, VoipErrorCode } from "../core/errors.js";
import { silentLogger } from "../core/Logger.js";
import { parseContent } from "../matrix/parse.js";
import type { CallAssertedIdentityContent } from "../matrix/schemas/signalling.js";
import { AssertedIdentities, readAssertedIdentity } from "./assertedIdentity.js";
import type { AssertedIdentity } from "./events.js";
import { CallDirection, CallState } from "./types.js";

function parsed(content: Record<string, unknown>): CallAssertedIdentityContent {
  const result = parseContent("m.call.asserted_identity", content, silentLogger);
  if (!result.ok || result.kind !== "signalling" || result.type !== "m.call.asserted_identity") {
    throw new Error("expected an asserted identity");
  }
  return result.content;
}

function setup(
  opts: { state?: CallState; direction?: CallDirection; inviteOut?: boolean; fail?: boolean } = {},
) {
  const sent: AssertedIdentity[] = [];
  const emitted: unknown[][] = [];
  const identities = new AssertedIdentities(
    {
      log: silentLogger,
      state: () => opts.state ?? CallState.Connected,
      direction: opts.direction ?? CallDirection.Outgoing,
      emit: (...args: unknown[]) => emitted.push(args),
    },
    {
      sendAssertedIdentity: (identity) => {
        if (opts.fail === true) {
          return Promise.reject(new Error("offline"));
        }
        sent.push(identity);
        return Promise.resolve();
      },
    },
    () => opts.inviteOut ?? true,
  );
  return { sent, emitted, identities };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("asserted identity (MSC3086)", () => {
  it("reads the wire example's identity under our names", () => {
    const content = parsed(wireExample("asserted identity").content);
    expect(readAssertedIdentity(content)).toStrictEqual({
      id: "@carol:example.org",
      displayName: "Carol",
      avatarUrl: "mxc://example.org/abc",
    });
  });

  it("drops null and unknown fields of an inbound identity", () => {
    const content = parsed({
      call_id: "c",
      version: "1",
      asserted_identity: { id: "@carol:x", display_name: null, avatar_url: null, extra: "x" },
    });
    expect(readAssertedIdentity(content)).toStrictEqual({ id: "@carol:x" });
  });

  it("keeps the last inbound identity and emits each one", () => {
    const { emitted, identities } = setup();
    expect(identities.remote).toBeUndefined();
    identities.receive(parsed({ call_id: "c", version: "1", asserted_identity: { display_name: "Carol" } }));
    identities.receive(parsed({ call_id: "c", version: "1", asserted_identity: { id: "@dave:x" } }));
    expect(identities.remote).toStrictEqual({ id: "@dave:x" });
    expect(emitted).toStrictEqual([
      ["assertedIdentityChanged", { displayName: "Carol" }],
      ["assertedIdentityChanged", { id: "@dave:x" }],
    ]);
  });

  it("sends only the fields that are set", async () => {
    const { sent, identities } = setup();
    await identities.send({ displayName: "Carol", avatarUrl: undefined });
    expect(sent).toStrictEqual([{ displayName: "Carol" }]);
  });

  it("refuses an identity without fields, or with an empty or non-string field (invalid_argument)", async () => {
    const { sent, identities } = setup();
    for (const bad of [{}, { id: "" }, { displayName: 5 }] as AssertedIdentity[]) {
      const error = await rejection(identities.send(bad));
      expect(isVoipError(error, VoipErrorCode.InvalidArgument), JSON.stringify(bad)).toBe(true);
    }
    expect(sent).toEqual([]);
  });

  it("refuses to send on an ended call, or before an outgoing call's invite is out (invalid_state)", async () => {
    for (const opts of [
      { state: CallState.Ended },
      { state: CallState.Ending },
      { state: CallState.CreateOffer, inviteOut: false },
    ]) {
      const { sent, identities } = setup(opts);
      const error = await rejection(identities.send({ id: "@carol:x" }));
      expect(isVoipError(error, VoipErrorCode.InvalidState), JSON.stringify(opts)).toBe(true);
      expect(sent).toEqual([]);
    }
    // A ringing incoming call is known to the peer: sending is fine.
    const ringing = setup({ state: CallState.Ringing, direction: CallDirection.Incoming, inviteOut: false });
    await ringing.identities.send({ id: "@carol:x" });
    expect(ringing.sent).toStrictEqual([{ id: "@carol:x" }]);
  });

  it("reports a failed send as send_failed with the cause", async () => {
    const { identities } = setup({ fail: true });
    const error = await rejection(identities.send({ id: "@carol:x" }));
    expect(isVoipError(error, VoipErrorCode.SendFailed)).toBe(true);
    expect((error as Error).cause).toEqual(new Error("offline"));
  });
});
