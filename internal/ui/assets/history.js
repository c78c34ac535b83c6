// History: deliveries newest first with the API's filters, kept in the fragment's query so
// that a filtered view can be linked. New deliveries, and status changes of those still in
// flight, arrive by polling with since set to the oldest row that may still change.
import { api, h, mount, query, time, badge, field, fail, STATUSES, CHANNELS } from "./lib.js";

const POLL_MS = 3000;
const FILTERS = ["tenant", "event_type", "channel", "destination", "status", "event_id", "since", "until"];

// listPath is the list to read: an admin's history, or a tenant's own deliveries.
export const listPath = (who) => (who.admin ? "/admin/notifications/history" : "/v1/tenants/" + encodeURIComponent(who.tenant) + "/deliveries");

export async function render(ctx) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, ctx.params.get(k) || ""]));
  if (!ctx.who.admin) delete f.tenant;
  const inputs = {};
  const text = (k, ph) => (inputs[k] = h("input", { name: k, value: f[k], placeholder: ph, spellcheck: "false" }));
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter deliveries" },
    ctx.who.admin ? field("Tenant", text("tenant", "acme")) : null,
    field("Event type", text("event_type", "payment.*")),
    field("Channel", (inputs.channel = h("select", { name: "channel" }, h("option", { value: "" }, "any"),
      CHANNELS.map((c) => h("option", { value: c, selected: f.channel === c }, c))))),
    field("Destination", text("destination", "slack or acme/ops-hook")),
    field("Status", (inputs.status = h("select", { name: "status" }, h("option", { value: "" }, "any"),
      [...STATUSES, "failed,dead"].map((s) => h("option", { value: s, selected: f.status === s }, s.replace(",", " or ")))))),
    field("Event id", text("event_id", "")),
    field("Since", text("since", "24h or RFC 3339")),
    field("Until", text("until", "")),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Apply")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    location.hash = "#/history" + query(p);
  });

  const live = h("input", { type: "checkbox", checked: !f.until });
  const state = h("span", { class: "muted small", "aria-live": "polite" });
  const tbody = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Older deliveries");
  mount(ctx.main, h("h1", {}, "History"), form,
    h("div", { class: "actions" }, h("label", { class: "check" }, live, "Live"), state),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Deliveries" },
      h("thead", {}, h("tr", {}, h("th", {}, "Created"), h("th", {}, "Status"), h("th", {}, "Event type"),
        ctx.who.admin ? h("th", {}, "Tenant") : null, h("th", {}, "Channel"), h("th", {}, "Destination"),
        h("th", { class: "num" }, "Attempts"), h("th", {}, "Last error"))),
      tbody)),
    h("div", { class: "actions" }, more));

  const rows = new Map(); // delivery_id -> {d, tr}
  let cursor = "";
  const base = { ...f, status: f.status };
  const url = (extra) => listPath(ctx.who) + query({ ...base, ...extra });

  const row = (d) => h("tr", { dataset: { id: d.delivery_id, status: d.status } },
    h("td", {}, time(d.created_at)), h("td", {}, badge(d.status)),
    h("td", {}, h("a", { href: "#/delivery/" + encodeURIComponent(d.delivery_id) }, d.event_type)),
    ctx.who.admin ? h("td", {}, d.tenant_id || h("span", { class: "muted" }, "–")) : null,
    h("td", {}, d.channel), h("td", { class: "mono" }, d.destination),
    h("td", { class: "num" }, d.attempts), h("td", { class: "wrap muted" }, d.last_error || ""));

  function put(d, fresh, atEnd) {
    const old = rows.get(d.delivery_id);
    if (old) {
      if (old.d.status === d.status && old.d.attempts === d.attempts && old.d.updated_at === d.updated_at) return;
      const tr = row(d);
      tr.classList.add("fresh");
      old.tr.replaceWith(tr);
      rows.set(d.delivery_id, { d, tr });
      return;
    }
    const tr = row(d);
    if (fresh) tr.classList.add("fresh");
    rows.set(d.delivery_id, { d, tr });
    if (atEnd) { tbody.append(tr); return; }
    // Newest first: before the first row that is older.
    let before = null;
    for (const r of tbody.children) { const o = rows.get(r.dataset.id); if (o && Date.parse(o.d.created_at) < Date.parse(d.created_at)) { before = r; break; } }
    tbody.insertBefore(tr, before);
  }

  async function loadPage() {
    const page = await api("GET", url({ limit: 50, cursor }));
    if (!ctx.alive()) return;
    for (const d of page.data) put(d, false, true);
    cursor = page.next_cursor || "";
    more.hidden = !cursor;
    if (!rows.size) mount(tbody, h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No delivery matches yet. Publish an event and it shows up here.")));
  }

  // The live poll reads everything created since the oldest row that may still change (a
  // pending or retrying delivery on screen) or else the newest row, up to 500.
  async function poll() {
    if (!live.checked) return;
    let since = "";
    for (const { d } of rows.values()) {
      if (d.status === "pending" || d.status === "retrying") { if (!since || Date.parse(d.created_at) < Date.parse(since)) since = d.created_at; }
    }
    if (!since) for (const { d } of rows.values()) if (!since || Date.parse(d.created_at) > Date.parse(since)) since = d.created_at;
    try {
      const page = await api("GET", url({ limit: 500, since: since || f.since, cursor: "" }));
      if (!ctx.alive()) return;
      if (page.data.length && !rows.size) tbody.replaceChildren();
      for (const d of [...page.data].reverse()) put(d, true, false);
      state.textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
    } catch (e) { state.textContent = "update failed: " + e.message; }
  }

  more.addEventListener("click", () => loadPage().catch(fail));
  await loadPage();
  ctx.every(poll, POLL_MS);
}
