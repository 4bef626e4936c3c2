// An SFU group call with real encrypted media: Matrix members (VoIP over one LocalHomeserver) in a LiveKit group call,
// each with a LiveKitNodeKeyBridge as its delegate's key provider, and an @livekit/rtc-node participant in the LiveKit
// room that publishes a tone and a coloured video. The media keys reach LiveKit only through our key manager:
// membership → to-device keys → EncryptionKeyProvider → bridge → rtc-node. Used by test/sfu, the demo and the bench.
import { AccessToken } from "livekit-server-sdk";
import {
  LiveKitBackend,
  VoIP,
  type Clock,
  type GroupCallSession,
  type VoipOptions,
} from "../../src/index.js";
import { LiveKitNodeKeyBridge } from "../../src/livekitNode/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { NodeSfuParticipant } from "./nodeParticipant.js";

/** Where the LiveKit server is and how to sign its tokens. */
export interface LiveKitServerInfo {
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
}

/** One member: a Matrix device in the group call and its LiveKit participant. */
export interface SfuMember {
  /** `${userId}:${deviceId}`, also the LiveKit identity. */
  id: string;
  voip: VoIP;
  bridge: LiveKitNodeKeyBridge;
  group: GroupCallSession;
  media: NodeSfuParticipant;
}

const GROUP_CALL_ID = "sfu-media-call";
const LIVEKIT_ROOM = "sfu-media-room";

/** A token for `identity` in the call's LiveKit room (what the deployment's JWT service hands out). */
export async function livekitToken(
  server: LiveKitServerInfo,
  identity: string,
  room = LIVEKIT_ROOM,
): Promise<string> {
  const token = new AccessToken(server.apiKey, server.apiSecret, { identity, ttl: "10m" });
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: true });
  return token.toJwt();
}

/**
 * The call. With a {@link ManualClock} the key manager's delays (4 s, 8 s) pass at once on {@link SfuCall.advance};
 * with the system clock they take real time.
 */
export class SfuCall {
  public readonly hs: LocalHomeserver;
  public readonly members: SfuMember[] = [];
  private roomId = "";
  private readonly users: string[];

  public constructor(
    private readonly server: LiveKitServerInfo,
    private readonly clock: Clock | ManualClock,
    maxMembers: number,
    private readonly voipOptions: VoipOptions = {},
  ) {
    this.hs = new LocalHomeserver(clock instanceof ManualClock ? { clock } : {});
    this.users = Array.from({ length: maxMembers }, (_, i) => `@member${i}:local`);
  }

  /** Creates the (encrypted) Matrix room with every user who may take part. */
  public async setup(): Promise<void> {
    this.hs.setTurnServers(undefined);
    this.roomId = await this.hs.createRoom({
      creator: this.users[0]!,
      members: this.users.slice(1),
      encrypted: true,
      powerLevels: { events: { "com.famedly.call.member": 0 } },
    });
  }

  /** The id `${userId}:${deviceId}` member `i` has. */
  public idOf(i: number): string {
    return `${this.users[i]!}:DEV${i}`;
  }

  /** User `i` enters the group call (Matrix) and joins the LiveKit room with E2EE, publishing tone and video. */
  public async join(i: number): Promise<SfuMember> {
    const userId = this.users[i]!;
    const deviceId = `DEV${i}`;
    const id = `${userId}:${deviceId}`;
    const bridge = new LiveKitNodeKeyBridge();
    const voip = new VoIP(
      this.hs.createClient(userId, deviceId),
      createNodeDelegate({ keyProvider: bridge, audio: false, video: false }),
      { ...this.voipOptions, clock: this.clock },
    );
    const backend = new LiveKitBackend({
      livekitServiceUrl: "http://127.0.0.1/jwt",
      livekitAlias: LIVEKIT_ROOM,
    });
    const group = await voip.fetchOrCreateGroupCall(GROUP_CALL_ID, this.roomId, backend);
    await group.enter();
    const media = await NodeSfuParticipant.join(
      this.server.wsUrl,
      await livekitToken(this.server, id),
      id,
      bridge,
    );
    await media.publish();
    const member = { id, voip, bridge, group, media };
    this.members.push(member);
    await this.settle();
    return member;
  }

  /** The member leaves the group call (Matrix) but, unless `disconnect`, stays in the LiveKit room with its old keys. */
  public async leave(member: SfuMember, disconnect = false): Promise<void> {
    await member.group.leave();
    if (disconnect) {
      await member.media.leave();
    }
    await this.settle();
  }

  /** Lets time pass: the manual clock jumps, the system clock is waited for. */
  public async advance(ms: number): Promise<void> {
    if (this.clock instanceof ManualClock) {
      await this.clock.advance(ms);
    } else {
      await new Promise((r) => setTimeout(r, ms));
    }
    await this.settle();
  }

  /** Lets the homeserver deliver everything in flight. */
  public async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.hs.flush();
      if (this.clock instanceof ManualClock) {
        await this.clock.advance(0);
      }
    }
  }

  /** Leaves LiveKit and Matrix and closes the homeserver. */
  public async dispose(): Promise<void> {
    for (const member of this.members) {
      await member.media.leave();
      await member.voip.dispose();
    }
    await this.hs.close();
  }
}
