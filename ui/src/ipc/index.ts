// Picks the host the UI talks to: the real Tauri backend when the page runs inside the app
// (window.__TAURI_INTERNALS__ exists), otherwise the in-memory mock (also forced by
// ?host=mock). Both are loaded lazily, so the Tauri build never runs mock code and the
// browser build never touches @tauri-apps/*. The mock is exposed as window.__mockHost.

import type { Host } from "./host";
import type { MockHost, MockScenario } from "./mock";

export * from "./host";

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
    __mockHost?: MockHost;
  }
}

let hostPromise: Promise<Host> | null = null;

export function wantsMock(search: string, hasTauri: boolean): boolean {
  const params = new URLSearchParams(search);
  return params.get("host") === "mock" || !hasTauri;
}

export function getHost(): Promise<Host> {
  if (!hostPromise) hostPromise = pickHost();
  return hostPromise;
}

async function pickHost(): Promise<Host> {
  const hasTauri = typeof window !== "undefined" && window.__TAURI_INTERNALS__ !== undefined;
  const search = typeof location !== "undefined" ? location.search : "";
  if (!wantsMock(search, hasTauri)) {
    const { createTauriHost } = await import("./tauri");
    return createTauriHost();
  }
  const { createMockHost } = await import("./mock");
  const params = new URLSearchParams(search);
  const scenario = (params.get("scenario") ?? "first-run") as MockScenario;
  const rate = params.has("rate") ? Number(params.get("rate")) : undefined;
  const mock = createMockHost({
    scenario,
    rate,
    latencyMs: 2,
    keyStorage: params.get("keystore") === "file" ? "file" : "keychain",
    // ?update=0.2.0: the fake update server offers that version (updates are off without it).
    update: params.get("update") ?? undefined,
  });
  if (typeof window !== "undefined") window.__mockHost = mock;
  return mock;
}
