import { describe, expect, it } from "vitest";
import {
  canChangePowerLevels,
  canPublishMembership,
  groupCallsEnabledForEveryone,
  withGroupCallsEnabled,
} from "./groupPowerLevels.js";

const ME = "@me:x";
const MEMBER = "com.famedly.call.member";

describe("group call power levels (reference §10.1 item 9)", () => {
  it.each([
    [
      "member level 100 above everyone",
      { events: { [MEMBER]: 100 }, state_default: 50, users_default: 0 },
      false,
      false,
    ],
    ["member level 27 under users_default 49", { events: { [MEMBER]: 27 }, users_default: 49 }, true, true],
    ["admin, state_default 50", { state_default: 50, users: { [ME]: 100 }, users_default: 0 }, true, false],
    ["admin, no users_default", { state_default: 50, users: { [ME]: 100 } }, true, false],
    ["state_default 0", { state_default: 0, users: { [ME]: 100 } }, true, true],
    ["no state_default: 50", { users: { "@other:x": 100 } }, false, false],
    ["no power-levels event", undefined, true, true],
  ])("%s", (_name, levels, canJoin, enabled) => {
    expect(canPublishMembership(levels, ME)).toBe(canJoin);
    expect(groupCallsEnabledForEveryone(levels)).toBe(enabled);
  });

  it("enabling sets the member level to users_default (0 without it) and keeps the rest", () => {
    const levels = { state_default: 50, users: { [ME]: 100 }, events: { "m.room.name": 50 } };
    expect(canChangePowerLevels(levels, ME)).toBe(true);
    const enabled = withGroupCallsEnabled(levels);
    expect(enabled).toEqual({ ...levels, events: { "m.room.name": 50, [MEMBER]: 0 } });
    expect(groupCallsEnabledForEveryone(enabled)).toBe(true);
    expect(withGroupCallsEnabled({ users_default: 10, events: {} }).events).toEqual({ [MEMBER]: 10 });
    expect(canChangePowerLevels({ users: {}, events: { "m.room.power_levels": 100 } }, ME)).toBe(false);
  });
});
