/**
 * Internal: the one place that picks a group call's backend behaviour. Each backend replaces its case with its
 * runtime (mesh: `backend/mesh/`, LiveKit: `backend/livekit/`); until then a backend only publishes membership.
 */
import type { GroupCallBackendContext, GroupCallBackendRuntime } from "../group/backendRuntime.js";
import { createLiveKitRuntime } from "./livekit/LiveKitRuntime.js";
import type { MeshLegFactory } from "./mesh/legs.js";
import { MeshRuntime } from "./mesh/MeshRuntime.js";

/** @internal A runtime with no behaviour: membership, participants and reactions still work (the session owns them). */
export function membershipOnlyRuntime(): GroupCallBackendRuntime {
  return { dispose: () => undefined };
}

/** @internal Creates the runtime for `ctx.backend`. */
export function createBackendRuntime(
  ctx: GroupCallBackendContext,
  legs?: MeshLegFactory,
): GroupCallBackendRuntime {
  switch (ctx.backend.type) {
    case "mesh":
      return legs ? new MeshRuntime(ctx, legs) : membershipOnlyRuntime();
    case "livekit":
      return createLiveKitRuntime(ctx, ctx.backend);
  }
}
