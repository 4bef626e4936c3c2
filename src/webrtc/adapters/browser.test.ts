import { afterEach, describe, expect, it, vi } from "vitest";
import { isVoipError, VoipErrorCode } from "../../core/errors.js";
import { createBrowserDelegate } from "./browser.js";

/** A stand-in for the browser's RTCPeerConnection that records its configuration. */
class FakePeerConnection {
  public static created: RTCConfiguration[] = [];
  public constructor(public readonly config: RTCConfiguration) {
    FakePeerConnection.created.push(config);
  }
}

/** A stand-in for `navigator.mediaDevices`: an EventTarget whose getUserMedia records its `this`. */
function fakeMediaDevices(): MediaDevices & { calledOn: unknown[] } {
  const calledOn: unknown[] = [];
  return Object.assign(new EventTarget(), {
    calledOn,
    ondevicechange: null,
    getUserMedia(this: unknown, constraints: MediaStreamConstraints) {
      calledOn.push(this);
      return Promise.resolve({ constraints } as unknown as MediaStream);
    },
  }) as unknown as MediaDevices & { calledOn: unknown[] };
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
    const config: RTCConfiguration = { iceServers: [{ urls: "stun:example.org" }] };
    const pc = await delegate.createPeerConnection(config);
    expect(pc).toBeInstanceOf(FakePeerConnection);
    expect(FakePeerConnection.created).toEqual([config]);
    const constraints = { audio: true };
    expect(await delegate.mediaDevices.getUserMedia(constraints)).toEqual({ constraints });
    expect(devices.calledOn).toEqual([devices]);
    // This fake browser has no screen capture and no device list: the delegate does not pretend otherwise.
    expect(delegate.mediaDevices.getDisplayMedia).toBeUndefined();
    expect(delegate.mediaDevices.enumerateDevices).toBeUndefined();
  });

  it("gives each delegate its own ondevicechange, leaving the page's handler alone", () => {
    const devices = fakeMediaDevices();
    const addListener = vi.spyOn(devices, "addEventListener");
    const removeListener = vi.spyOn(devices, "removeEventListener");
    vi.stubGlobal("navigator", { mediaDevices: devices });
    vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
    const appHandler = vi.fn();
    devices.ondevicechange = appHandler;
    const first = createBrowserDelegate();
    const second = createBrowserDelegate();
    const seen: string[] = [];
    first.mediaDevices.ondevicechange = () => seen.push("first");
    second.mediaDevices.ondevicechange = () => seen.push("second");
    expect(devices.ondevicechange).toBe(appHandler);

    devices.dispatchEvent(new Event("devicechange"));
    expect(seen).toEqual(["first", "second"]);

    // Clearing one (what VoIP.dispose does) detaches its listener and keeps the other.
    first.mediaDevices.ondevicechange = null;
    expect(first.mediaDevices.ondevicechange).toBeNull();
    devices.dispatchEvent(new Event("devicechange"));
    expect(seen).toEqual(["first", "second", "second"]);
    expect(addListener).toHaveBeenCalledTimes(2);
    expect(removeListener).toHaveBeenCalledTimes(1);
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
