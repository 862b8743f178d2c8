// The reader settings read back (LLRP), rendered with Svelte's server renderer: asked beside
// applied, a setting the reader did not take marked in words and sign; and the mock host's LLRP
// reader, which reads back what its spec asked (power clamped at 81) so the screen has one.
import { render } from "svelte/server";
import { describe, expect, it } from "vitest";
import type { ReaderSettingView, ReaderView } from "../../ipc";
import { createMockHost, llrpReadBack } from "../../ipc/mock";
import { AppModel, appContext } from "../app.svelte";
import ReaderSettings from "./ReaderSettings.svelte";
import ReaderTile from "./ReaderTile.svelte";

const t = Date.UTC(2026, 6, 10, 8, 0, 0);

const rows = (html: string) =>
  [
    ...html.matchAll(
      /<tr[^>]*data-testid="reader-setting"[^>]*data-name="([^"]+)"[^>]*data-differs="(true|false)"[^>]*>([\s\S]*?)<\/tr>/g,
    ),
  ].map((m) => ({
    name: m[1],
    differs: m[2] === "true",
    cells: [...m[3].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, "").trim()),
  }));

describe("ReaderSettings", () => {
  const settings: ReaderSettingView[] = [
    { name: "connected antennas", asked: null, applied: "1, 2", differs: false },
    { name: "antenna 1 power", asked: "90", applied: "81", differs: true },
    { name: "antenna 1 sensitivity", asked: null, applied: "1", differs: false },
    { name: "antenna 5 power", asked: "60", applied: null, differs: true },
  ];

  it("shows asked beside applied and marks what the reader did not take in words", () => {
    const html = render(ReaderSettings, { props: { settings } }).body;
    expect(html).toContain('data-testid="reader-settings"');
    expect(html).toContain("⚠ 2 not as asked");
    const got = rows(html);
    expect(got.map((r) => r.name)).toEqual(settings.map((s) => s.name));
    expect(got[0]).toMatchObject({ differs: false, cells: ["connected antennas", "—", "1, 2"] });
    expect(got[1].differs).toBe(true);
    expect(got[1].cells.slice(0, 2)).toEqual(["antenna 1 power", "90"]);
    expect(got[1].cells[2]).toContain("81");
    expect(got[1].cells[2]).toContain("⚠ not applied");
    expect(got[2].cells[2]).not.toContain("not applied");
    expect(got[3].cells[2]).toContain("none");
    expect(got[3].cells[2]).toContain("⚠ not applied");
    // Opened when something differs, so the mismatch is seen without a click.
    expect(/<details[^>]*data-testid="reader-settings"[^>]*\sopen/.test(html)).toBe(true);
  });

  it("stays closed and unflagged when every setting is as asked, and absent when there are none", () => {
    const fine = settings.filter((s) => !s.differs);
    const html = render(ReaderSettings, { props: { settings: fine } }).body;
    expect(html).not.toContain("not as asked");
    expect(html).not.toContain("not applied");
    expect(/<details[^>]*\sopen/.test(html)).toBe(false);
    expect(render(ReaderSettings, { props: { settings: [] } }).body).not.toContain("reader-settings");
  });
});

describe("mock host: an LLRP reader reads its settings back", () => {
  it("clamps power at 81, warns like the console, and the tile shows the table", async () => {
    const host = createMockHost({ timers: false, rate: 0, now: () => t });
    await host.readerAdd("mat", "tcp:192.0.2.60:5084?protocol=llrp&power=1:90,2:60&sensitivity=10");
    await new Promise((r) => setTimeout(r, 0)); // the mock connects it on the next turn
    const view = (await host.appState()).readers.find((r) => r.name === "mat") as ReaderView;
    const app = new AppModel(host);
    const html = render(ReaderTile, { props: { reader: view, now: t, timeDisplay: "utc" }, context: appContext(app) }).body;
    host.dispose();
    expect(view.warning).toBe("antenna 1: transmit power 90 asked, 81 applied");
    expect(view.settings.filter((s) => s.differs).map((s) => s.name)).toEqual(["antenna 1 power"]);
    expect(view.settings.find((s) => s.name === "antenna 2 power")).toMatchObject({ asked: "60", applied: "60", differs: false });
    expect(view.settings.some((s) => s.name.startsWith("antenna 3"))).toBe(false);
    expect(html).toContain('data-testid="reader-settings"');
    expect(html).toContain("⚠ 1 not as asked");
    expect(llrpReadBack("tcp:h:5084?protocol=llrp").warning).toBeNull();
    expect(llrpReadBack("tcp:h:5084?protocol=llrp&power=7:50").warning).toBe("antenna 7 is not on this reader");
  });
});
