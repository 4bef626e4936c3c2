import { describe, expect, it } from "vitest";

import { isVoipError } from "../core/errors.js";
import { loadWrtc, loadWrtcWith } from "./wrtc.js";

describe("loadWrtc", () => {
  it("loads the installed @roamhq/wrtc once", () => {
    const wrtc = loadWrtc();
    expect(typeof wrtc.RTCPeerConnection).toBe("function");
    expect(typeof wrtc.nonstandard.RTCAudioSource).toBe("function");
    expect(loadWrtc()).toBe(wrtc);
  });

  it("reports a missing package as not_supported, naming the package to install", () => {
    const notFound = Object.assign(new Error("Cannot find module '@roamhq/wrtc'"), {
      code: "MODULE_NOT_FOUND",
    });
    let caught: unknown;
    try {
      loadWrtcWith(() => {
        throw notFound;
      });
    } catch (error) {
      caught = error;
    }
    expect(isVoipError(caught, "not_supported")).toBe(true);
    expect((caught as Error).message).toContain("npm install @roamhq/wrtc");
    expect((caught as Error).cause).toBe(notFound);
  });

  it("reports a broken native binary or a foreign module as not_supported", () => {
    expect(() =>
      loadWrtcWith(() => {
        throw new Error("invalid ELF header");
      }),
    ).toThrow(/could not load @roamhq\/wrtc/);
    expect(() => loadWrtcWith(() => ({ RTCPeerConnection: () => undefined }))).toThrow(
      /lacks RTCPeerConnection/,
    );
  });
});
