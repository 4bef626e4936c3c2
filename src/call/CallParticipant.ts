/** One device taking part in a call: `${userId}:${deviceId}`. */
export class CallParticipant {
  /** `${userId}:${deviceId}`, the id used for ordering (mesh caller selection) and key maps. */
  public readonly id: string;

  public constructor(
    /** The Matrix user id, e.g. `@alice:example.org`. */
    public readonly userId: string,
    /** The device id; empty when the remote device is not known. */
    public readonly deviceId: string,
    /** True for our own device. */
    public readonly isLocal = false,
  ) {
    this.id = `${userId}:${deviceId}`;
  }

  /** Same user and device. */
  public equals(other: CallParticipant): boolean {
    return this.userId === other.userId && this.deviceId === other.deviceId;
  }

  /** The id. */
  public toString(): string {
    return this.id;
  }
}
