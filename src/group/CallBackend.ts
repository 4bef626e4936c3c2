/**
 * Backend configurations of a group call (reference §2.4–§2.6): what a membership announces in `foci_active` /
 * `backend`. Behaviour (mesh legs, SFU keys) lives in `src/backend/`; these classes are plain values.
 */
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { MembershipBackend } from "../matrix/schemas/famedlyMember.js";

/** The wire form of {@link MeshBackend}. */
// A type alias, not an interface: the wire forms must be assignable to `Record<string, unknown>`.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type MeshBackendJson = {
  /** Always `"mesh"`. */
  type: "mesh";
};

/** The wire form of {@link LiveKitBackend}, as in `foci_active` / `backend`. */
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type LiveKitBackendJson = {
  /** Always `"livekit"`. */
  type: "livekit";
  /** The LiveKit room alias. */
  livekit_alias: string;
  /** The LiveKit JWT service URL. */
  livekit_service_url: string;
};

/** A mesh group call: every pair of devices has its own peer connection, signalled over to-device. */
export class MeshBackend {
  /** Always `"mesh"`. */
  public readonly type = "mesh" as const;
  /** Mesh media is end-to-end encrypted by DTLS-SRTP; there are no SFU keys. Always false. */
  public readonly e2eeEnabled = false;

  /** The wire form: `{ type: "mesh" }`. */
  public toJson(): MeshBackendJson {
    return { type: "mesh" };
  }

  /** Every mesh backend equals every other (equality by type, as the reference). */
  public equals(other: CallBackend): boolean {
    return other.type === "mesh";
  }
}

/** Options of {@link LiveKitBackend}. */
export interface LiveKitBackendOptions {
  /** The LiveKit JWT service URL (`livekit_service_url`). */
  livekitServiceUrl: string;
  /** The LiveKit room alias (`livekit_alias`). */
  livekitAlias: string;
  /** Distribute end-to-end media keys to the other members; default true. */
  e2eeEnabled?: boolean;
}

/** An SFU group call through LiveKit: the library publishes membership and distributes end-to-end media keys. */
export class LiveKitBackend {
  /** Always `"livekit"`. */
  public readonly type = "livekit" as const;
  /** The LiveKit JWT service URL. */
  public readonly livekitServiceUrl: string;
  /** The LiveKit room alias. */
  public readonly livekitAlias: string;
  /** Whether media keys are distributed (default true). */
  public readonly e2eeEnabled: boolean;

  public constructor(options: LiveKitBackendOptions) {
    if (typeof options.livekitServiceUrl !== "string" || typeof options.livekitAlias !== "string") {
      throw new VoipError(
        VoipErrorCode.InvalidArgument,
        "LiveKitBackend needs livekitServiceUrl and livekitAlias",
      );
    }
    this.livekitServiceUrl = options.livekitServiceUrl;
    this.livekitAlias = options.livekitAlias;
    this.e2eeEnabled = options.e2eeEnabled ?? true;
  }

  /** The wire form: `{ type: "livekit", livekit_alias, livekit_service_url }`. */
  public toJson(): LiveKitBackendJson {
    return {
      type: "livekit",
      livekit_alias: this.livekitAlias,
      livekit_service_url: this.livekitServiceUrl,
    };
  }

  /** Same type, service URL and alias (as the reference; `e2eeEnabled` is not compared). */
  public equals(other: CallBackend): boolean {
    return (
      other.type === "livekit" &&
      other.livekitServiceUrl === this.livekitServiceUrl &&
      other.livekitAlias === this.livekitAlias
    );
  }
}

/** The backend of a group call: {@link MeshBackend} or {@link LiveKitBackend}. */
export type CallBackend = MeshBackend | LiveKitBackend;

/** @internal The configuration a parsed membership announces. */
export function callBackendFromMembership(backend: MembershipBackend): CallBackend {
  return backend.type === "mesh"
    ? new MeshBackend()
    : new LiveKitBackend({
        livekitServiceUrl: backend.livekitServiceUrl,
        livekitAlias: backend.livekitAlias,
      });
}

/**
 * @internal A backend from its wire form (`CallBackend.fromJson` of the reference).
 * @throws {VoipError} `invalid_argument` for an unknown type or a LiveKit focus without its fields
 */
export function callBackendFromJson(json: Record<string, unknown>): CallBackend {
  if (json.type === "mesh") {
    return new MeshBackend();
  }
  if (
    json.type === "livekit" &&
    typeof json.livekit_service_url === "string" &&
    typeof json.livekit_alias === "string"
  ) {
    return new LiveKitBackend({
      livekitServiceUrl: json.livekit_service_url,
      livekitAlias: json.livekit_alias,
    });
  }
  throw new VoipError(
    VoipErrorCode.InvalidArgument,
    `Invalid type: ${String(json.type)} in CallBackend.fromJson`,
  );
}
