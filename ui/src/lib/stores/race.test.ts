// The race store over the mock host: a start is timed at the press (not the confirmation),
// a second press of a started wave asks for a restart, the preview follows the last bib typed.
import { describe, expect, it } from "vitest";
import { createMockHost } from "../../ipc/mock";
import { formatRaceTime, previewText, RaceStore } from "./race.svelte";

async function recordingHost() {
  const host = createMockHost({ scenario: "first-run", timers: false });
  await host.sessionOpen("race");
  return host;
}

describe("race store", () => {
  it("formats race times, negative before the start", () => {
    expect(formatRaceTime(3_723_456)).toBe("1:02:03");
    expect(formatRaceTime(3_723_456, true)).toBe("1:02:03.4");
    expect(formatRaceTime(-1500)).toBe("−0:00:01");
    expect(formatRaceTime(null)).toBe("");
  });

  it("starts the next wave at the press time once confirmed; then offers a restart", async () => {
    const race = new RaceStore(await recordingHost());
    await race.load();
    expect(race.nextWave?.wave).toBe("10K");
    const pressed = Date.now() - 4000;
    const next = race.nextWave;
    if (!next) throw new Error("no wave to start");
    race.askStart(next, pressed);
    expect(race.view?.waves[0].start_at).toBeNull();
    expect(await race.confirm()).toBe(true);
    const ten = race.view?.waves.find((w) => w.wave === "10K");
    if (!ten) throw new Error("no 10K wave");
    expect(ten.start_at).toBe(new Date(pressed).toISOString());
    expect(race.nextWave?.wave).toBe("5K");
    race.askStart(ten, Date.now());
    expect(race.pending?.how.kind).toBe("restart");
    race.cancel();
    expect(race.pending).toBeNull();
    expect(await race.nudge(ten, -2)).toBe(true);
    expect(race.view?.log.map((s) => s.kind)).toEqual(["stamp", "nudge"]);
  });

  it("previews the last bib typed, with its status", async () => {
    const race = new RaceStore(await recordingHost());
    await race.load();
    await race.previewTyped("3, 12");
    expect(race.preview?.bib).toBe("12");
    expect(race.preview && previewText(race.preview)).toMatch(/^12 — .+ · [FM]\d\d · 10K$/);
    await race.previewTyped("99999");
    expect(race.preview?.status).toBe("unknown");
    await race.previewTyped("");
    expect(race.preview).toBeNull();
  });
});
