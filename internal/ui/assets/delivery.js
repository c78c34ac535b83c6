// One delivery: its ledger row, every attempt, and the payload as the channel sends it,
// rendered the way its readers see it beside the raw JSON. A dead letter (a delivery that
// failed for good, status failed, or ran out of attempts, status dead) can be redriven or
// discarded from here; a delivery still in flight is followed until it settles.
import { api, h, mount, time, badge, pretty, busy, fail, toast } from "./lib.js";
import { renderPreview } from "./preview.js";

export async function render(ctx) {
  const id = ctx.arg;
  const base = ctx.who.admin
    ? "/admin/notifications/deliveries/" + encodeURIComponent(id)
    : "/v1/tenants/" + encodeURIComponent(ctx.who.tenant) + "/deliveries/" + encodeURIComponent(id);
  const head = h("div");
  const attempts = h("div");
  const preview = h("div", { class: "panel" }, h("p", { class: "muted" }, "Loading the payload…"));
  mount(ctx.main, h("p", {}, h("a", { href: "#/history" }, "← History")), head,
    h("h2", {}, "Attempts"), attempts, h("h2", {}, "What was sent"), preview);

  let last = null;
  let follow = false; // after a redrive, until the delivery settles again
  async function load() {
    const d = await api("GET", base);
    if (!ctx.alive()) return null;
    if (last && last.status === d.status && last.attempts === d.attempts && last.updated_at === d.updated_at) return d;
    last = d;
    mount(head, h("h1", {}, d.event_type, " ", badge(d.status)),
      h("div", { class: "panel" }, h("dl", { class: "kv" },
        h("dt", {}, "Delivery"), h("dd", { class: "mono" }, d.delivery_id),
        h("dt", {}, "Event"), h("dd", { class: "mono" }, h("a", { href: "#/history?event_id=" + encodeURIComponent(d.event_id) }, d.event_id)),
        h("dt", {}, "Tenant"), h("dd", {}, d.tenant_id || "–"),
        h("dt", {}, "Channel"), h("dd", {}, d.channel),
        h("dt", {}, "Destination"), h("dd", { class: "mono" }, d.destination),
        h("dt", {}, "Attempts"), h("dd", {}, d.attempts),
        h("dt", {}, "Created"), h("dd", {}, time(d.created_at)),
        h("dt", {}, "Updated"), h("dd", {}, time(d.updated_at)),
        d.last_error ? [h("dt", {}, "Last error"), h("dd", {}, d.last_error)] : null)),
      ctx.who.admin && (d.status === "dead" || d.status === "failed") ? deadActions(d, () => { follow = true; return load(); }) : null);
    const list = d.attempts_detail || [];
    mount(attempts, list.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Attempts" },
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, "#"), h("th", {}, "At"), h("th", {}, "Status"), h("th", { class: "num" }, "HTTP"), h("th", { class: "num" }, "Duration"), h("th", {}, "Error"))),
      h("tbody", {}, list.map((a) => h("tr", {},
        h("td", { class: "num" }, a.attempt), h("td", {}, time(a.attempted_at)), h("td", {}, badge(a.status)),
        h("td", { class: "num" }, a.http_status || "–"), h("td", { class: "num" }, a.duration_ms + " ms"),
        h("td", { class: "wrap" }, a.error || "")))))) : h("p", { class: "muted" }, "No attempt yet."));
    return d;
  }

  await load();
  ctx.every(() => {
    if (!last) return;
    const moving = last.status === "pending" || last.status === "retrying";
    if (follow && last.status === "delivered") follow = false;
    if (moving || follow) load().catch(fail);
  }, 2000);

  try {
    const pv = await api("GET", base + "/preview");
    if (!ctx.alive()) return;
    mount(preview, renderPreview(pv));
  } catch (e) {
    if (!ctx.alive()) return;
    mount(preview, h("p", { class: e.status === 404 ? "muted" : "alert error" }, e.status === 404 ? e.message : "The payload could not be shown: " + e.message));
  }
}

function deadActions(d, reload) {
  const out = h("span", { class: "muted", "aria-live": "polite" });
  const redrive = h("button", { type: "button", class: "primary" }, "Redrive");
  const discard = h("button", { type: "button", class: "danger" }, "Discard");
  redrive.addEventListener("click", () => busy(redrive, async () => {
    try {
      const r = await api("POST", "/admin/notifications/dead/redrive", { ids: [d.delivery_id] });
      out.textContent = r.redriven ? "Redriven: sent again with a fresh attempt budget." : "Nothing to redrive: it is no longer a dead letter.";
      toast(out.textContent);
      await reload();
    } catch (e) { fail(e); }
  }));
  discard.addEventListener("click", () => busy(discard, async () => {
    if (!confirm("Discard this dead letter? It will not be sent.")) return;
    try {
      const r = await api("POST", "/admin/notifications/dead/discard", { ids: [d.delivery_id] });
      out.textContent = r.discarded ? "Discarded." : "Nothing to discard.";
      toast(out.textContent);
    } catch (e) { fail(e); }
  }));
  return h("div", { class: "actions", id: "dead-actions" }, redrive, discard, out);
}
