// Types for the browser-side hooks the e2e test and the benchmark drive (the mock host's
// control API, exposed by src/ipc/index.ts as window.__mockHost; the tones, window.__tones).
// Type-checking only.
export {};

interface MockHostControl {
  setRate(perSecond: number): void;
  setSyncRate(perSecond: number): void;
  setOnline(online: boolean): void;
  failSync(code?: "unauthorized" | "forbidden"): void;
  seed(n: number, syncState?: "sent" | "pending"): number;
  closeRemotely(): void;
  loseInCloud(n: number): number[];
  clockJump(ms: number): void;
  restoreAccess(): void;
  failCommits(reason?: string | null): void;
  openElsewhere(serial?: string, passings?: number): string;
}

declare global {
  interface Window {
    __mockHost?: MockHostControl;
    /** Every tone the page played (or would have played without audio): src/lib/sound.ts. */
    __tones?: { kind: string; at: number }[];
  }
}
