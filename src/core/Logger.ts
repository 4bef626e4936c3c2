/** Structured context attached to a log line. */
export type LogContext = Record<string, unknown>;

/**
 * The logger the library writes to. The default is silent: a library does not write to the console unasked.
 *
 * Levels: `info` one line per lifecycle transition; `debug` payload shapes and dropped input; `warn` recovered
 * anomalies and retries; `error` gave up. SDP and key material never appear above `debug`.
 */
export interface Logger {
  /** Payload shapes and dropped input; SDP and key material never appear above this level. */
  debug(message: string, context?: LogContext): void;
  /** One line per lifecycle transition. */
  info(message: string, context?: LogContext): void;
  /** A recovered anomaly or a retry. */
  warn(message: string, context?: LogContext): void;
  /** A failure the library gave up on. */
  error(message: string, context?: LogContext): void;
  /** A logger whose lines are prefixed with `namespace`. */
  child(namespace: string): Logger;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger writing to the console at `minLevel` and above, each line prefixed with its namespace. */
export function consoleLogger(minLevel: LogLevel = "info", namespace = "famedly-calls"): Logger {
  const write = (level: LogLevel, message: string, context?: LogContext): void => {
    if (LEVELS[level] < LEVELS[minLevel]) {
      return;
    }
    const line = `[${namespace}] ${message}`;
    if (context === undefined) {
      console[level](line);
    } else {
      console[level](line, context);
    }
  };
  return {
    debug: (m, c) => {
      write("debug", m, c);
    },
    info: (m, c) => {
      write("info", m, c);
    },
    warn: (m, c) => {
      write("warn", m, c);
    },
    error: (m, c) => {
      write("error", m, c);
    },
    child: (ns) => consoleLogger(minLevel, `${namespace}:${ns}`),
  };
}
