import { MatrixPortError } from "../../../core/errors.js";

/**
 * Maps anything matrix-js-sdk throws to a {@link MatrixPortError}. The mapping reads the error's shape, not its
 * class, so it also works when the app bundles another copy of the SDK:
 *
 * - `MatrixError` (a JSON error body): its `errcode`, `httpStatus` and retry-after (header or `retry_after_ms`);
 * - `HTTPError` (a non-JSON error body): `M_UNKNOWN` with its `httpStatus`;
 * - `ConnectionError` and fetch failures (no HTTP status): `M_CONNECTION_FAILED` with `httpStatus` 0;
 * - `UnsupportedDelayedEventsEndpointError`: `M_UNRECOGNIZED` 404, as a server without the endpoint answers;
 * - anything else (crypto failures, bugs): `M_UNKNOWN` 500, or its own `errcode` if it carries one.
 */
export function toMatrixPortError(error: unknown, what: string): MatrixPortError {
  if (error instanceof MatrixPortError) {
    return error;
  }
  const shape = readShape(error);
  const message = `${what}: ${shape.message}`;
  if (shape.name === "UnsupportedDelayedEventsEndpointError") {
    return new MatrixPortError("M_UNRECOGNIZED", 404, message, undefined, { cause: error });
  }
  if (shape.httpStatus !== undefined && shape.httpStatus > 0) {
    const errcode = shape.errcode ?? (shape.httpStatus === 429 ? "M_LIMIT_EXCEEDED" : "M_UNKNOWN");
    return new MatrixPortError(errcode, shape.httpStatus, message, retryAfterMs(error, shape), {
      cause: error,
    });
  }
  if (shape.name === "ConnectionError" || shape.name === "AbortError") {
    return new MatrixPortError("M_CONNECTION_FAILED", 0, message, undefined, { cause: error });
  }
  return new MatrixPortError(shape.errcode ?? "M_UNKNOWN", 500, message, undefined, { cause: error });
}

/**
 * True for failures a retry with the same transaction id may fix: a network failure or a 5xx answer from the
 * server. Reads the original error (not the mapped one), so that local failures (crypto, bugs) are never retried.
 */
export function isTransportFailure(error: unknown): boolean {
  if (error instanceof MatrixPortError) {
    return error.httpStatus === 0 || error.httpStatus >= 500;
  }
  const shape = readShape(error);
  if (shape.httpStatus !== undefined && shape.httpStatus > 0) {
    return shape.httpStatus >= 500;
  }
  return shape.name === "ConnectionError" || shape.name === "AbortError";
}

/** True for a network failure (no HTTP answer at all). */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof MatrixPortError) {
    return error.httpStatus === 0;
  }
  const shape = readShape(error);
  return shape.httpStatus === undefined && (shape.name === "ConnectionError" || shape.name === "AbortError");
}

interface ErrorShape {
  name?: string;
  message: string;
  errcode?: string;
  httpStatus?: number;
  data?: Record<string, unknown>;
}

function readShape(error: unknown): ErrorShape {
  if (typeof error !== "object" || error === null) {
    return { message: String(error) };
  }
  const record = error as Record<string, unknown>;
  const data = isRecord(record.data) ? record.data : undefined;
  const errcode =
    typeof record.errcode === "string"
      ? record.errcode
      : typeof data?.errcode === "string"
        ? data.errcode
        : undefined;
  return {
    name: typeof record.name === "string" ? record.name : undefined,
    message: typeof record.message === "string" ? record.message : "unknown error",
    errcode,
    httpStatus: typeof record.httpStatus === "number" ? record.httpStatus : undefined,
    data,
  };
}

function retryAfterMs(error: unknown, shape: ErrorShape): number | undefined {
  const getter = (error as { getRetryAfterMs?: unknown }).getRetryAfterMs;
  if (typeof getter === "function") {
    try {
      const ms: unknown = getter.call(error);
      if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) {
        return ms;
      }
    } catch {
      // A malformed Retry-After header: fall through to the body.
    }
  }
  const fromBody = shape.data?.retry_after_ms;
  return typeof fromBody === "number" && Number.isFinite(fromBody) && fromBody >= 0 ? fromBody : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
