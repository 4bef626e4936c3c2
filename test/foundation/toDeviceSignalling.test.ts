// Two raw peer connections from createNodeDelegate(), signalled through LocalHomeserver to-device messages:
// the foundation's proof that the Node WebRTC stack and the in-memory homeserver carry real media.
import { describe, expect, it } from "vitest";
import type { MatrixClientPort, ToDeviceEvent } from "../../src/index.js";
import { createNodeDelegate, probeRemoteMedia } from "../../src/node/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { deferredCleanup, until } from "../helpers/calls.js";

const SIGNAL = "org.example.test.signal";

interface Side {
  port: MatrixClientPort;
  pc: RTCPeerConnection;
  stream: MediaStream;
  remote: MediaStream[];
  received: ToDeviceEvent[];
  send: (content: object) => Promise<void>;
}

const defer = deferredCleanup();

async function side(
  hs: LocalHomeserver,
  userId: string,
  deviceId: string,
  peer: { userId: string; deviceId: string },
): Promise<Side> {
  const port = hs.createClient(userId, deviceId);
  const delegate = createNodeDelegate({ video: { width: 320, height: 240, fps: 15 } });
  const pc = await delegate.createPeerConnection({ iceServers: [] });
  const stream = await delegate.mediaDevices.getUserMedia({ audio: true, video: true });
  for (const track of stream.getTracks()) {
    pc.addTrack(track, stream);
  }
  const send = (content: object): Promise<void> =>
    port.sendToDevice(SIGNAL, { [peer.userId]: { [peer.deviceId]: content } }, { encrypted: true });
  const s: Side = { port, pc, stream, remote: [], received: [], send };
  const pending: RTCIceCandidateInit[] = [];
  pc.addEventListener("icecandidate", (e) => {
    const c = e.candidate;
    if (c) {
      void send({ candidate: c.toJSON() });
    }
  });
  pc.addEventListener("track", (e) => {
    const stream = e.streams[0];
    if (stream && !s.remote.includes(stream)) {
      s.remote.push(stream);
    }
  });
  port.onSync(async (batch) => {
    for (const event of batch.toDevice) {
      if (event.type !== SIGNAL) {
        continue;
      }
      s.received.push(event);
      const content = event.content as {
        description?: RTCSessionDescriptionInit;
        candidate?: RTCIceCandidateInit;
      };
      if (content.description) {
        await pc.setRemoteDescription(content.description);
        for (const c of pending.splice(0)) {
          await pc.addIceCandidate(c);
        }
        if (content.description.type === "offer") {
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          await send({ description: { type: "answer", sdp: answer.sdp } });
        }
      } else if (content.candidate) {
        if (pc.remoteDescription) {
          await pc.addIceCandidate(content.candidate);
        } else {
          pending.push(content.candidate);
        }
      }
    }
  });
  defer(() => {
    for (const track of stream.getTracks()) {
      track.stop();
    }
    pc.close();
  });
  return s;
}

describe("Node WebRTC signalled over LocalHomeserver to-device", () => {
  it("carries audio and video bytes both ways, with Olm-style encrypted to-device signalling", async () => {
    const hs = new LocalHomeserver();
    defer(() => hs.close());
    await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], encrypted: true });
    const alice = await side(hs, "@alice:local", "ALICE", { userId: "@bob:local", deviceId: "BOB" });
    const bob = await side(hs, "@bob:local", "BOB", { userId: "@alice:local", deviceId: "ALICE" });

    const offer = await alice.pc.createOffer();
    await alice.pc.setLocalDescription(offer);
    await alice.send({
      description: { type: "offer", sdp: offer.sdp },
    });

    await until(
      () => alice.pc.connectionState === "connected" && bob.pc.connectionState === "connected",
      "both connected",
      10_000,
    );
    await until(() => alice.remote.length > 0 && bob.remote.length > 0, "remote streams on both sides");
    const probes = [probeRemoteMedia(alice.remote[0]!), probeRemoteMedia(bob.remote[0]!)];
    defer(() => {
      for (const p of probes) {
        p.stop();
      }
    });
    await until(
      () => probes.every((p) => p.audioSamples() > 0 && p.videoFrames() > 0),
      "media both ways",
      10_000,
    );

    for (const pc of [alice.pc, bob.pc]) {
      const report = await pc.getStats();
      const inbound = [
        ...(report as Map<string, { type: string; kind?: string; bytesReceived?: number }>).values(),
      ].filter((s) => s.type === "inbound-rtp");
      expect(inbound.find((s) => s.kind === "audio")?.bytesReceived).toBeGreaterThan(0);
      expect(inbound.find((s) => s.kind === "video")?.bytesReceived).toBeGreaterThan(0);
    }
    // Every signal crossed the server as an encrypted to-device message from the verified sending device.
    for (const s of [alice, bob]) {
      expect(s.received.length).toBeGreaterThan(0);
      expect(s.received.every((e) => e.encrypted && e.senderDevice === (s === alice ? "BOB" : "ALICE"))).toBe(
        true,
      );
    }
    const wire = hs.transcript().filter((e) => e.kind === "toDevice" && e.type === SIGNAL);
    expect(wire.length).toBe(alice.received.length + bob.received.length);
    expect(wire.every((e) => e.encrypted && !JSON.stringify(e.content).includes("v=0"))).toBe(true);
  });
});
