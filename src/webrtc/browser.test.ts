import { afterEach, describe, expect, it, vi } from "vitest";
import { isVoipError, VoipErrorCode } from "../core/errors.js";
import { createBrowserDelegate } from "./browser.js";

/** A stand-in for the browser's RTCPeerConnection that records its configuration. */
class FakePeerConnection {
  public static created: RTCConfiguration[] = [];
  public constructor(public readonly config: RTCConfiguration) {
    FakePeerConnection.created.push(config);
  }
}

function fakeMediaDevices(): MediaDevices {
  return { getUserMedia: vi.fn(), ondevicechange: null } as unknown as MediaDevices;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakePeerConnection.created = [];
});

describe("createBrowserDelegate", () => {
  it("throws not_supported outside a browser (no navigator, no RTCPeerConnection)", () => {
    vi.stubGlobal("navigator", undefined);
    vi.stubGlobal("RTCPeerConnection", undefined);
    const error = catchError(() => createBrowserDelegate());
    expect(isVoipError(error, VoipErrorCode.NotSupported)).toBe(true);
    expect((error as Error).message).toMatch(/mediaDevices/);
  });

  it("throws not_supported in an insecure context (navigator without mediaDevices)", () => {
    vi.stubGlobal("navigator", {});
    vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
    const error = catchError(() => createBrowserDelegate());
    expect(isVoipError(error, VoipErrorCode.NotSupported)).toBe(true);
    expect((error as Error).message).toMatch(/secure context/);
  });

  it("throws not_supported when media devices exist but RTCPeerConnection does not", () => {
    vi.stubGlobal("navigator", { mediaDevices: fakeMediaDevices() });
    vi.stubGlobal("RTCPeerConnection", undefined);
    const error = catchError(() => createBrowserDelegate());
    expect(isVoipError(error, VoipErrorCode.NotSupported)).toBe(true);
    expect((error as Error).message).toMatch(/RTCPeerConnection/);
  });

  it("uses the page's RTCPeerConnection and navigator.mediaDevices, with isWeb true", async () => {
    const devices = fakeMediaDevices();
    vi.stubGlobal("navigator", { mediaDevices: devices });
    vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
    const delegate = createBrowserDelegate();
    expect(delegate.isWeb).toBe(true);
    expect(delegate.mediaDevices).toBe(devices);
    const config: RTCConfiguration = { iceServers: [{ urls: "stun:example.org" }] };
    const pc = await delegate.createPeerConnection(config);
    expect(pc).toBeInstanceOf(FakePeerConnection);
    expect(FakePeerConnection.created).toEqual([config]);
  });

  it("passes the app's callbacks through and keeps isWeb true", () => {
    vi.stubGlobal("navigator", { mediaDevices: fakeMediaDevices() });
    vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
    const handleNewCall = vi.fn();
    const playRingtone = vi.fn();
    const delegate = createBrowserDelegate({
      handleNewCall,
      playRingtone,
      canHandleNewCall: false,
      isWeb: false,
    });
    expect(delegate).toMatchObject({ handleNewCall, playRingtone, canHandleNewCall: false, isWeb: true });
  });

  it("needs no globals when the app supplies media devices and peer connections itself", async () => {
    vi.stubGlobal("navigator", undefined);
    vi.stubGlobal("RTCPeerConnection", undefined);
    const devices = fakeMediaDevices();
    const created = { marker: "pc" } as unknown as RTCPeerConnection;
    const delegate = createBrowserDelegate({ mediaDevices: devices, createPeerConnection: () => created });
    expect(delegate.mediaDevices).toBe(devices);
    expect(await delegate.createPeerConnection({})).toBe(created);
  });
});
