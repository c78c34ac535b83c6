// The dashboard's entry: who is signed in, the navigation, and the router that shows one
// page per URL fragment (#/history?status=dead). Each page is a module whose render(ctx)
// fills ctx.main; its timers go through ctx.every so that leaving the page stops them.
import { api, h, mount, fail } from "./lib.js";
import * as overview from "./overview.js";
import * as history from "./history.js";
import * as delivery from "./delivery.js";
import * as dead from "./dead.js";
import * as replay from "./replay.js";
import * as destinations from "./destinations.js";

const adminPages = [
  ["overview", "Overview", overview],
  ["history", "History", history],
  ["dead", "Dead letters", dead],
  ["replay", "Replay", replay],
  ["destinations", "Destinations", destinations],
];
const tenantPages = [
  ["history", "History", history],
  ["destinations", "Destinations", destinations],
];
const hidden = { delivery };

let who = null;
let timers = [];
let generation = 0;

async function start() {
  try {
    who = await api("GET", "/v1/whoami");
  } catch (e) {
    if (e.status !== 401) mount(document.getElementById("main"), h("p", { class: "alert error" }, "The API did not answer: " + e.message));
    return;
  }
  document.getElementById("who").textContent = who.admin ? "admin" : "tenant " + who.tenant;
  document.getElementById("logout").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await fetch("/ui/logout", { method: "POST", credentials: "same-origin", headers: { "X-Herald-CSRF": "1" }, redirect: "manual" }); } catch { /* leave anyway */ }
    location.assign("/ui/login");
  });
  window.addEventListener("hashchange", route);
  route();
}

function pages() { return who.admin ? adminPages : tenantPages; }

function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const qi = raw.indexOf("?");
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? "" : raw.slice(qi + 1));
  const [name, ...rest] = path.split("/");
  let page = pages().find((p) => p[0] === name);
  let mod = page ? page[2] : hidden[name];
  if (!mod) { page = pages()[0]; mod = page[2]; }
  for (const t of timers) clearInterval(t);
  timers = [];
  const gen = ++generation;
  const nav = document.getElementById("nav");
  mount(nav, pages().map(([id, label]) =>
    h("a", { href: "#/" + id, "aria-current": (page && page[0] === id) || (!page && id === "history") ? "page" : null }, label)));
  const main = document.getElementById("main");
  mount(main);
  document.title = (page ? page[1] : "Delivery") + " · Herald";
  const ctx = {
    main, who, params, arg: decodeURIComponent(rest.join("/")),
    // alive is false once the reader has left the page: late answers are dropped.
    alive: () => gen === generation,
    every(fn, ms) { timers.push(setInterval(() => { if (gen === generation && !document.hidden) fn(); }, ms)); },
    // go changes the fragment's query without adding a history entry per keystroke.
    setParams(p) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(p)) if (v) q.set(k, v);
      const s = q.toString();
      window.history.replaceState(null, "", "#/" + path + (s ? "?" + s : ""));
    },
  };
  Promise.resolve(mod.render(ctx)).catch(fail);
  if (document.activeElement && document.activeElement.closest && document.activeElement.closest("#nav")) main.focus({ preventScroll: true });
}

start();
