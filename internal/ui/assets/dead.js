// Dead letters: filter them, select some (or everything the filter matches), redrive or
// discard, and see how many each action took. New dead letters appear as they come.
import { api, h, mount, query, time, field, busy, fail, CHANNELS } from "./lib.js";

const FILTERS = ["channel", "tenant", "event_type", "since"];

export async function render(ctx) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, ctx.params.get(k) || ""]));
  const inputs = {
    channel: h("select", { name: "channel" }, h("option", { value: "" }, "any"), CHANNELS.map((c) => h("option", { value: c, selected: f.channel === c }, c))),
    tenant: h("input", { name: "tenant", value: f.tenant, placeholder: "acme" }),
    event_type: h("input", { name: "event_type", value: f.event_type, placeholder: "payment.*" }),
    since: h("input", { name: "since", value: f.since, placeholder: "24h" }),
  };
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter dead letters" },
    field("Channel", inputs.channel), field("Tenant", inputs.tenant), field("Event type", inputs.event_type), field("Since", inputs.since),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Apply")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/dead" + query(Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()])));
  });

  const all = h("input", { type: "checkbox", "aria-label": "Select every dead letter shown" });
  const count = h("span", { class: "muted" });
  const outcome = h("div", { role: "status", "aria-live": "polite" });
  const redrive = h("button", { type: "button", id: "redrive", class: "primary", disabled: true }, "Redrive selected");
  const discard = h("button", { type: "button", id: "discard", class: "danger", disabled: true }, "Discard selected");
  const filtered = Object.values(f).some(Boolean);
  const redriveAll = h("button", { type: "button", hidden: !filtered }, "Redrive all matching");
  const tbody = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Older dead letters");
  mount(ctx.main, h("h1", {}, "Dead letters"), form,
    h("div", { class: "actions" }, redrive, discard, redriveAll, count), outcome,
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Dead letters" },
      h("thead", {}, h("tr", {}, h("th", {}, all), h("th", {}, "Created"), h("th", {}, "Event type"), h("th", {}, "Tenant"),
        h("th", {}, "Channel"), h("th", {}, "Destination"), h("th", { class: "num" }, "Attempts"), h("th", {}, "Last error"))),
      tbody)),
    h("div", { class: "actions" }, more));

  const boxes = new Map(); // delivery_id -> checkbox
  let cursor = "";
  const selected = () => [...boxes].filter(([, b]) => b.checked).map(([id]) => id);
  const refresh = () => {
    const n = selected().length;
    redrive.disabled = discard.disabled = n === 0;
    count.textContent = n ? n + " selected" : boxes.size + " shown";
    all.checked = n > 0 && n === boxes.size;
  };
  all.addEventListener("change", () => { for (const b of boxes.values()) b.checked = all.checked; refresh(); });

  const row = (d) => {
    const box = h("input", { type: "checkbox", "aria-label": "Select " + d.delivery_id, onchange: refresh });
    boxes.set(d.delivery_id, box);
    return h("tr", { dataset: { id: d.delivery_id } }, h("td", {}, box), h("td", {}, time(d.created_at)),
      h("td", {}, h("a", { href: "#/delivery/" + encodeURIComponent(d.delivery_id) }, d.event_type)),
      h("td", {}, d.tenant_id || "–"), h("td", {}, d.channel), h("td", { class: "mono" }, d.destination),
      h("td", { class: "num" }, d.attempts), h("td", { class: "wrap" }, d.last_error || ""));
  };
  const noneYet = () => { if (!boxes.size) mount(tbody, h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No dead letters. Everything was delivered or is still being tried."))); };

  async function load(reset) {
    if (reset) { cursor = ""; boxes.clear(); tbody.replaceChildren(); }
    const page = await api("GET", "/admin/notifications/dead" + query({ ...f, limit: 100, cursor }));
    if (!ctx.alive()) return;
    for (const d of page.data) if (!boxes.has(d.delivery_id)) tbody.append(row(d));
    cursor = page.next_cursor || "";
    more.hidden = !cursor;
    noneYet();
    refresh();
  }

  // New dead letters appear at the top every few seconds; rows on screen and what is
  // selected stay as they are until an action or Apply reloads the list.
  async function poll() {
    let page;
    try { page = await api("GET", "/admin/notifications/dead" + query({ ...f, limit: 100 })); } catch { return; }
    if (!ctx.alive()) return;
    const fresh = page.data.filter((d) => !boxes.has(d.delivery_id));
    if (!fresh.length) return;
    if (!tbody.querySelector("tr[data-id]")) tbody.replaceChildren();
    tbody.prepend(...fresh.map((d) => { const tr = row(d); tr.classList.add("fresh"); return tr; }));
    refresh();
  }

  const act = (btn, verb, body) => busy(btn, async () => {
    try {
      const r = await api("POST", "/admin/notifications/dead/" + verb, body);
      const n = verb === "redrive" ? r.redriven : r.discarded;
      mount(outcome, h("p", { class: "alert ok" }, verb === "redrive"
        ? `Redriven ${n} dead letter${n === 1 ? "" : "s"}: sent again under the same delivery id; follow them in `
        : `Discarded ${n} dead letter${n === 1 ? "" : "s"}.`,
        verb === "redrive" ? h("a", { href: "#/history?status=pending,retrying,delivered" }, "History") : null));
      await load(true);
    } catch (e) { mount(outcome, h("p", { class: "alert error" }, e.message)); }
  });
  redrive.addEventListener("click", () => act(redrive, "redrive", { ids: selected() }));
  discard.addEventListener("click", () => {
    const ids = selected();
    if (confirm(`Discard ${ids.length} dead letter${ids.length === 1 ? "" : "s"}? They will not be sent.`)) act(discard, "discard", { ids });
  });
  redriveAll.addEventListener("click", () => {
    const sel = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
    if (confirm("Redrive every dead letter matching " + JSON.stringify(sel) + "?")) act(redriveAll, "redrive", sel);
  });
  more.addEventListener("click", () => load(false).catch(fail));
  await load(true);
  ctx.every(poll, 5000);
}
