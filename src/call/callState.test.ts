import { describe, expect, it } from "vitest";
import { isVoipError } from "../core/errors.js";
import { CALL_TRANSITIONS, assertTransition, canTransition } from "./callState.js";
import { CallState } from "./types.js";

const ALL = Object.values(CallState);

describe("call state machine", () => {
  it("has an entry for every state", () => {
    expect(Object.keys(CALL_TRANSITIONS).sort()).toEqual([...ALL].sort());
  });

  it("accepts exactly the edges of the table and rejects every other pair", () => {
    for (const from of ALL) {
      for (const to of ALL) {
        const legal = CALL_TRANSITIONS[from].includes(to);
        expect(canTransition(from, to)).toBe(legal);
        if (legal) {
          expect(() => {
            assertTransition(from, to);
          }).not.toThrow();
        } else {
          let caught: unknown;
          try {
            assertTransition(from, to);
          } catch (error) {
            caught = error;
          }
          expect(isVoipError(caught, "invalid_state")).toBe(true);
        }
      }
    }
  });

  it("makes Ended final and reachable from every other state", () => {
    expect(CALL_TRANSITIONS[CallState.Ended]).toEqual([]);
    for (const from of ALL.filter((s) => s !== CallState.Ended)) {
      expect(canTransition(from, CallState.Ended)).toBe(true);
    }
  });

  it("reaches Connected on both the outgoing and the incoming path", () => {
    const outgoing = [
      CallState.Fledgling,
      CallState.CreateOffer,
      CallState.InviteSent,
      CallState.Connecting,
      CallState.Connected,
    ];
    const incoming = [
      CallState.Fledgling,
      CallState.Ringing,
      CallState.CreateAnswer,
      CallState.Connecting,
      CallState.Connected,
    ];
    for (const path of [outgoing, incoming]) {
      for (let i = 1; i < path.length; i++) {
        expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
      }
    }
  });
});
