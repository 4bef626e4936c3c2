/**
 * Asserted identity (MSC3086) of one call, both ways: who is really on the other end when a bridge or PBX sits in
 * between. We send `m.call.asserted_identity` when the app asks; an inbound one is parsed (nulls and unknown
 * fields dropped), kept as the call's `remoteAssertedIdentity` and surfaced as `assertedIdentityChanged`.
 */
import { isVoipError, VoipError, VoipErrorCode } from "../core/errors.js";
import type { CallAssertedIdentityContent } from "../matrix/schemas/signalling.js";
import type { CallCore } from "./CallContext.js";
import type { CallSignaller } from "./CallSignaller.js";
import type { AssertedIdentity } from "./events.js";
import { isLive } from "./callState.js";
import { CallDirection } from "./types.js";

/** The identity carried by a parsed `m.call.asserted_identity`: null fields dropped, wire names → ours. */
export function readAssertedIdentity(content: CallAssertedIdentityContent): AssertedIdentity {
  const wire = content.asserted_identity;
  return {
    ...(typeof wire.id === "string" ? { id: wire.id } : {}),
    ...(typeof wire.display_name === "string" ? { displayName: wire.display_name } : {}),
    ...(typeof wire.avatar_url === "string" ? { avatarUrl: wire.avatar_url } : {}),
  };
}

const FIELDS = ["id", "displayName", "avatarUrl"] as const;

/** A copy of `identity` with its set fields, or a `VoipError` (`invalid_argument`) naming what is wrong. */
function checkedIdentity(identity: AssertedIdentity): AssertedIdentity {
  const out: AssertedIdentity = {};
  for (const field of FIELDS) {
    const value: unknown = (identity as Record<string, unknown>)[field];
    if (value === undefined) {
      continue;
    }
    if (typeof value !== "string" || value === "") {
      throw new VoipError(
        VoipErrorCode.InvalidArgument,
        `asserted identity: ${field} must be a non-empty string`,
      );
    }
    out[field] = value;
  }
  if (Object.keys(out).length === 0) {
    throw new VoipError(VoipErrorCode.InvalidArgument, "asserted identity: set id, displayName or avatarUrl");
  }
  return out;
}

/** @internal The asserted identities of one call: what the peer asserted last, and sending ours. */
export class AssertedIdentities {
  #remote: AssertedIdentity | undefined;

  public constructor(
    private readonly core: Pick<CallCore, "emit" | "log" | "state" | "direction">,
    private readonly signaller: Pick<CallSignaller, "sendAssertedIdentity">,
    /** True once our invite started to go out (an outgoing call is unknown to the peer before). */
    private readonly inviteOnTheWire: () => boolean,
  ) {}

  /** The identity the peer asserted last, if any. */
  public get remote(): AssertedIdentity | undefined {
    return this.#remote;
  }

  /** Sends `m.call.asserted_identity`; rejects with a `VoipError` for a bad identity, state or failed send. */
  public async send(identity: AssertedIdentity): Promise<void> {
    const checked = checkedIdentity(identity);
    const state = this.core.state();
    if (!isLive(state)) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot send an asserted identity in state ${state}`);
    }
    if (this.core.direction === CallDirection.Outgoing && !this.inviteOnTheWire()) {
      throw new VoipError(VoipErrorCode.InvalidState, "cannot send an asserted identity before our invite");
    }
    try {
      await this.signaller.sendAssertedIdentity(checked);
    } catch (error) {
      if (isVoipError(error, VoipErrorCode.InvalidState)) {
        throw error; // cancelled: the call ended while the send waited
      }
      throw new VoipError(VoipErrorCode.SendFailed, "could not send the asserted identity", { cause: error });
    }
  }

  /** An inbound `m.call.asserted_identity` (already validated and routed to this call). */
  public receive(content: CallAssertedIdentityContent): void {
    const identity = readAssertedIdentity(content);
    this.#remote = identity;
    this.core.log.debug("asserted identity received", { fields: Object.keys(identity) });
    this.core.emit("assertedIdentityChanged", identity);
  }
}
