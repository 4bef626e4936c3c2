// Runs a command in a private network namespace when we may (root, unshare(1) and ip(8) present), so that tests with
// real WebRTC (LiveKit SFU, Chromium) cannot send a single packet off this machine. Inside: `lo` up, plus a veth pair
// whose two ends both live in the namespace (198.18.0.1/24, 198.18.0.2/24, RFC 2544 benchmark addresses) because
// libwebrtc gathers no ICE candidate on loopback alone. No default route: every address but these is unreachable.
// The command sees FAMEDLY_CALLS_NETNS=1.
import { spawnSync } from "node:child_process";

/** The shell snippet that sets the namespace up, then execs "$@". */
const SETUP = [
  "set -e",
  "ip link set lo up",
  "ip link add fc-veth0 type veth peer name fc-veth1",
  "ip addr add 198.18.0.1/24 dev fc-veth0",
  "ip addr add 198.18.0.2/24 dev fc-veth1",
  "ip link set fc-veth0 up",
  "ip link set fc-veth1 up",
  'exec "$@"',
].join("\n");

/** Why we cannot isolate here (undefined when we can). */
export function netnsUnavailable() {
  if (process.platform !== "linux") {
    return "not Linux";
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return "not root (unshare -n needs CAP_SYS_ADMIN)";
  }
  for (const tool of ["unshare", "ip"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0) {
      return `${tool} not found`;
    }
  }
  if (spawnSync("unshare", ["-n", "true"], { stdio: "ignore" }).status !== 0) {
    return "unshare -n failed (no permission in this container?)";
  }
  return undefined;
}

/** `command args` wrapped so that it runs in a fresh network namespace (call only when netnsUnavailable() is undefined). */
export function inNetns(command, args) {
  return { command: "unshare", args: ["-n", "--", "sh", "-c", SETUP, "sh", command, ...args] };
}
