// Entry point: pick the host (Tauri or mock), then mount the console — or, in the announcer
// window (`?view=announcer`), the announcer view.
import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import Announcer from "./announcer/Announcer.svelte";
import { ANNOUNCER_VIEW, getHost } from "./ipc";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

getHost()
  .then((host) => {
    const view = new URLSearchParams(location.search).get("view");
    if (view === ANNOUNCER_VIEW) mount(Announcer, { target, props: { host } });
    else mount(App, { target, props: { host } });
  })
  .catch((e: unknown) => {
    target.textContent = `Cannot start the console UI: ${e instanceof Error ? e.message : String(e)}`;
  });
