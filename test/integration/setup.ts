// Per-worker setup of the integration suite: quiet matrix-js-sdk and its Rust crypto.
// MATRIX_LOG_LEVEL=debug keeps everything (useful when a test fails).
if (process.env.MATRIX_LOG_LEVEL !== "debug") {
  // js-sdk (loglevel child loggers pinned at debug) and Rust crypto tracing (turned on at debug by every
  // initRustCrypto) write through console.*; the tests report through assertions, so only errors stay visible,
  // minus js-sdk's MatrixRTC complaining about rooms it has not seen yet during the initial sync.
  const quiet = (): void => undefined;
  console.debug = quiet;
  console.info = quiet;
  console.log = quiet;
  console.warn = quiet;
  const error = console.error.bind(console);
  console.error = (...args: unknown[]): void => {
    if (typeof args[0] === "string" && args[0].startsWith("[MatrixRTC")) {
      return;
    }
    error(...args);
  };
}
