// Guards the architecture rule: only src/ipc/ may import @tauri-apps/*. Writes short-lived
// probe files next to real sources and runs Biome with the same config as `npm run lint`
// (Biome's stdin mode prints no diagnostics, so real files are needed); they are removed after.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const biome = resolve(root, "node_modules/.bin/biome");
const probe = 'import { invoke } from "@tauri-apps/api/core";\n\nexport const x = invoke;\n';
const made: string[] = [];

function lint(rel: string, source: string) {
  const file = resolve(root, rel);
  writeFileSync(file, source);
  made.push(file);
  return spawnSync(biome, ["lint", rel], { cwd: root, encoding: "utf8", timeout: 20_000 });
}

afterAll(() => {
  for (const f of made) rmSync(f, { force: true });
});

describe.runIf(existsSync(biome))("@tauri-apps import boundary", () => {
  const tag = `${process.pid}`;

  it("fails lint outside src/ipc (TS, Svelte, dynamic import)", () => {
    const cases: [string, string][] = [
      [`src/lib/__probe_${tag}.ts`, probe],
      [
        `src/screens/__Probe${tag}.svelte`,
        `<script lang="ts">\n  import { invoke } from "@tauri-apps/api/core";\n  console.log(invoke);\n</script>\n`,
      ],
      [`src/lib/__probe_dyn_${tag}.ts`, 'export const load = () => import("@tauri-apps/api/event");\n'],
    ];
    for (const [path, src] of cases) {
      const r = lint(path, src);
      expect(r.status, path).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`, path).toContain("noRestrictedImports");
    }
  });

  it("passes inside src/ipc", () => {
    const r = lint(`src/ipc/__probe_${tag}.ts`, probe);
    expect(`${r.stdout}${r.stderr}`).not.toContain("noRestrictedImports");
    expect(r.status).toBe(0);
  });
});
