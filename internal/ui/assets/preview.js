// Previews of a payload as its channel shows it: a Discord embed, Slack blocks, a Teams
// Adaptive Card, an email (its HTML in a sandboxed frame that can run nothing and load
// nothing), and the raw JSON beside each. Texts are set as text: markup in event data shows
// as the characters it is, as the channels' own escaping makes it.
import { h, pretty, time } from "./lib.js";

export function renderPreview(pv) {
  const p = pv.payload || {};
  let view = null;
  try {
    switch (pv.channel) {
      case "discord": view = discord(p.body); break;
      case "slack": view = slack(p.body); break;
      case "teams": view = teams(p.body); break;
      case "email": view = email(p); break;
    }
  } catch { view = null; }
  const raw = h("pre", { class: "json", tabindex: "0", "aria-label": "Raw JSON" }, pretty(p.body !== undefined ? p.body : p));
  const event = h("details", {}, h("summary", {}, "The event as published"), h("pre", { class: "json", tabindex: "0" }, pretty(pv.event)));
  return h("div", {},
    h("p", { class: "muted small" }, pv.note || "rendered now with the current templates", pv.rendered_at ? [" · ", time(pv.rendered_at)] : null),
    view ? h("div", { class: "split" }, h("div", { "aria-label": "Rendered preview" }, view), raw) : raw,
    event);
}

const hex = (n) => "#" + Number(n || 0).toString(16).padStart(6, "0");

// mrkdwn shows Slack's and Discord's markup lightly: *bold* (and **bold**) in bold, the
// rest as text, with Slack's entities decoded.
function mrkdwn(s) {
  s = String(s || "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  s = s.replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, "$1").replace(/<(https?:[^|>]+)\|([^>]+)>/g, "$2");
  const out = [];
  const re = /\*\*([^*]+)\*\*|\*([^*\n]+)\*/g;
  let i = 0, m;
  while ((m = re.exec(s))) {
    if (m.index > i) out.push(s.slice(i, m.index));
    out.push(h("b", {}, m[1] || m[2]));
    i = m.index + m[0].length;
  }
  out.push(s.slice(i));
  return h("span", { style: "white-space: pre-wrap" }, out);
}

function discord(body) {
  const e = (body.embeds || [])[0];
  if (!e) return null;
  const el = h("div", { class: "pv discord", style: "--embed:" + hex(e.color) },
    e.title ? h("div", { class: "title" }, e.title) : null,
    e.description ? h("div", {}, mrkdwn(e.description)) : null,
    e.fields && e.fields.length ? h("div", { class: "fields" }, e.fields.map((f) => h("div", { style: f.inline ? "" : "grid-column: 1 / -1" },
      h("div", { class: "name" }, f.name), h("div", {}, mrkdwn(f.value))))) : null,
    e.footer || e.timestamp ? h("div", { class: "foot" }, e.footer ? e.footer.text : "", e.timestamp ? " • " + new Date(e.timestamp).toLocaleString() : "") : null);
  return el;
}

function slack(body) {
  const blocks = body.blocks || [];
  if (!blocks.length) return h("div", { class: "pv slack" }, mrkdwn(body.text));
  return h("div", { class: "pv slack" }, blocks.map((b) => {
    switch (b.type) {
      case "header": return h("div", { class: "header" }, b.text ? b.text.text : "");
      case "section": return h("div", {}, b.text ? h("div", {}, mrkdwn(b.text.text)) : null,
        b.fields ? h("div", { class: "fields" }, b.fields.map((f) => h("div", {}, mrkdwn(f.text)))) : null);
      case "context": return h("div", { class: "foot" }, (b.elements || []).map((x, i) => [i ? " · " : "", mrkdwn(x.text)]));
      case "divider": return h("hr");
      default: return null;
    }
  }));
}

function teams(body) {
  const att = (body.attachments || [])[0];
  const card = att && att.content;
  if (!card) return null;
  return h("div", { class: "pv teams" }, (card.body || []).map(cardElement));
}

function cardElement(x) {
  switch (x.type) {
    case "TextBlock":
      return h("div", { class: (x.color || "").toLowerCase() + (x.isSubtle ? " muted" : ""),
        style: (x.weight === "Bolder" ? "font-weight:700;" : "") + (x.size === "Small" ? "font-size:0.85rem;" : x.size === "Large" || x.size === "Medium" ? "font-size:1.1rem;" : "") }, mrkdwn(x.text));
    case "FactSet":
      return h("dl", { class: "facts" }, (x.facts || []).map((f) => [h("dt", {}, f.title), h("dd", {}, mrkdwn(f.value))]));
    case "Container": return h("div", {}, (x.items || []).map(cardElement));
    case "ColumnSet": return h("div", { style: "display:flex;gap:0.8rem" }, (x.columns || []).map((c) => h("div", {}, (c.items || []).map(cardElement))));
    default: return null;
  }
}

function email(p) {
  if (!p.html && !p.text) return null;
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const frame = h("iframe", { sandbox: "", title: "The email's HTML part", srcdoc: p.html || "", referrerpolicy: "no-referrer" });
  // Marked once shown, so that a test can tell a drawn email from one still loading.
  frame.addEventListener("load", () => { frame.dataset.loaded = "1"; });
  const text = h("pre", { class: "text", hidden: true }, p.text || "");
  const tab = (label, show) => {
    const b = h("button", { type: "button", role: "tab", "aria-selected": show === frame ? "true" : "false" }, label);
    b.addEventListener("click", () => {
      for (const x of tabs.children) x.setAttribute("aria-selected", "false");
      b.setAttribute("aria-selected", "true");
      frame.hidden = show !== frame; text.hidden = show !== text;
    });
    return b;
  };
  tabs.append(tab("HTML", frame), tab("Text", text));
  return h("div", { class: "pv email" }, h("div", { class: "subject" }, p.subject || "(no subject)"), tabs, frame, text);
}
