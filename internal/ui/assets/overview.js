// Overview: per channel, deliveries per minute, success rate and backlog as small live
// charts, with dead letters and open breakers called out. Status is polled every 5 s (it is
// cheap: the backlog chart grows from these samples), the ledger's stats every 30 s.
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { api, h, mount, num, pct, badge, time, fail } from "./lib.js";

const BACKLOG_POINTS = 180; // 15 minutes of 5-second samples

export async function render(ctx) {
  const tiles = h("div", { class: "tiles", "aria-label": "Totals" });
  const grid = h("div", { class: "grid" });
  const idleLine = h("p", { class: "idle muted small" });
  const attention = h("div");
  const note = h("p", { class: "muted small" });
  mount(ctx.main, h("h1", {}, "Overview"), tiles, grid, idleLine, attention, note);

  // A channel gets a card once anything happened on it (a backlog, a dead letter, a
  // finished delivery, a destination needing attention, a point in the stats); until then
  // it is listed on one line, so that the channels in use are what the eye meets.
  const cards = new Map(); // channel -> card
  const idle = new Set();
  const card = (name) => {
    if (!cards.has(name)) {
      const c = newCard(name);
      cards.set(name, c);
      idle.delete(name);
      const empty = grid.querySelector(".empty");
      if (empty) empty.remove();
      const sorted = [...cards.keys()].sort();
      grid.insertBefore(c.el, grid.children[sorted.indexOf(name)] || null);
    }
    return cards.get(name);
  };
  const active = (ch) => ch.backlog > 0 || ch.in_flight > 0 || ch.dead_letters > 0 || ch.redeliveries > 0 ||
    ch.success_rate_5m !== null || ch.success_rate_60m !== null || (ch.destinations || []).length > 0;
  const showIdle = () => mount(idleLine, idle.size ? ["No traffic yet on ", [...idle].sort().join(", "), "."] : null);

  async function pollStatus() {
    let st;
    try { st = await api("GET", "/admin/notifications/status"); } catch (e) { if (ctx.alive()) fail(e); return; }
    if (!ctx.alive()) return;
    const t = Date.parse(st.generated_at) / 1000 || Date.now() / 1000;
    let backlog = 0, inflight = 0, deadN = 0, open = 0;
    for (const ch of st.channels || []) {
      backlog += ch.backlog; inflight += ch.in_flight; deadN += ch.dead_letters;
      const openHere = (ch.destinations || []).filter((d) => d.circuit === "open").length;
      open += openHere;
      if (cards.has(ch.channel) || active(ch)) card(ch.channel).status(ch, t, openHere);
      else idle.add(ch.channel);
    }
    showIdle();
    const disabled = st.disabled_destinations || [];
    mount(tiles,
      tile("Backlog", num(backlog)), tile("In flight", num(inflight)),
      tile("Dead letters", num(deadN), deadN > 0, "#/dead"), tile("Open breakers", num(open), open > 0),
      tile("Disabled destinations", num(disabled.length), disabled.length > 0, "#/destinations"));
    if (!st.channels || !st.channels.length) mount(grid, h("p", { class: "empty" }, "No channel is enabled on this server."));
    else if (!cards.size) mount(grid, h("p", { class: "empty" }, "Nothing delivered yet. Publish an event (see the README) and it shows up here within seconds."));
    renderAttention(attention, st);
    mount(note, "Status at ", time(st.generated_at), "; backlog sampled every 5 s, deliveries per minute from the ledger every 30 s.");
  }

  async function pollStats() {
    let stats;
    try { stats = await api("GET", "/admin/notifications/stats?since=1h&step=1m"); } catch (e) {
      if (ctx.alive()) for (const c of cards.values()) c.statsError(e.message);
      return;
    }
    if (!ctx.alive()) return;
    for (const ch of stats.channels || []) {
      const busy = (ch.points || []).some((p) => p.delivered + p.failed + p.dead + p.retrying > 0);
      if (cards.has(ch.channel) || busy) card(ch.channel).stats(ch.points || [], stats.step_seconds || 60);
    }
    showIdle();
  }

  // The operator's configured channels have cards from the start.
  try {
    const ds = await api("GET", "/admin/destinations");
    for (const d of ds.data || []) card(d.channel);
  } catch { /* cards then appear with traffic */ }
  await pollStatus();
  await pollStats();
  // A channel whose first card appears between two stats polls gets its charts at once.
  let known = cards.size;
  ctx.every(() => { if (cards.size !== known) { known = cards.size; pollStats(); } }, 1000);
  ctx.every(pollStatus, 5000);
  ctx.every(pollStats, 30000);
}

function tile(label, value, bad, href) {
  const v = h("div", { class: "v" }, value);
  return h("div", { class: "tile" + (bad ? " bad" : "") }, h("div", { class: "muted small" }, href && bad ? h("a", { href }, label) : label), v);
}

function renderAttention(el, st) {
  const rows = [];
  for (const ch of st.channels || []) for (const d of ch.destinations || []) {
    if ((d.circuit && d.circuit !== "closed") || d.paused_until || d.dead_letters > 0) rows.push([ch.channel, d]);
  }
  const disabled = st.disabled_destinations || [];
  if (!rows.length && !disabled.length) { mount(el); return; }
  mount(el,
    rows.length ? [h("h2", {}, "Destinations needing attention"), h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Channel"), h("th", {}, "Destination"), h("th", {}, "Breaker"), h("th", {}, "Paused until"), h("th", { class: "num" }, "Dead letters"))),
      h("tbody", {}, rows.map(([ch, d]) => h("tr", {},
        h("td", {}, ch), h("td", { class: "mono" }, d.destination), h("td", {}, badge(d.circuit || "closed")),
        h("td", {}, d.paused_until ? time(d.paused_until) : "–"),
        h("td", { class: "num" }, d.dead_letters ? h("a", { href: "#/dead?channel=" + encodeURIComponent(ch) }, num(d.dead_letters)) : "0"))))))] : null,
    disabled.length ? [h("h2", {}, "Disabled tenant destinations"), h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Tenant"), h("th", {}, "Destination"), h("th", {}, "Channel"), h("th", {}, "Why"))),
      h("tbody", {}, disabled.map((d) => h("tr", {},
        h("td", {}, d.tenant), h("td", { class: "mono" }, h("a", { href: "#/destinations?tenant=" + encodeURIComponent(d.tenant) }, d.id)),
        h("td", {}, d.channel), h("td", {}, badge("disabled", d.disabled_reason || "disabled")))))))] : null);
}

// newCard is one channel's panel with its three charts.
function newCard(name) {
  const title = h("span", {}, name);
  const flags = h("span", {});
  const facts = h("div", { class: "facts small" });
  const rate = chart("Deliveries / min", "rate", "deliveries");
  const success = chart("Success rate", "success", "%");
  const backlog = chart("Backlog", "backlog", "messages");
  const el = h("section", { class: "panel card", "aria-label": "Channel " + name, dataset: { channel: name } },
    h("h3", {}, title, flags), facts, rate.el, success.el, backlog.el);
  const samples = [[], []];
  return {
    el,
    status(ch, t, openHere) {
      el.classList.toggle("has-dead", ch.dead_letters > 0);
      el.classList.toggle("has-open", openHere > 0);
      mount(flags,
        ch.dead_letters > 0 ? h("a", { class: "flag small", href: "#/dead?channel=" + encodeURIComponent(name) }, num(ch.dead_letters) + " dead") : null,
        openHere > 0 ? h("span", { class: "flag small" }, " · " + openHere + " breaker" + (openHere > 1 ? "s" : "") + " open") : null);
      mount(facts,
        h("span", {}, "backlog ", h("b", {}, num(ch.backlog))), h("span", {}, "in flight ", h("b", {}, num(ch.in_flight))),
        h("span", {}, "redeliveries ", h("b", {}, num(ch.redeliveries))),
        h("span", {}, "success ", h("b", {}, pct(ch.success_rate_5m)), " 5m · ", h("b", {}, pct(ch.success_rate_60m)), " 60m"));
      samples[0].push(t); samples[1].push(ch.backlog);
      if (samples[0].length > BACKLOG_POINTS) { samples[0].shift(); samples[1].shift(); }
      backlog.set(samples, num(ch.backlog));
    },
    stats(points, step) {
      const ts = points.map((p) => Date.parse(p.t) / 1000);
      const perMin = points.map((p) => ((p.delivered + p.failed + p.dead) * 60) / step);
      const ok = points.map((p) => { const n = p.delivered + p.failed + p.dead; return n ? (100 * p.delivered) / n : null; });
      const last = perMin.length ? perMin[perMin.length - 1] : 0;
      const lastOk = [...ok].reverse().find((v) => v !== null);
      rate.set([ts, perMin], num(Math.round(last)) + "/min");
      success.set([ts, ok], lastOk === undefined ? "–" : (Number.isInteger(lastOk) ? lastOk : lastOk.toFixed(1)) + "%");
    },
    statsError(msg) { rate.error(msg); success.error(msg); },
  };
}

function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

// chart is one small uPlot line chart with a label and its latest value.
function chart(label, kind, unit) {
  const value = h("span", {});
  const plot = h("div", { class: "plot", role: "img", "aria-label": label + " over time" });
  const el = h("div", { class: "chart" }, h("div", { class: "label" }, h("span", {}, label), value), plot);
  let u = null;
  const color = kind === "success" ? css("--ok") : kind === "backlog" ? css("--warn") : css("--accent");
  function make(data) {
    const width = Math.max(200, plot.clientWidth || el.clientWidth || 300);
    const axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { show: false }, font: "10px system-ui, sans-serif" };
    u = new uPlot({
      width, height: 70, legend: { show: false }, cursor: { drag: { x: false, y: false }, points: { show: false } },
      // The span of the data itself: uPlot widens a single sample (the backlog's first) to
      // years; show the minute before it instead.
      scales: { x: { time: true, range: (self) => { const xs = self.data[0]; const lo = xs[0], hi = xs[xs.length - 1]; return lo === hi ? [lo - 60, hi] : [lo, hi]; } }, y: kind === "success" ? { range: [0, 100] } : { range: (self, min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [{ ...axis, size: 18, space: 60, values: (self, ticks) => ticks.map((t) => clock(t, ticks.length > 1 && ticks[1] - ticks[0] < 60)) }, { ...axis, size: 34, space: 25, values: (self, ticks) => ticks.map((v) => (kind === "success" ? v + "%" : compact(v))) }],
      series: [{}, { label: unit, stroke: color, width: 1.5, fill: color + "22", spanGaps: kind === "success", points: { show: kind === "success", size: 4, fill: color } }],
    }, data, plot);
    new ResizeObserver(() => { if (u && plot.clientWidth) u.setSize({ width: plot.clientWidth, height: 70 }); }).observe(plot);
  }
  return {
    el,
    set(data, latest) {
      value.textContent = latest;
      if (!data[0].length) return;
      if (!u) make(data); else u.setData(data);
    },
    error(msg) { value.textContent = ""; if (!u) mount(plot, h("span", { class: "muted small" }, "no data: " + msg)); },
  };
}

// clock shows a tick's time, to the second when ticks are less than a minute apart.
const clock = (t, seconds) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined, hour12: false });

function compact(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return String(Math.round(v * 10) / 10);
}
