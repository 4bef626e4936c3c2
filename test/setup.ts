// Test-process setup: @roamhq/wrtc may segfault or hang at process exit once a media source existed.
import { installExitGuard } from "../src/node/exitGuard.js";

installExitGuard();
