import type { CallParticipant } from "../call/CallParticipant.js";
import type { CallSession } from "../call/CallSession.js";
import type { WrappedMediaStream } from "../call/WrappedMediaStream.js";
import type { VoipError } from "../core/errors.js";

/** The state of a {@link GroupCallSession} (reference §2.10; `entering` is never set there and is left out). */
export enum GroupCallState {
  /** Known (discovered or fetched), not entered, no local media. */
  LocalCallFeedUninitialized = "local_call_feed_uninitialized",
  /** `enter()` is acquiring local media (mesh). */
  InitializingLocalCallFeed = "initializing_local_call_feed",
  /** Local media is ready; `enter()` publishes the membership next. */
  LocalCallFeedInitialized = "local_call_feed_initialized",
  /** Our membership is published; we are in the call. */
  Entered = "entered",
  /** `leave()` is removing our membership. */
  Leaving = "leaving",
  /** We left, or the call ended (no member left). Final. */
  Ended = "ended",
}

/** A reaction someone sent in the call (reference §8.1). */
export interface GroupCallReaction {
  /** Who reacted (sender and `device_id` of the reaction). */
  participant: CallParticipant;
  /** The reaction key, e.g. an emoji. */
  key: string;
  /** The reaction event's id (pass it to `removeReaction` for our own). */
  eventId: string;
  /** The membership state event the reaction refers to. */
  membershipEventId: string;
  /** Ephemeral reactions (a hand wave) are not carried over when the membership is re-sent. */
  ephemeral: boolean;
}

/** A reaction that was removed (redacted). */
export interface GroupCallReactionRemoved {
  /** Who removed it (sender and `device_id` of the redaction). */
  participant: CallParticipant;
  /** The id of the removed reaction event. */
  redactedEventId: string;
}

/** Events of a {@link GroupCallSession}. Each is also delivered, in order, on `event` as a {@link GroupCallEvent}. */
export interface GroupCallEvents {
  /** The state changed. */
  stateChanged: (state: GroupCallState, previous: GroupCallState) => void;
  /** Devices joined the call (membership published, or our own `enter`). */
  participantsJoined: (participants: CallParticipant[]) => void;
  /** Devices left the call (membership removed or expired). */
  participantsLeft: (participants: CallParticipant[]) => void;
  /** A mesh leg was added. */
  callAdded: (call: CallSession) => void;
  /** A mesh leg was removed. */
  callRemoved: (call: CallSession) => void;
  /** A mesh leg was replaced by a new call with the same participant. */
  callReplaced: (existing: CallSession, replacement: CallSession) => void;
  /** A stream was added (local or remote). */
  streamAdded: (stream: WrappedMediaStream) => void;
  /** A stream was removed. */
  streamRemoved: (stream: WrappedMediaStream) => void;
  /** A participant's stream was replaced. */
  streamReplaced: (stream: WrappedMediaStream) => void;
  /** The loudest participant changed (mesh). */
  activeSpeakerChanged: (participant: CallParticipant | undefined) => void;
  /** Our microphone or camera was muted or unmuted. */
  localMuteChanged: (change: LocalMuteChange) => void;
  /** Our screen sharing started or stopped. */
  localScreenshareChanged: (enabled: boolean) => void;
  /** A reaction arrived. */
  reactionAdded: (reaction: GroupCallReaction) => void;
  /** A reaction was removed. */
  reactionRemoved: (reaction: GroupCallReactionRemoved) => void;
  /** An SFU media key of a participant was installed (LiveKit). */
  keysChanged: (change: KeysChange) => void;
  /** Something failed in the background (a refresh, a key send …); the call goes on. */
  error: (error: VoipError) => void;
  /** Every event above, in order, as one tagged object. */
  event: (event: GroupCallEvent) => void;
}

/**
 * Every group event as one tagged object: `kind` is the event name, the other fields are the listener's
 * arguments by name (`stateChanged` → `{ kind, state, previous }`; `localMuteChanged` → `{ kind, change }`).
 */
export type GroupCallEvent =
  | {
      /** The event name. */ kind: "stateChanged";
      /** The new state. */ state: GroupCallState;
      /** The state before. */ previous: GroupCallState;
    }
  | {
      /** The event name. */ kind: "participantsJoined" | "participantsLeft";
      /** The devices that joined or left. */ participants: CallParticipant[];
    }
  | {
      /** The event name. */ kind: "callAdded" | "callRemoved";
      /** The mesh leg. */ call: CallSession;
    }
  | {
      /** The event name. */ kind: "callReplaced";
      /** The leg that was replaced. */ existing: CallSession;
      /** The leg that replaces it. */ replacement: CallSession;
    }
  | {
      /** The event name. */ kind: "streamAdded" | "streamRemoved" | "streamReplaced";
      /** The stream. */ stream: WrappedMediaStream;
    }
  | {
      /** The event name. */ kind: "activeSpeakerChanged";
      /** The loudest participant, if any. */ participant: CallParticipant | undefined;
    }
  | {
      /** The event name. */ kind: "localMuteChanged";
      /** What was muted or unmuted. */ change: LocalMuteChange;
    }
  | {
      /** The event name. */ kind: "localScreenshareChanged";
      /** Whether we share our screen now. */ enabled: boolean;
    }
  | {
      /** The event name. */ kind: "reactionAdded";
      /** The reaction. */ reaction: GroupCallReaction;
    }
  | {
      /** The event name. */ kind: "reactionRemoved";
      /** The removal. */ reaction: GroupCallReactionRemoved;
    }
  | {
      /** The event name. */ kind: "keysChanged";
      /** Whose key, at which index. */ change: KeysChange;
    }
  | {
      /** The event name. */ kind: "error";
      /** What failed. */ error: VoipError;
    };

/** Our microphone or camera was muted or unmuted (`localMuteChanged`). */
export interface LocalMuteChange {
  /** `audio` for the microphone, `video` for the camera. */
  kind: "audio" | "video";
  /** Muted now. */
  muted: boolean;
}

/** An SFU media key was installed (`keysChanged`). */
export interface KeysChange {
  /** Whose key. */
  participant: CallParticipant;
  /** The key index. */
  index: number;
}

/** @internal The named event and its arguments for a tagged event. */
export function eventArgs(event: GroupCallEvent): {
  name: Exclude<keyof GroupCallEvents, "event">;
  args: unknown[];
} {
  switch (event.kind) {
    case "stateChanged":
      return { name: event.kind, args: [event.state, event.previous] };
    case "participantsJoined":
    case "participantsLeft":
      return { name: event.kind, args: [event.participants] };
    case "callAdded":
    case "callRemoved":
      return { name: event.kind, args: [event.call] };
    case "callReplaced":
      return { name: event.kind, args: [event.existing, event.replacement] };
    case "streamAdded":
    case "streamRemoved":
    case "streamReplaced":
      return { name: event.kind, args: [event.stream] };
    case "activeSpeakerChanged":
      return { name: event.kind, args: [event.participant] };
    case "localMuteChanged":
    case "keysChanged":
      return { name: event.kind, args: [event.change] };
    case "localScreenshareChanged":
      return { name: event.kind, args: [event.enabled] };
    case "reactionAdded":
    case "reactionRemoved":
      return { name: event.kind, args: [event.reaction] };
    case "error":
      return { name: event.kind, args: [event.error] };
  }
}
