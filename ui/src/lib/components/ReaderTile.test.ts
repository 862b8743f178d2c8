// The reader tile's time line, rendered with Svelte's server renderer: the zone the reader's
// clock is read in, a hint when its clock disagrees with the computer's with the zone button,
// the adjustment; and the mock host's zone and adjustment commands, which the tile calls.
import { render } from "svelte/server";
import { describe, expect, it } from "vitest";
import type { ReaderView } from "../../ipc";
import { createMockHost, MOCK_COMPUTER_ZONE } from "../../ipc/mock";
import { AppModel, appContext } from "../app.svelte";
import ReaderTile from "./ReaderTile.svelte";

const t = Date.UTC(2026, 6, 10, 8, 0, 0);

function tile(reader: ReaderView): string {
  const host = createMockHost({ timers: false, rate: 0, now: () => t });
  const app = new AppModel(host);
  const html = render(ReaderTile, { props: { reader, now: t, timeDisplay: "utc" }, context: appContext(app) }).body;
  host.dispose();
  return html;
}

function tag(html: string, testid: string): string | null {
  return new RegExp(`<[a-z]+[^>]*data-testid="${testid}"[^>]*>`).exec(html)?.[0] ?? null;
}

async function hostWithReader(spec: string) {
  const host = createMockHost({ timers: false, rate: 0, now: () => t });
  await host.readerAdd("finish", spec);
  return host;
}

describe("ReaderTile: reader time", () => {
  it("shows the zone, the clock hint with its zone button, and the adjustment", async () => {
    const host = await hostWithReader("tcp:127.0.0.1:23?protocol=ultra");
    host.setReaderClock("finish", 7_202_000, "Reader clock is 2 h 0 min 2 s ahead of this computer", "+02:00");
    await host.readerAdjust("finish", -1500);
    const view = (await host.appState()).readers.find((r) => r.name === "finish") as ReaderView;
    host.dispose();
    const html = tile(view);
    expect(html).toContain(`Clock zone: ${MOCK_COMPUTER_ZONE}`);
    expect(tag(html, "reader-clock-hint")).not.toBeNull();
    expect(html).toContain("Reader clock is 2 h 0 min 2 s ahead of this computer");
    expect(tag(html, "reader-use-zone")).toContain('data-zone="+02:00"');
    expect(html).toContain("Use zone +02:00");
    expect(html).toContain("Adjusted −1.500 s");
    expect(tag(html, "reader-zone-input")).not.toBeNull();
    expect(tag(html, "reader-adjust-input")).not.toBeNull();
  });

  it("says a UTC reader sends UTC and offers no zone field; no hint while the clocks agree", async () => {
    const host = await hostWithReader("tcp:127.0.0.1:8080?protocol=cloudbox");
    const view = (await host.appState()).readers.find((r) => r.name === "finish") as ReaderView;
    const html = tile(view);
    expect(html).toContain("Clock zone: UTC (reader sends UTC)");
    expect(tag(html, "reader-clock-hint")).toBeNull();
    expect(tag(html, "reader-adjustment")).toBeNull();
    expect(tag(html, "reader-zone-input")).toBeNull();
    expect(tag(html, "reader-adjust-input")).not.toBeNull();
    await expect(host.readerSetZone("finish", "Europe/Madrid")).rejects.toMatchObject({ code: "conflict" });
    host.dispose();
  });
});

describe("mock host: reader zone and adjustment", () => {
  it("changes the zone, validates it, and keeps both in the spec", async () => {
    const host = await hostWithReader("tcp:127.0.0.1:23?protocol=ultra");
    host.setReaderClock("finish", 7_200_000, "Reader clock is 2 h 0 min 0 s ahead of this computer", "+02:00");
    const changed = await host.readerSetZone("finish", "+02:00");
    expect(changed.clock_zone).toBe("+02:00");
    expect(changed.clock_hint).toBeNull();
    expect(changed.clock_offset_ms).toBe(0);
    expect(changed.spec).toContain("zone=+02:00");
    await expect(host.readerSetZone("finish", "Mars/Olympus")).rejects.toMatchObject({ code: "invalid" });
    const back = await host.readerSetZone("finish", "");
    expect(back.clock_zone).toBe(MOCK_COMPUTER_ZONE);
    expect(back.spec).not.toContain("zone=");
    const adjusted = await host.readerAdjust("finish", 250);
    expect(adjusted.adjust_ms).toBe(250);
    expect(adjusted.spec).toContain("adjust_ms=250");
    await expect(host.readerAdjust("finish", 1.5)).rejects.toMatchObject({ code: "invalid" });
    expect((await host.readerZones()).computer).toBe(MOCK_COMPUTER_ZONE);
    host.dispose();
  });
});
