// Shared helpers of the dashboard's pages: building elements, calling the API, formatting.
// Every text from the API goes in through textContent, never as HTML.

// h builds an element: h("a", {href: "#/"}, "text", child...). Attributes starting with
// "on" are listeners; null and false children are left out.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// mount replaces the children of el.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// APIError is an answer in the API's error shape.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls the HTTP API with the session cookie. The X-Herald-CSRF header is what the
// server asks of a request made with a cookie, which a cross-site form cannot send. A 401
// means the session ended: back to the sign-in page.
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { "X-Herald-CSRF": "1", Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) {
    location.assign("/ui/login");
    throw new APIError(401, "unauthorized", "the session ended: sign in again");
  }
  if (resp.status === 204) return null;
  let data = null;
  try { data = await resp.json(); } catch { /* not JSON: said below */ }
  if (!resp.ok) {
    const e = data && data.error;
    throw new APIError(resp.status, e ? e.code : "http_" + resp.status, e ? e.message : resp.statusText || "request failed");
  }
  return data;
}

// query builds a query string from the set values of obj.
export function query(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) { if (v.length) q.set(k, v.join(",")); } else q.set(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// seg escapes one path segment; a delivery id keeps its ':' but not its '/'.
export const seg = (s) => encodeURIComponent(s);

// toast shows a short message in the corner for a few seconds (announced to screen readers).
export function toast(msg, kind) {
  const box = document.getElementById("toast");
  const el = h("div", { class: kind || "" }, msg);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

// ago says how long before now t was: "12s", "4m", "3h", "2d".
export function ago(t) {
  const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return Math.floor(s) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

// time shows t in the reader's time zone, to the second, with the full time on hover.
export function time(t) {
  if (!t) return "";
  const d = new Date(t);
  const same = new Date().toDateString() === d.toDateString();
  const text = same ? d.toLocaleTimeString([], { hour12: false }) : d.toLocaleString([], { hour12: false });
  return h("time", { datetime: t, title: d.toISOString() }, text);
}

export const badge = (s, label) => h("span", { class: "badge " + s }, label || s.replace("_", " "));

export const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(v >= 0.999 || v === 0 ? 0 : 1) + "%");

export const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString());

// field is a labelled input: field("Tenant", h("input", {...})).
let fieldSeq = 0;
export function field(label, input) {
  if (!input.id) input.id = "f" + ++fieldSeq;
  return h("div", {}, h("label", { for: input.id }, label), input);
}

// csv splits a comma-separated list, dropping blanks.
export const csv = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

// json pretty-prints a value for a <pre>.
export const pretty = (v) => JSON.stringify(v, null, 2);

// busy disables a button while fn runs.
export async function busy(btn, fn) {
  btn.disabled = true;
  try { return await fn(); } finally { btn.disabled = false; }
}

// fail reports an error to the reader.
export function fail(e) {
  if (e && e.status === 401) return;
  toast(e && e.message ? e.message : String(e), "error");
}

export const STATUSES = ["pending", "retrying", "delivered", "failed", "dead"];
export const CHANNELS = ["webhook", "discord", "slack", "email", "sms", "pagerduty", "teams", "telegram"];
