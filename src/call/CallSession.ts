// Placeholder while the 1:1 call is written; replaced by the real class.
export declare class CallSession {
  readonly callId: string;
  readonly roomId: string;
}
