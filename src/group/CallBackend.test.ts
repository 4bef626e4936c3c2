import { describe, expect, it } from "vitest";
import {
  callBackendFromJson,
  callBackendFromMembership,
  LiveKitBackend,
  MeshBackend,
} from "./CallBackend.js";

const lk = (url: string, alias: string, e2ee?: boolean) =>
  new LiveKitBackend({
    livekitServiceUrl: url,
    livekitAlias: alias,
    ...(e2ee === undefined ? {} : { e2eeEnabled: e2ee }),
  });

describe("CallBackend configurations (reference §2.4–§2.6)", () => {
  it("mesh: type, wire form, equality by type, no SFU keys", () => {
    const mesh = new MeshBackend();
    expect(mesh.type).toBe("mesh");
    expect(mesh.toJson()).toEqual({ type: "mesh" });
    expect(mesh.e2eeEnabled).toBe(false);
    expect(mesh.equals(new MeshBackend())).toBe(true);
    expect(mesh.equals(lk("u", "a"))).toBe(false);
  });

  it("livekit: wire form with both fields, equality by type + url + alias, e2ee on by default", () => {
    const a = lk("https://lk/jwt", "!r:x");
    expect(a.toJson()).toEqual({
      type: "livekit",
      livekit_alias: "!r:x",
      livekit_service_url: "https://lk/jwt",
    });
    expect(a.e2eeEnabled).toBe(true);
    expect(lk("u", "a", false).e2eeEnabled).toBe(false);
    expect(a.equals(lk("https://lk/jwt", "!r:x", false))).toBe(true);
    expect(a.equals(lk("https://other/jwt", "!r:x"))).toBe(false);
    expect(a.equals(lk("https://lk/jwt", "!other:x"))).toBe(false);
    expect(a.equals(new MeshBackend())).toBe(false);
  });

  it("reads the wire form back; unknown types are an invalid_argument error", () => {
    expect(callBackendFromJson({ type: "mesh" })).toEqual(new MeshBackend());
    expect(callBackendFromJson(lk("u", "a").toJson()).equals(lk("u", "a"))).toBe(true);
    expect(() => callBackendFromJson({ type: "sip" })).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => callBackendFromJson({ type: "livekit" })).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(
      callBackendFromMembership({ type: "livekit", livekitServiceUrl: "u", livekitAlias: "a" }).toJson(),
    ).toEqual(lk("u", "a").toJson());
  });
});
