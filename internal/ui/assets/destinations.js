// Destinations: the operator's (from configuration, read-only, masked; a test send each)
// and a tenant's own (create, edit, test, rotate a webhook's secret, enable, disable,
// delete). A tenant key sees only its own tenant's.
import { api, h, mount, query, time, badge, field, csv, busy, fail, toast, CHANNELS } from "./lib.js";

// configFields are the config keys each channel takes from a tenant (docs/api.md), with
// whether the key is a list and whether it is secret (masked in answers).
const configFields = {
  webhook: [["url", "URL", { placeholder: "https://hooks.example.com/herald", required: true }], ["secret", "Secret (empty: a new whsec_ one)", { secret: true }], ["method", "Method", { choices: ["POST", "PUT"] }]],
  discord: [["webhook_url", "Webhook URL", { required: true, secret: true }]],
  slack: [["webhook_url", "Webhook URL", { required: true, secret: true }]],
  teams: [["webhook_url", "Workflow URL", { required: true, secret: true }]],
  email: [["to", "To (comma-separated)", { list: true, required: true }]],
  sms: [["to", "To (E.164, comma-separated)", { list: true, required: true }]],
  pagerduty: [["routing_key", "Routing key", { required: true, secret: true }]],
  telegram: [["bot_token", "Bot token", { required: true, secret: true }], ["chat_id", "Chat id", { required: true }]],
};

export async function render(ctx) {
  mount(ctx.main, h("h1", {}, "Destinations"));
  if (!ctx.who.admin) {
    ctx.main.append(tenantSection(ctx, ctx.who.tenant));
    return;
  }
  const operator = h("section", { "aria-label": "Operator destinations" }, h("h2", {}, "The operator's"), h("p", { class: "muted" }, "Loading…"));
  const picker = h("div");
  const tenantBox = h("div");
  ctx.main.append(operator, picker, tenantBox);
  loadOperator(ctx, operator).catch(fail);

  const current = ctx.params.get("tenant") || "";
  const input = h("input", { name: "tenant", value: current, placeholder: "acme", list: "tenant-list", spellcheck: "false" });
  const list = h("datalist", { id: "tenant-list" });
  const form = h("form", { class: "filters", "aria-label": "Choose a tenant" }, field("Tenant", input), list,
    h("div", {}, h("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = "#/destinations" + query({ tenant: input.value.trim() }); });
  const known = h("p", { class: "muted small" });
  mount(picker, h("h2", {}, "A tenant's"), form, known);
  api("GET", "/admin/tenants").then((r) => {
    if (!ctx.alive()) return;
    const ts = r.data || [];
    mount(list, ts.map((t) => h("option", { value: t.tenant })));
    mount(known, ts.length ? ["Tenants: ", ts.map((t, i) => [i ? ", " : "", h("a", { href: "#/destinations?tenant=" + encodeURIComponent(t.tenant) }, t.tenant),
      ` (${t.destinations} destination${t.destinations === 1 ? "" : "s"}, ${t.keys} key${t.keys === 1 ? "" : "s"})`])] : "No tenant has destinations or keys yet: name one to create its first destination.");
  }).catch(() => { /* the list is a convenience: typing a tenant still works */ });
  if (current) tenantBox.append(tenantSection(ctx, current));
}

async function loadOperator(ctx, el) {
  const r = await api("GET", "/admin/destinations");
  if (!ctx.alive()) return;
  const rows = r.data || [];
  mount(el, h("h2", {}, "The operator's"),
    h("p", { class: "muted small" }, "From NOTIFICATIONS_* variables: read-only here. Secrets are masked."),
    rows.length ? h("div", { class: "table-wrap" }, h("table", { "aria-label": "Operator destinations" },
      h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Channel"), h("th", {}, "Config"), h("th", {}, ""))),
      h("tbody", {}, rows.map((d) => {
        const out = h("span", { class: "small", "aria-live": "polite" });
        const test = h("button", { type: "button" }, "Send test");
        test.addEventListener("click", () => busy(test, async () => {
          try {
            const res = await api("POST", "/admin/notifications/test", { channel: d.channel });
            mount(out, (res.outcomes || []).filter((o) => !d.id || o.destination === d.id || (res.outcomes || []).length === 1).map(outcome));
          } catch (e) { mount(out, h("span", { class: "alert error" }, e.message)); }
        }));
        return h("tr", {}, h("td", { class: "mono" }, d.id), h("td", {}, d.channel),
          h("td", { class: "wrap mono small" }, configText(d.config)), h("td", {}, test, " ", out));
      })))) : h("p", { class: "empty" }, "No operator destination is configured."));
}

const configText = (c) => Object.entries(c || {}).map(([k, v]) => k + "=" + (Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : v)).join("  ");

// outcome shows a test send's result.
function outcome(o) {
  const ok = o.status === "delivered";
  return h("span", { class: "test-outcome " + o.status }, badge(o.status), " ",
    o.http_status ? "HTTP " + o.http_status + " " : "", o.duration_ms + " ms", o.error ? " · " + o.error : "");
}

function tenantSection(ctx, tenant) {
  const base = "/v1/tenants/" + encodeURIComponent(tenant) + "/destinations";
  const el = h("section", { "aria-label": "Destinations of " + tenant });
  const notice = h("div", { "aria-live": "polite" });
  const editor = h("div");
  const tbody = h("tbody");
  const add = h("button", { type: "button", class: "primary" }, "New destination");
  add.addEventListener("click", () => openEditor(null));
  mount(el, h("div", { class: "actions" }, h("h3", { style: "margin:0" }, "Tenant ", h("span", { class: "mono" }, tenant)), add),
    notice, editor,
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Tenant destinations" },
      h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Channel"), h("th", {}, "Event types"), h("th", {}, "State"),
        h("th", { class: "hide-narrow" }, "Config"), h("th", { class: "hide-narrow" }, "Updated"), h("th", {}, "Actions"))),
      tbody)));

  const showSecret = (what, d) => mount(notice, h("div", { class: "alert ok", role: "alert" }, what, " The secret of ", h("b", {}, d.id), " is shown this once: ",
    h("span", { class: "secret", tabindex: "0" }, d.secret), " ",
    h("button", { type: "button", class: "link", onclick: () => navigator.clipboard && navigator.clipboard.writeText(d.secret).then(() => toast("Copied.")) }, "Copy"),
    d.secret_overlap_until ? h("span", { class: "small" }, " The old secret still signs until ", time(d.secret_overlap_until), ".") : null));

  async function load() {
    const r = await api("GET", base + "?limit=500");
    if (!ctx.alive()) return;
    mount(tbody, (r.data || []).map(row));
    if (!(r.data || []).length) mount(tbody, h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No destination yet.")));
  }

  function row(d) {
    const out = h("div", { class: "small", "aria-live": "polite" });
    const btn = (label, fn, cls) => {
      const b = h("button", { type: "button", class: cls || "", "aria-label": label + " " + d.id }, label);
      b.addEventListener("click", () => busy(b, async () => { try { await fn(); } catch (e) { mount(out, h("span", { class: "alert error" }, e.message)); } }));
      return b;
    };
    const path = base + "/" + encodeURIComponent(d.id);
    return h("tr", { dataset: { id: d.id } },
      h("td", { class: "mono" }, d.id), h("td", {}, d.channel), h("td", { class: "wrap" }, (d.event_types || []).join(", ")),
      h("td", {}, d.enabled ? badge("enabled") : badge("disabled", "disabled" + (d.disabled_reason ? ": " + d.disabled_reason : ""))),
      h("td", { class: "wrap mono small hide-narrow" }, configText(d.config)), h("td", { class: "hide-narrow" }, time(d.updated_at)),
      h("td", {}, h("div", { class: "actions", style: "margin:0" },
        btn("Test", async () => { mount(out, "sending…"); mount(out, outcome(await api("POST", path + "/test"))); }),
        btn("Edit", async () => openEditor(d)),
        d.channel === "webhook" ? btn("Rotate secret", async () => {
          if (!confirm("Give " + d.id + " a new secret? The old one keeps signing beside it for 24 hours.")) return;
          showSecret("Rotated.", await api("POST", path + "/rotate-secret", { overlap: "24h" }));
          await load();
        }) : null,
        d.enabled ? btn("Disable", async () => { await api("POST", path + "/disable"); await load(); })
          : btn("Enable", async () => { await api("POST", path + "/enable"); await load(); }),
        btn("Delete", async () => {
          if (!confirm("Delete " + d.id + "? Its events stop going there.")) return;
          await api("DELETE", path); toast("Deleted " + d.id + "."); await load();
        }, "danger")), out));
  }

  // openEditor shows the form to create a destination (d null) or change d.
  function openEditor(d) {
    const creating = !d;
    const id = h("input", { name: "id", value: d ? d.id : "", required: true, disabled: !creating, pattern: "[A-Za-z0-9._-]+", spellcheck: "false" });
    const channel = h("select", { name: "channel", disabled: !creating }, CHANNELS.map((c) => h("option", { value: c, selected: d ? d.channel === c : c === "webhook" }, c)));
    const types = h("input", { name: "event_types", value: d ? (d.event_types || []).join(", ") : "*", required: true, placeholder: "payment.*, node.terminated" });
    const enabled = h("input", { type: "checkbox", name: "enabled", checked: d ? d.enabled : true });
    const cfgBox = h("div", { class: "form-grid" });
    let inputs = {};
    const drawConfig = () => {
      inputs = {};
      const cfg = (d && d.config) || {};
      mount(cfgBox, (configFields[channel.value] || []).map(([key, label, o]) => {
        let input;
        const v = cfg[key];
        if (o.choices) input = h("select", { name: key }, o.choices.map((c) => h("option", { value: c, selected: (v || o.choices[0]) === c }, c)));
        else input = h("input", { name: "config." + key, value: v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v),
          required: o.required && creating, placeholder: o.placeholder || "", spellcheck: "false", autocomplete: "off" });
        inputs[key] = [input, o];
        return field(label, input);
      }));
    };
    channel.addEventListener("change", drawConfig);
    drawConfig();
    const err = h("div", { "aria-live": "assertive" });
    const save = h("button", { type: "submit", class: "primary" }, creating ? "Create" : "Save");
    const cancel = h("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", () => mount(editor));
    const form = h("form", { class: "panel", "aria-label": creating ? "New destination" : "Edit " + d.id },
      h("h3", {}, creating ? "New destination" : "Edit " + d.id),
      h("div", { class: "form-grid" }, field("Id", id), field("Channel", channel), field("Event types (patterns, comma-separated)", types),
        h("div", {}, h("label", { class: "check" }, enabled, "Enabled"))),
      h("fieldset", {}, h("legend", {}, "Config"), cfgBox), err, h("div", { class: "actions" }, save, cancel));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const config = {};
      for (const [key, [input, o]] of Object.entries(inputs)) {
        const v = input.value.trim();
        if (!v) continue;
        config[key] = o.list ? csv(v) : v;
      }
      busy(save, async () => {
        try {
          let res;
          if (creating) res = await api("POST", base, { id: id.value.trim(), channel: channel.value, config, event_types: csv(types.value), enabled: enabled.checked });
          else res = await api("PATCH", base + "/" + encodeURIComponent(d.id), { config, event_types: csv(types.value), enabled: enabled.checked });
          mount(editor);
          if (res.secret) showSecret(creating ? "Created." : "Saved.", res);
          else mount(notice, h("p", { class: "alert ok" }, (creating ? "Created " : "Saved ") + res.id + "."));
          await load();
        } catch (e) { mount(err, h("p", { class: "alert error" }, e.message)); }
      });
    });
    mount(editor, form);
    id.focus();
    if (!creating) types.focus();
  }

  load().catch((e) => mount(tbody, h("tr", {}, h("td", { colspan: 7, class: "alert error" }, e.message))));
  return el;
}
