import {
  ConnectionError,
  HTTPError,
  MatrixError,
  UnsupportedDelayedEventsEndpointError,
} from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { MatrixPortError } from "../../../core/errors.js";
import { isTransportFailure, toMatrixPortError } from "./errors.js";

describe("toMatrixPortError", () => {
  it("keeps the errcode and status of a Matrix error answer", () => {
    const error = toMatrixPortError(new MatrixError({ errcode: "M_FORBIDDEN", error: "no" }, 403), "send");
    expect(error).toBeInstanceOf(MatrixPortError);
    expect(error).toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403, retryAfterMs: undefined });
    expect(error.message).toContain("send:");
  });

  it("reads how long to wait from a rate-limit answer (body or Retry-After header)", () => {
    const body = new MatrixError(
      { errcode: "M_LIMIT_EXCEEDED", error: "slow down", retry_after_ms: 1234 },
      429,
    );
    expect(toMatrixPortError(body, "send")).toMatchObject({
      errcode: "M_LIMIT_EXCEEDED",
      httpStatus: 429,
      retryAfterMs: 1234,
    });
    const header = new MatrixError(
      { errcode: "M_LIMIT_EXCEEDED" },
      429,
      undefined,
      undefined,
      new Headers({ "Retry-After": "3" }),
    );
    expect(toMatrixPortError(header, "send").retryAfterMs).toBe(3000);
  });

  it("maps non-JSON HTTP errors, network failures and missing endpoints", () => {
    expect(toMatrixPortError(new HTTPError("bad gateway", 502), "x")).toMatchObject({
      errcode: "M_UNKNOWN",
      httpStatus: 502,
    });
    expect(toMatrixPortError(new ConnectionError("fetch failed"), "x")).toMatchObject({
      errcode: "M_CONNECTION_FAILED",
      httpStatus: 0,
    });
    expect(
      toMatrixPortError(
        new UnsupportedDelayedEventsEndpointError("unsupported", "sendDelayedStateEvent"),
        "x",
      ),
    ).toMatchObject({ errcode: "M_UNRECOGNIZED", httpStatus: 404 });
  });

  it("maps local failures to M_UNKNOWN 500 and passes MatrixPortErrors through", () => {
    expect(toMatrixPortError(new Error("olm exploded"), "x")).toMatchObject({
      errcode: "M_UNKNOWN",
      httpStatus: 500,
    });
    expect(toMatrixPortError("a string", "x").message).toBe("x: a string");
    const own = new MatrixPortError("M_UNKNOWN_DEVICE", 400, "nope");
    expect(toMatrixPortError(own, "x")).toBe(own);
  });
});

describe("isTransportFailure", () => {
  it("is true for network failures and 5xx answers only", () => {
    expect(isTransportFailure(new ConnectionError("fetch failed"))).toBe(true);
    expect(isTransportFailure(new MatrixError({ errcode: "M_UNKNOWN" }, 503))).toBe(true);
    expect(isTransportFailure(new HTTPError("bad gateway", 502))).toBe(true);
    expect(isTransportFailure(new MatrixError({ errcode: "M_LIMIT_EXCEEDED" }, 429))).toBe(false);
    expect(isTransportFailure(new MatrixError({ errcode: "M_FORBIDDEN" }, 403))).toBe(false);
    expect(isTransportFailure(new Error("This room is configured to use encryption"))).toBe(false);
  });
});
