// The README's usage example, kept compiling: `npm run typecheck` checks it against the real API.
import {
  CallType,
  VoIP,
  createBrowserDelegate,
  type CallSession,
  type CallState,
  type WrappedMediaStream,
} from "famedly-calls";
import { createMatrixJsSdkPort } from "famedly-calls/matrix-js-sdk";
import type { MatrixClient } from "matrix-js-sdk";

// What the app brings.
declare const matrixClient: MatrixClient;
declare const roomId: string;
declare const ringtone: { play(): void; pause(): void };
declare const ui: {
  showCall(call: CallSession): void;
  closeCall(call: CallSession): void;
  notifyMissed(call: CallSession): void;
  setState(state: CallState): void;
  render(stream: WrappedMediaStream | undefined): void;
  askToAnswer(call: CallSession): Promise<boolean>;
};

export async function example(): Promise<void> {
  // The platform (RTCPeerConnection, navigator.mediaDevices) plus the app's callbacks. In Node use
  // createNodeDelegate() from "famedly-calls/node"; any object implementing WebRTCDelegate works.
  const delegate = createBrowserDelegate({
    playRingtone: () => {
      ringtone.play();
    },
    stopRingtone: () => {
      ringtone.pause();
    },
    handleNewCall: (call) => {
      ui.showCall(call);
    },
    handleCallEnded: (call) => {
      ui.closeCall(call);
    },
    handleMissedCall: (call) => {
      ui.notifyMissed(call);
    },
  });

  const voip = new VoIP(createMatrixJsSdkPort(matrixClient), delegate);

  // Outgoing
  const call = await voip.inviteToCall(roomId, CallType.Video, "@bob:example.org");
  call.on("stateChanged", (state) => {
    ui.setState(state);
  });
  call.on("feedsChanged", () => {
    ui.render(call.remoteScreenSharingStream ?? call.remoteUserMediaStream);
  });

  // Incoming
  voip.on("incomingCall", (incoming) => {
    void (async () => {
      if (await ui.askToAnswer(incoming)) {
        await incoming.answer();
      } else {
        await incoming.reject();
      }
    })();
  });

  // In a call
  await call.setMicrophoneMuted(true);
  await call.setRemoteOnHold(true);
  await call.setScreensharingEnabled(true);
  await call.sendAssertedIdentity({ displayName: "Reception" }); // MSC3086; the peer's is call.remoteAssertedIdentity
  await call.hangup();
  await voip.dispose();
}
