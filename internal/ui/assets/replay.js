// Replay: choose the window, tenant, event types and channels; see how many events a dry
// run matches; start it and watch its progress to the end (or cancel it).
import { api, h, mount, field, csv, busy, num, badge, time, fail, CHANNELS } from "./lib.js";

export async function render(ctx) {
  const since = h("input", { name: "since", value: "1h", required: true, placeholder: "1h or 2026-12-06T09:00:00Z" });
  const until = h("input", { name: "until", value: "", placeholder: "now" });
  const tenant = h("input", { name: "tenant", placeholder: "every tenant" });
  const types = h("input", { name: "event_types", placeholder: "payment.*, node.terminated" });
  const dests = h("select", { name: "destinations" },
    h("option", { value: "current" }, "that match now"), h("option", { value: "original" }, "the events first went to"));
  const channelBoxes = CHANNELS.map((c) => h("input", { type: "checkbox", name: "channel", value: c }));
  const count = h("button", { type: "button" }, "Count (dry run)");
  const start = h("button", { type: "submit", class: "primary" }, "Start replay");
  const dry = h("div", { role: "status", "aria-live": "polite" });
  const job = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel", "aria-label": "Replay" },
    h("div", { class: "form-grid" },
      field("Since (a duration before now or a time)", since), field("Until (empty: now)", until),
      field("Tenant (empty: every tenant)", tenant), field("Event types (patterns, comma-separated)", types),
      field("To the destinations", dests)),
    h("fieldset", {}, h("legend", {}, "Channels (none checked: every channel)"),
      channelBoxes.map((b) => h("label", { class: "check" }, b, b.value))),
    h("div", { class: "actions" }, count, start), dry);
  mount(ctx.main, h("h1", {}, "Replay"),
    h("p", { class: "muted" }, "Re-dispatch the events published in a window from the EVENTS stream. Replayed deliveries get new webhook ids, so receivers see them as new."),
    form, job);

  const request = (dryRun) => {
    const r = { since: since.value.trim(), destinations: dests.value };
    if (until.value.trim()) r.until = until.value.trim();
    if (tenant.value.trim()) r.tenant = tenant.value.trim();
    const t = csv(types.value);
    if (t.length) r.event_types = t;
    const ch = channelBoxes.filter((b) => b.checked).map((b) => b.value);
    if (ch.length) r.channels = ch;
    if (dryRun) r.dry_run = true;
    return r;
  };

  // follow polls a job until it ends, calling show with each state.
  const follow = async (r, show) => {
    show(r);
    while (r.state === "running" && ctx.alive()) {
      await new Promise((res) => setTimeout(res, 700));
      r = await api("GET", "/admin/notifications/replays/" + encodeURIComponent(r.id));
      show(r);
    }
    return r;
  };

  count.addEventListener("click", () => busy(count, async () => {
    try {
      await follow(await api("POST", "/admin/notifications/replays", request(true)), (r) => mount(dry,
        r.state === "running" ? h("p", { class: "muted" }, "Counting… ", num(r.matched), " so far")
          : r.state === "done" ? h("p", { class: "alert", id: "dry-run-count" }, h("b", {}, num(r.matched)), ` event${r.matched === 1 ? "" : "s"} match; starting would re-dispatch them.`)
            : h("p", { class: "alert error" }, "The dry run ", r.state, r.error ? ": " + r.error : "")));
    } catch (e) { mount(dry, h("p", { class: "alert error" }, e.message)); }
  }));

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(start, async () => {
      let r;
      try { r = await api("POST", "/admin/notifications/replays", request(false)); } catch (e) { mount(dry, h("p", { class: "alert error" }, e.message)); return; }
      const bar = h("div", { class: "progress indeterminate", role: "progressbar", "aria-label": "Replay progress" }, h("div", { style: "width:0" }));
      const facts = h("div");
      const cancel = h("button", { type: "button", class: "danger" }, "Cancel");
      cancel.addEventListener("click", () => busy(cancel, async () => {
        try { await api("DELETE", "/admin/notifications/replays/" + encodeURIComponent(r.id)); } catch (e) { fail(e); }
      }));
      mount(job, h("section", { class: "panel", id: "replay-job" }, h("h2", {}, "Replay ", h("span", { class: "mono small" }, r.id)), bar, facts, h("div", { class: "actions" }, cancel)));
      try {
        await follow(r, (x) => {
          const done = x.state !== "running";
          bar.classList.toggle("indeterminate", !done);
          bar.firstChild.style.width = done ? "100%" : "0";
          cancel.hidden = done;
          mount(facts, h("p", {}, badge(x.state), " ", h("b", { class: "matched" }, num(x.matched)), " events matched, ",
            h("b", { class: "dispatched" }, num(x.dispatched)), " deliveries dispatched",
            x.error ? h("span", { class: "alert error" }, " ", x.error) : null),
          h("p", { class: "muted small" }, "Started ", time(x.created_at), " · updated ", time(x.updated_at),
            done ? [" · ", h("a", { href: "#/history?since=" + encodeURIComponent(x.created_at) }, "see the deliveries")] : null));
        });
      } catch (e) { fail(e); }
    });
  });
}
