import type { DelegateMediaDevices } from "../webrtc/WebRTCDelegate.js";
import type { VideoFormat } from "./frames.js";
import { createPatternTrack, createSyntheticStream, createToneTrack } from "./syntheticMedia.js";
import type { WrtcModule } from "./wrtc.js";

/** What the synthetic devices can produce and which requests they refuse. */
export interface SyntheticDeviceConfig {
  audio: boolean;
  video: VideoFormat | false;
  screen: VideoFormat;
  failGetUserMedia: boolean;
  failGetDisplayMedia: boolean;
}

/** Media devices of the Node delegate: every method always present, `ondevicechange` settable. */
export type NodeMediaDevices = Required<Omit<DelegateMediaDevices, "ondevicechange">> & {
  ondevicechange: (() => void) | null;
};

const GROUP_ID = "famedly-calls-synthetic";

/**
 * Synthetic media devices on top of `@roamhq/wrtc` sources: a 440 Hz microphone, a moving-bar camera and a
 * screen. Every call returns fresh tracks with their own sources; stopping a track (and all its clones) stops
 * its source. Errors are `DOMException`s named as a browser would name them.
 */
export function createNodeMediaDevices(wrtc: WrtcModule, config: SyntheticDeviceConfig): NodeMediaDevices {
  return {
    ondevicechange: null,

    getUserMedia(constraints?: MediaStreamConstraints): Promise<MediaStream> {
      if (config.failGetUserMedia) {
        return Promise.reject(new DOMException("Permission denied (failGetUserMedia)", "NotAllowedError"));
      }
      const wantAudio = isRequested(constraints?.audio);
      const wantVideo = isRequested(constraints?.video);
      if (!wantAudio && !wantVideo) {
        return Promise.reject(
          new TypeError("getUserMedia: at least one of audio and video must be requested"),
        );
      }
      const tracks: MediaStreamTrack[] = [];
      if (wantAudio && config.audio) {
        tracks.push(createToneTrack(wrtc));
      }
      if (wantVideo && config.video !== false) {
        tracks.push(createPatternTrack(wrtc, config.video, "camera"));
      }
      if (tracks.length === 0) {
        return Promise.reject(new DOMException("Requested device not found", "NotFoundError"));
      }
      return Promise.resolve(createSyntheticStream(wrtc, tracks));
    },

    getDisplayMedia(): Promise<MediaStream> {
      if (config.failGetDisplayMedia) {
        return Promise.reject(new DOMException("Permission denied (failGetDisplayMedia)", "NotAllowedError"));
      }
      return Promise.resolve(
        createSyntheticStream(wrtc, [createPatternTrack(wrtc, config.screen, "screen")]),
      );
    },

    enumerateDevices(): Promise<MediaDeviceInfo[]> {
      const devices: MediaDeviceInfo[] = [];
      if (config.audio) {
        devices.push(deviceInfo("audioinput", "synthetic-microphone", "Synthetic microphone (440 Hz tone)"));
      }
      if (config.video !== false) {
        devices.push(deviceInfo("videoinput", "synthetic-camera", "Synthetic camera (moving bar)"));
      }
      devices.push(deviceInfo("audiooutput", "synthetic-speaker", "Synthetic speaker"));
      return Promise.resolve(devices);
    },
  };
}

/** `audio: true` or a constraints object requests the kind; `false` and absent do not. */
function isRequested(constraint: boolean | MediaTrackConstraints | undefined): boolean {
  return constraint !== undefined && constraint !== false;
}

function deviceInfo(kind: MediaDeviceKind, deviceId: string, label: string): MediaDeviceInfo {
  const json = { deviceId, groupId: GROUP_ID, kind, label };
  return { ...json, toJSON: () => ({ ...json }) };
}
