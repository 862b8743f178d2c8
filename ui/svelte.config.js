// Svelte compiler options shared by Vite, Vitest and svelte-check.
// Svelte 5 strips TypeScript in <script lang="ts"> natively; vitePreprocess covers <style> and TS edge cases.
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    runes: true,
  },
};
