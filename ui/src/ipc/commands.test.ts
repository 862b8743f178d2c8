// Every command the backend lists (timing_ipc's command list, generated into bindings.gen.ts
// as COMMAND_NAMES) has a handler in the mock and a camelCase method on both hosts' client; the
// mock's invoke refuses what is not a command. The Rust side proves each is registered
// (src-tauri/tests/ipc.rs).
import { afterEach, describe, expect, it } from "vitest";
import { COMMAND_NAMES, type CommandName } from "./bindings.gen";
import { createMockHost, type MockHost, MockWorld, mockHandlers } from "./mock";
import { createTauriHost } from "./tauri";

const camel = (name: string) => name.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

let host: MockHost;
afterEach(() => host?.dispose());

describe("COMMAND_NAMES", () => {
  it("lists the update commands, and not the stream", () => {
    expect(COMMAND_NAMES).toEqual(expect.arrayContaining(["update_status", "update_install", "export_csv"]));
    expect(COMMAND_NAMES).not.toContain("feed_subscribe");
  });

  it.each(COMMAND_NAMES)("%s: a mock handler, and the client method on the mock and the Tauri host", (name) => {
    host = createMockHost({ timers: false });
    const method = camel(name);
    expect(typeof (host as unknown as Record<string, unknown>)[method], method).toBe("function");
    expect(typeof (createTauriHost() as unknown as Record<string, unknown>)[method], method).toBe("function");
    const handlers = mockHandlers(new MockWorld({})) as unknown as Record<string, unknown>;
    expect(typeof handlers[name], name).toBe("function");
  });

  it("the mock handles exactly the listed commands", () => {
    expect(Object.keys(mockHandlers(new MockWorld({}))).sort()).toEqual([...COMMAND_NAMES].sort());
  });
});

describe("the mock's invoke", () => {
  it("runs a command's handler by name", async () => {
    host = createMockHost({ timers: false });
    expect(await host.invoke("reader_zones", {})).toEqual(await host.readerZones());
    expect(await host.invoke("session_list", {})).toEqual([]);
  });

  it.each(["no_such_command", "feed_subscribe", "constructor", "toString", "__proto__", "hasOwnProperty"])(
    "refuses %s with an IpcError",
    async (name) => {
      host = createMockHost({ timers: false });
      await expect(host.invoke(name as CommandName, {} as never)).rejects.toEqual({
        code: "internal",
        message: `command ${name} not found`,
      });
    },
  );

  it("normalises what a handler throws into {code, message}", async () => {
    host = createMockHost({ timers: false });
    await expect(host.invoke("session_details", { sessionId: 99 })).rejects.toEqual({
      code: "not_found",
      message: "No session 99",
    });
    // A handler that crashes (here: args that are not its args object) still rejects as an IpcError.
    const e = await host.invoke("settings_set", null as never).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "internal", message: expect.any(String) });
  });
});
