// Status store tests: app_state load, events keep it current, recording state, sync level
// and the backlog progress bar.
import { describe, expect, it } from "vitest";
import { createMockHost } from "../../ipc/mock";
import { EMPTY_SYNC, recordingState, StatusStore, syncLevel } from "./status.svelte";

describe("StatusStore", () => {
  it("loads app_state and follows the session and sync events", async () => {
    let t = Date.UTC(2026, 4, 10, 9, 0, 0);
    const host = createMockHost({ timers: false, rate: 0, now: () => t });
    const st = new StatusStore();
    await st.init(host);
    expect(st.ready).toBe(true);
    expect(st.firstRun).toBe(true);
    expect(st.recording).toBe("not_recording");
    expect(syncLevel(st.sync)).toBe("offline");

    await host.apiKeySet("key-12345678");
    await host.deviceBind({
      serial_number: "S1",
      model: "M",
      device_type: "custom",
      alias: null,
      firmware: null,
      take_over: false,
    });
    await host.sessionOpen("Race");
    await st.refresh(host);
    expect(st.firstRun).toBe(false);
    expect(st.session?.state).toBe("opening");
    expect(st.recording).toBe("recording");

    t += 500;
    host.tick(500); // the cloud answers: active (session event)
    expect(st.session?.state).toBe("active");

    host.setSyncRate(0);
    host.seed(50, "pending");
    host.tick(100);
    expect(st.sync.pending).toBe(50);
    expect(st.backlogPeak).toBe(50);
    expect(st.drainProgress).toBe(0);
    host.setSyncRate(100);
    t += 200;
    host.tick(200); // 20 sent
    expect(st.sync.pending).toBe(30);
    expect(st.drainProgress).toBeCloseTo(0.4);
    t += 1000;
    host.tick(1000);
    expect(st.sync.pending).toBe(0);
    expect(st.drainProgress).toBeNull();
    expect(syncLevel(st.sync)).toBe("ok");

    await host.sessionClose();
    expect(st.recording).toBe("closing");
    t += 100;
    host.tick(100);
    expect(st.session?.state).toBe("closed");
    expect(st.recording).toBe("not_recording");
    st.dispose();
    host.dispose();
  });

  it("maps session states and sync states to what the indicators show", () => {
    expect(recordingState(null)).toBe("not_recording");
    const s = {
      id: 1,
      deviceid: "d",
      token_session: null,
      alias: null,
      opened_at: "",
      closed_at: null,
      next_num_passing: 1,
      note: null,
    };
    expect(recordingState({ ...s, state: "opening" })).toBe("recording");
    expect(recordingState({ ...s, state: "active" })).toBe("recording");
    expect(recordingState({ ...s, state: "closing" })).toBe("closing");
    expect(recordingState({ ...s, state: "closed_remotely" })).toBe("not_recording");
    const ok = { ...EMPTY_SYNC, offline: false };
    expect(syncLevel(ok)).toBe("ok");
    expect(syncLevel({ ...ok, pending: 3 })).toBe("pending");
    expect(syncLevel({ ...ok, pending: 3, last_error: "timeout" })).toBe("failing");
    expect(syncLevel({ ...ok, stopped: "401" })).toBe("stopped");
  });

  it("measures the host clock skew from clock events", () => {
    const st = new StatusStore();
    st.applyClock({ host_utc: "2026-05-10T09:00:02.000Z", last_jump_ms: null }, Date.UTC(2026, 4, 10, 9, 0, 0));
    expect(st.clockSkew).toBe(2000);
  });
});
