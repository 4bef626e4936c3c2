// A hand-driven Element Call peer over LocalHomeserver: matrix-js-sdk 37.5's MatrixRTC wire shapes (membership
// under `_${userId}_${deviceId}`, `{}` to leave; `io.element.call.encryption_keys` as a room event or to-device),
// and what it received of our keys, decoded the way matrix-js-sdk reads them.
import { decodeBase64, encodeBase64 } from "../../src/core/random.js";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import type { MatrixClientPort, RoomEvent, ToDeviceEvent } from "../../src/index.js";
import type { LocalHomeserver } from "../../src/testing/index.js";

/** One key as an Element peer received it. */
export interface ElementReceivedKey {
  /** `${userId}:${deviceId}` of its owner. */
  from: string;
  index: number;
  key: Uint8Array;
  way: "room" | "toDevice";
  /** Whether it arrived encrypted (Megolm or Olm). */
  encrypted: boolean;
}

/** Unpadded standard base64, as matrix-js-sdk writes keys. */
export function unpadded(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, "");
}

function padded(text: string): string {
  return text + "=".repeat((4 - (text.length % 4)) % 4);
}

/** See the file comment. */
export class ElementPeer {
  public readonly client: MatrixClientPort;
  /** Every key event received (ours and others'), in order. */
  public readonly received: ElementReceivedKey[] = [];
  /** Every key room event received, raw. */
  public readonly roomKeyEvents: RoomEvent[] = [];
  /** Every Element key to-device event received, raw. */
  public readonly toDeviceKeyEvents: ToDeviceEvent[] = [];

  public constructor(
    private readonly hs: LocalHomeserver,
    private readonly roomId: string,
    userId: string,
    deviceId: string,
  ) {
    this.client = hs.createClient(userId, deviceId);
    this.client.onSync((batch) => {
      for (const room of batch.rooms) {
        if (room.initial) {
          continue;
        }
        for (const event of room.timeline) {
          if (event.type === KeyEventType.KeysElement) {
            this.#onRoomKeys(event);
          }
        }
      }
      for (const event of batch.toDevice) {
        if (event.type === KeyEventType.KeysElement) {
          this.#onToDeviceKey(event);
        }
      }
    });
  }

  /** `${userId}:${deviceId}`. */
  public get id(): string {
    return `${this.client.userId}:${this.client.deviceId}`;
  }

  /** The state key of its membership (rooms before MSC3757: with a leading `_`). */
  public get stateKey(): string {
    return `_${this.client.userId}_${this.client.deviceId}`;
  }

  /** Publishes its membership (call id `""`, LiveKit focus), as matrix-js-sdk 37.5 does. */
  public async join(createdTs?: number): Promise<void> {
    await this.client.sendStateEvent(this.roomId, GroupEventType.ElementMember, this.stateKey, {
      application: "m.call",
      call_id: "",
      scope: "m.room",
      device_id: this.client.deviceId,
      expires: 14_400_000,
      ...(createdTs === undefined ? {} : { created_ts: createdTs }),
      focus_active: { type: "livekit", focus_selection: "oldest_membership" },
      foci_preferred: [
        { type: "livekit", livekit_service_url: "https://lk.local/jwt", livekit_alias: this.roomId },
      ],
    });
  }

  /** Leaves the call: `{}` under its state key. */
  public async leave(): Promise<void> {
    await this.client.sendStateEvent(this.roomId, GroupEventType.ElementMember, this.stateKey, {});
  }

  /** Sends a key as matrix-js-sdk 37.5's room transport does (the client encrypts it in an encrypted room). */
  public async sendRoomKey(index: number, key: Uint8Array, callId = ""): Promise<void> {
    await this.client.sendRoomEvent(
      this.roomId,
      KeyEventType.KeysElement,
      this.roomKeyContent(index, key, callId),
    );
  }

  /** The same key room event sent in cleartext, whatever the room (a client that does not encrypt). */
  public async sendCleartextRoomKey(index: number, key: Uint8Array): Promise<void> {
    await this.hs.sendCleartextRoomEvent(
      this.roomId,
      { userId: this.client.userId, deviceId: this.client.deviceId },
      KeyEventType.KeysElement,
      this.roomKeyContent(index, key, ""),
    );
  }

  /** Sends a key to-device (Olm), as matrix-js-sdk's to-device transport does. */
  public async sendToDeviceKey(
    to: { userId: string; deviceId: string },
    index: number,
    key: Uint8Array,
  ): Promise<void> {
    await this.client.sendToDevice(
      KeyEventType.KeysElement,
      {
        [to.userId]: {
          [to.deviceId]: {
            keys: { index, key: unpadded(key) },
            member: { claimed_device_id: this.client.deviceId },
            room_id: this.roomId,
            session: { application: "m.call", call_id: "", scope: "m.room" },
          },
        },
      },
      { encrypted: true },
    );
  }

  /** The newest key received from `from` (`${userId}:${deviceId}`), if any. */
  public latestFrom(from: string): ElementReceivedKey | undefined {
    return this.received.filter((k) => k.from === from).at(-1);
  }

  /** Whether it received `key` at `index` from `from`. */
  public has(from: string, index: number, key: Uint8Array): boolean {
    return this.received.some(
      (k) => k.from === from && k.index === index && unpadded(k.key) === unpadded(key),
    );
  }

  public roomKeyContent(index: number, key: Uint8Array, callId: string): Record<string, unknown> {
    return {
      keys: [{ index, key: unpadded(key) }],
      device_id: this.client.deviceId,
      call_id: callId,
      sent_ts: 1,
    };
  }

  #onRoomKeys(event: RoomEvent): void {
    this.roomKeyEvents.push(event);
    const content = event.content as { keys?: { index: number; key: string }[]; device_id?: string };
    if (event.sender === this.client.userId && content.device_id === this.client.deviceId) {
      return; // its own echo, as matrix-js-sdk ignores it
    }
    for (const entry of content.keys ?? []) {
      this.received.push({
        from: `${event.sender}:${content.device_id ?? ""}`,
        index: entry.index,
        key: decodeBase64(padded(entry.key)),
        way: "room",
        encrypted: event.encrypted === true,
      });
    }
  }

  #onToDeviceKey(event: ToDeviceEvent): void {
    this.toDeviceKeyEvents.push(event);
    const content = event.content as {
      keys: { index: number; key: string };
      member: { claimed_device_id: string };
    };
    this.received.push({
      from: `${event.sender}:${content.member.claimed_device_id}`,
      index: content.keys.index,
      key: decodeBase64(padded(content.keys.key)),
      way: "toDevice",
      encrypted: event.encrypted,
    });
  }
}
