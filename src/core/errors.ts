import { CallErrorCode } from "./callErrorCode.js";

/** Codes of {@link VoipError}: every {@link CallErrorCode}, plus API-level failures. */
export const VoipErrorCode = {
  ...CallErrorCode,
  /** The object is in a state where the operation makes no sense (ended call, disposed VoIP, …). */
  InvalidState: "invalid_state",
  /** An argument is malformed. */
  InvalidArgument: "invalid_argument",
  /** The platform or server lacks a feature the operation needs (DTMF sender, delayed events, …). */
  NotSupported: "not_supported",
  /** The homeserver refused the operation (power levels, permissions). */
  Forbidden: "forbidden",
  /** A request to the homeserver failed. */
  SendFailed: "send_failed",
} as const;

/** A {@link VoipErrorCode} value. */
export type VoipErrorCode = (typeof VoipErrorCode)[keyof typeof VoipErrorCode];

/** The error type of the library: a stable `code` and the underlying `cause`. */
export class VoipError extends Error {
  /** Always `"VoipError"`. */
  public override readonly name: string = "VoipError";

  public constructor(
    /** What went wrong, stable across releases: a {@link CallErrorCode} or an API-level code. */
    public readonly code: VoipErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link VoipError}, optionally with the given code. */
export function isVoipError(error: unknown, code?: VoipErrorCode): error is VoipError {
  return error instanceof VoipError && (code === undefined || error.code === code);
}

/**
 * A failed request to the homeserver, as reported by a `MatrixClientPort`: the Matrix `errcode`, the HTTP status
 * and, for `M_LIMIT_EXCEEDED`, how long the server asked us to wait.
 */
export class MatrixPortError extends Error {
  /** Always `"MatrixPortError"`. */
  public override readonly name: string = "MatrixPortError";

  public constructor(
    /** The Matrix `errcode` of the response (for example `M_FORBIDDEN`, `M_LIMIT_EXCEEDED`). */
    public readonly errcode: string,
    /** The HTTP status of the response; 0 when no response arrived (network error). */
    public readonly httpStatus: number,
    message: string,
    /** For `M_LIMIT_EXCEEDED`: how long the server asked us to wait before retrying, in milliseconds. */
    public readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
