// Every command the backend documents (timing_ipc::COMMANDS, generated into bindings.gen.ts) has
// a Host method in both hosts: the mock (browser tests) and the Tauri one (the app). The Rust
// side proves each is registered (src-tauri/tests/ipc.rs, every_documented_command_is_registered).
import { describe, expect, it } from "vitest";
import { COMMANDS } from "./bindings.gen";
import { MockHost } from "./mock";
import { createTauriHost } from "./tauri";

/** Host method names that are not the command's name in camelCase. */
const RENAMED: Record<string, string> = { feed_subscribe: "subscribeFeed" };

const methods = COMMANDS.map((c) => {
  const name = c.slice(0, c.indexOf("(")).trim();
  return [name, RENAMED[name] ?? name.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())] as const;
});

describe("COMMANDS", () => {
  it("lists the update commands", () => {
    expect(methods.map(([name]) => name)).toEqual(expect.arrayContaining(["update_status", "update_install"]));
  });

  it.each(methods)("%s is implemented by the mock and the Tauri host (%s)", (_, method) => {
    const mock = new MockHost({ timers: false });
    expect(typeof (mock as unknown as Record<string, unknown>)[method]).toBe("function");
    expect(typeof (createTauriHost() as unknown as Record<string, unknown>)[method]).toBe("function");
    mock.dispose();
  });
});
