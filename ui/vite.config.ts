// Vite + Vitest config for the console UI. Relative base so Tauri (and the e2e static server) can load dist/ from any path.
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "./",
  plugins: [svelte()],
  clearScreen: false,
  server: {
    host: "127.0.0.1",
    port: 1420,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The page runs in WebKitGTK (Linux), WebKit (macOS) and WebView2 (Windows).
    target: ["es2022", "safari15"],
    chunkSizeWarningLimit: 600,
  },
  // Under Vitest, resolve Svelte's browser build so runes and effects behave as in the app.
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    testTimeout: 10_000,
    hookTimeout: 10_000,
  },
});
