/**
 * The option that says how our SFU media keys go to Element peers (matrix-js-sdk's MatrixRTC):
 *
 * - `"room"`: one `io.element.call.encryption_keys` room event per key, read by every Element member (matrix-js-sdk
 *   ≤ v41.0's default; v37.5 reads only these unless it runs with `useExperimentalToDeviceTransport`).
 * - `"to-device"`: Olm-encrypted to-device per Element device (matrix-js-sdk ≥ v41.1).
 * - `"auto"` (default): room events until an Element member's keys come to-device, then to-device to that member;
 *   a member that once sent a room-event key keeps getting room events (matrix-js-sdk then ignores to-device keys).
 *
 * Room events are used only where they are not cleartext (PROTOCOL K3): in encrypted rooms, or with
 * `allowPlaintextKeys` in unencrypted ones; elsewhere keys go to-device whatever the option.
 */
export type ElementKeyTransport = "room" | "to-device" | "auto";
