// Entry point: pick the host (Tauri or mock), then mount the Svelte app.
import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { getHost } from "./ipc";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

getHost()
  .then((host) => {
    mount(App, { target, props: { host } });
  })
  .catch((e: unknown) => {
    target.textContent = `Cannot start the console UI: ${e instanceof Error ? e.message : String(e)}`;
  });
