// The Settings screen's update card, rendered with Svelte's server renderer against the mock
// host: nothing about updates in a build without an update endpoint; "Update available" with
// the notes and "Install update" disabled with the reason while a session is open or passings
// are pending; enabled when the console is idle; "restart" after an install.
import { render } from "svelte/server";
import { describe, expect, it } from "vitest";
import { createMockHost, type MockHost } from "../ipc/mock";
import { AppModel, appContext } from "../lib/app.svelte";
import Settings from "./Settings.svelte";

const t = Date.UTC(2026, 4, 10, 9, 0, 0);

async function screen(prepare: (host: MockHost) => void | Promise<void> = () => {}) {
  const host = createMockHost({ timers: false, rate: 0, now: () => t });
  await prepare(host);
  const app = new AppModel(host);
  await app.status.init(host);
  const html = render(Settings, { context: appContext(app) }).body;
  host.dispose();
  return html;
}

/** The opening tag of the element with this test id, or null. */
function tag(html: string, testid: string): string | null {
  return new RegExp(`<[a-z]+[^>]*data-testid="${testid}"[^>]*>`).exec(html)?.[0] ?? null;
}

describe("Settings: updates", () => {
  it("shows nothing about updates when the build has no update endpoint", async () => {
    const html = await screen();
    expect(html).toContain("RUFUS connection"); // the screen itself rendered
    expect(tag(html, "settings-updates")).toBeNull();
    expect(html).not.toMatch(/update/i);
  });

  it("disables Install update with the reason while a session is open", async () => {
    const html = await screen(async (host) => {
      host.offerUpdate("0.2.0", "Faster sync after an outage.");
      await host.sessionOpen("10K");
    });
    expect(tag(html, "update-available")).toContain('data-version="0.2.0"');
    expect(html).toContain("Update available: v0.2.0");
    expect(html).toContain("Faster sync after an outage.");
    expect(tag(html, "update-install")).toMatch(/\sdisabled(=""|\s|>)/);
    expect(html).toContain("Not now: a session is open. Close the session and let every passing sync first.");
  });

  it("disables it while passings wait to be sent, even with no session open", async () => {
    const html = await screen(async (host) => {
      host.offerUpdate("0.2.0");
      await host.apiKeySet("key-12345678");
      host.setOnline(false);
      host.seed(3, "pending");
      await host.sessionClose(); // closing: the outbox has to drain first
    });
    expect(tag(html, "update-install")).toMatch(/\sdisabled(=""|\s|>)/);
    expect(html).toMatch(/Not now: a session is open and 3 passings are waiting to be sent\./);
  });

  it("enables it when the console is idle", async () => {
    const html = await screen((host) => host.offerUpdate("0.2.0"));
    const button = tag(html, "update-install");
    expect(button).not.toBeNull();
    expect(button).not.toMatch(/\sdisabled/);
    expect(html).toContain("Install update");
    expect(tag(html, "update-blocked")).toBeNull();
  });

  it("says to restart after the install, and says quietly when a check failed", async () => {
    const html = await screen(async (host) => {
      host.offerUpdate("0.2.0");
      await host.updateInstall();
      host.failUpdateCheck();
    });
    expect(tag(html, "update-installed")).toContain('data-version="0.2.0"');
    expect(html).toContain("Restart the console");
    expect(tag(html, "update-install")).toBeNull();
    expect(html).toContain("The update server could not be reached");
    expect(tag(html, "update-error")).toBeNull();
  });
});

describe("Settings: sound", () => {
  it("shows the stored mute and volume, and the Test button", async () => {
    const html = await screen();
    expect(tag(html, "settings-sound")).not.toBeNull();
    expect(tag(html, "settings-sound-muted")).not.toMatch(/\schecked/);
    expect(tag(html, "settings-sound-volume")).toMatch(/value="60"/);
    expect(tag(html, "settings-sound-volume")).toMatch(/min="0"[^>]*max="100"/);
    expect(tag(html, "settings-sound-test")).not.toMatch(/\sdisabled/);
    expect(html).toContain("Alt+M");
  });

  it("muted: the box is checked and Test is off", async () => {
    const html = await screen(async (host) => {
      const st = await host.appState();
      await host.settingsSet({ ...st.settings, sound: { muted: true, volume: 0.35 } });
    });
    expect(tag(html, "settings-sound-muted")).toMatch(/\schecked/);
    expect(tag(html, "settings-sound-volume")).toMatch(/value="35"/);
    expect(tag(html, "settings-sound-test")).toMatch(/\sdisabled/);
  });
});
