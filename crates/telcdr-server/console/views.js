// The console's screens: sign-in, the call list with its filters, one call
// (fields, timeline, recordings with a transcript that follows the audio,
// voicemails) and the overview (charts of a window).
//
// Every view is `async (ctx, ...) => cleanup?`. `ctx` comes from app.js:
//   main        the <main> element to render into
//   params      URLSearchParams of the route (the shareable filter)
//   sdkAppId    the SdkAppId being looked at
//   href(path, params)      a "#/path?query" link that keeps the SdkAppId
//   go(path, params)        navigate there
//   isCurrent()             false once the user went elsewhere (drop late answers)
//   fail(err)               show an error (auth errors lead to the sign-in)
//   title(text)             set the document title
//   back                    the hash of the call list the user last saw, if any

import * as api from "./api.js";
import { barChart, lineChart, donutChart, hbarChart, phaseBar } from "./charts.js";

// ------------------------------------------------------------ DOM helpers

/** An HTML element: h("a", {href: "#", class: "x", onclick: fn}, "text", child...). */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function option(value, label, selected) {
  return h("option", { value, selected: String(value) === String(selected ?? "") }, label);
}

function field(label, control, hint) {
  const id = control.id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("small", { class: "hint", id: `${id}-hint` }, hint) : null);
}

/**
 * A chart drawn at its container's width: `draw(width)` returns an <svg>,
 * redrawn when the container's width changes (window resized, phone turned).
 */
function sized(draw, cls = "") {
  const box = h("div", { class: `chart-box ${cls}`.trim() });
  let drawn = 0;
  const paint = () => {
    const w = Math.round(box.clientWidth);
    if (!w || Math.abs(w - drawn) < 8) return;
    drawn = w;
    box.replaceChildren(draw(w));
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(paint).observe(box);
  requestAnimationFrame(paint);
  return box;
}

// ------------------------------------------------------------ formatting

const nf = new Intl.NumberFormat();
export const fmtInt = (n) => nf.format(Number(n) || 0);
const pct = (x) => `${(Number(x) * 100).toFixed(1)}%`;

const dtFull = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dtShort = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const tOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dOnly = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
const hOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export const fmtDateTime = (ts) => (ts > 0 ? dtFull.format(new Date(ts * 1000)) : "—");
const fmtShort = (ts) => (ts > 0 ? dtShort.format(new Date(ts * 1000)) : "—");
const fmtTime = (ts) => (ts > 0 ? tOnly.format(new Date(ts * 1000)) : "—");

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function fmtClock(sec) {
  sec = Math.max(0, Math.floor(Number(sec) || 0));
  const hh = Math.floor(sec / 3600), mm = Math.floor((sec % 3600) / 60), ss = sec % 60;
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}` : `${mm}:${String(ss).padStart(2, "0")}`;
}

/** 45 -> "45 s", 125 -> "2 min 5 s", 3725 -> "1 h 2 min". */
export function fmtDuration(sec) {
  sec = Math.round(Number(sec) || 0);
  if (sec < 60) return `${sec} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${sec % 60} s`;
  return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
}

// ------------------------------------------------------------ domain tables

/** EndStatus code -> [EndStatusString, description, scenario] (spec 6.1). */
export const END_STATUS = new Map([
  [1, ["ok", "Answered", "both"]],
  [17, ["seatGiveUp", "Agent did not answer in time", "in"]],
  [100, ["blackList", "Caller on the blacklist", "in"]],
  [102, ["ivrGiveUp", "Hung up in the IVR", "in"]],
  [103, ["waitingGiveUp", "Hung up while queued", "in"]],
  [104, ["ringingGiveUp", "Hung up while the agent's phone rang", "in"]],
  [105, ["noSeatOnline", "No agent online", "in"]],
  [106, ["notWorkTime", "Outside business hours", "in"]],
  [107, ["ivrEnd", "IVR ended without an agent", "in"]],
  [108, ["restrictedCallee", "Callee blocked (risk)", "out"]],
  [109, ["tooManyRequest", "Outbound frequency limit", "out"]],
  [110, ["restrictedArea", "Callee region blocked", "out"]],
  [111, ["restrictedTime", "Outside allowed calling hours", "out"]],
  [202, ["notAnswer", "Not answered", "out"]],
  [203, ["userReject", "Rejected by the callee", "out"]],
  [204, ["powerOff", "Callee's phone off", "out"]],
  [205, ["numberNotExist", "Number does not exist", "out"]],
  [206, ["busy", "Busy", "out"]],
  [207, ["outOfCredit", "Callee out of credit", "out"]],
  [208, ["operatorError", "Carrier line fault", "out"]],
  [209, ["callerCancel", "Cancelled before ringing", "out"]],
  [210, ["notInService", "Callee out of service area", "out"]],
  [211, ["clientError", "Agent's device error", "both"]],
  [212, ["carrierBlocked", "Blocked by the carrier", "out"]],
  [213, ["callReminder", "Call reminder announcement", "out"]],
  [215, ["numberInvalid", "Invalid number", "out"]],
  [216, ["callRestricted", "Call restricted announcement", "out"]],
  [217, ["calleeRestricted", "Callee blacklist restriction", "out"]],
  [218, ["areaRestricted", "Callee area restricted", "out"]],
  [219, ["promptCallForwarding", "Call forwarding announcement", "out"]],
  [220, ["callerCancelWhileRing", "Cancelled while ringing", "out"]],
  [221, ["callerCancelWithoutRing", "Callee anomaly, no ringing", "out"]],
  [222, ["voiceMailReached", "Reached voicemail", "out"]],
  [501, ["callConflict", "Call conflict", "voip"]],
  [502, ["clientTimeout", "Client timeout", "voip"]],
  [503, ["voipClientError", "VoIP client error", "voip"]],
]);
const UNANSWERED = [...END_STATUS.keys()].filter((c) => c !== 1);

function statusText(code, str) {
  const e = END_STATUS.get(Number(code));
  return e ? e[1] : str || `status ${code}`;
}

function statusClass(code) {
  code = Number(code);
  if (code === 1) return "ok";
  if ([17, 102, 103, 104, 209, 220].includes(code)) return "gaveup";
  return "fail";
}

const DIRECTION = { 0: "Inbound", 1: "Outbound" };
const CALL_TYPE = { 1: "Outbound", 2: "Inbound", 3: "Audio (VoIP) inbound", 5: "Predictive outbound", 6: "Internal (agent to agent)" };
const HUNG_UP = { seat: "the agent", user: "the customer", system: "the system" };
const LEG_STATUS = { ok: "served", seatGiveUp: "did not answer", seatForward: "forwarded the call", outboundForward: "forwarded outside", ivrGiveUp: "caller left in the IVR" };
const ROLE = { 1: "Administrator", 2: "Quality inspector", 3: "Agent" };
const EVENT_TYPE = { StaffHold: "put the customer on hold", StaffUnhold: "resumed the call", StaffMute: "muted the microphone", StaffUnmute: "unmuted the microphone" };

// ------------------------------------------------------------ time ranges

export const RANGES = [
  ["today", "Today"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["custom", "Custom range"],
];
const DAY = 86400;

/** datetime-local value <-> Unix seconds, in the browser's time zone. */
function toLocalInput(ts) {
  const d = new Date(ts * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v) {
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? NaN : Math.floor(t / 1000);
}

/**
 * The window [start, end] (Unix s, inclusive) a route's `range`, `from`, `to`
 * name. Returns {range, start, end, error}.
 */
export function resolveRange(params, now = api.serverNow(), fallback = "7d") {
  let range = params.get("range") || fallback;
  if (!RANGES.some(([r]) => r === range)) range = fallback;
  let start, end = now;
  switch (range) {
    case "today": {
      const d = new Date(now * 1000);
      d.setHours(0, 0, 0, 0);
      start = Math.floor(d.getTime() / 1000);
      break;
    }
    case "24h": start = now - DAY; break;
    case "30d": start = now - 30 * DAY; break;
    case "custom": {
      start = Number(params.get("from"));
      end = Number(params.get("to"));
      if (!Number.isFinite(start) || !start) start = now - 7 * DAY;
      if (!Number.isFinite(end) || !end) end = now;
      break;
    }
    default: start = now - 7 * DAY;
  }
  let error = "";
  if (end < start) error = "The end of the range is before its start.";
  else if (end - start >= 90 * DAY) error = "A range must be shorter than 90 days.";
  return { range, start, end, error };
}

/** The range controls shared by the list and the overview. */
function rangeControls(params, now) {
  const r = resolveRange(params, now);
  const select = h("select", { id: "f-range", name: "range" }, RANGES.map(([v, l]) => option(v, l, r.range)));
  const from = h("input", { id: "f-from", name: "from", type: "datetime-local", value: toLocalInput(r.start) });
  const to = h("input", { id: "f-to", name: "to", type: "datetime-local", value: toLocalInput(r.end) });
  const custom = h("div", { class: "custom-range", hidden: r.range !== "custom" }, field("From", from), field("To", to));
  select.addEventListener("change", () => {
    custom.hidden = select.value !== "custom";
  });
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  return {
    node: h("div", { class: "range-group" }, field("Time range", select, `Times in ${tz}`), custom),
    /** The range params the form asks for (sets `error` when the custom range is unusable). */
    read(out) {
      out.range = select.value;
      if (select.value === "custom") {
        const f = fromLocalInput(from.value), t = fromLocalInput(to.value);
        if (Number.isNaN(f) || Number.isNaN(t)) return "Enter both ends of the custom range.";
        if (t < f) return "The end of the range is before its start.";
        if (t - f >= 90 * DAY) return "A range must be shorter than 90 days.";
        out.from = f;
        out.to = t + 59; // the minute the user picked, inclusive
      }
      return "";
    },
  };
}

// ------------------------------------------------------------ status and errors in a view

function loading(text) {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

function notice(text, cls = "notice") {
  return h("p", { class: cls }, text);
}

// ------------------------------------------------------------ sign-in

/**
 * The sign-in form. `onDone(credentials)` is called after temporary
 * credentials were issued and stored; `reason` (e.g. "expired") is shown.
 */
export function signInView(main, { reason = "", onDone }) {
  const id = h("input", { id: "s-id", name: "secretId", autocomplete: "username", spellcheck: "false", autocapitalize: "off", required: true });
  const key = h("input", { id: "s-key", name: "secretKey", type: "password", autocomplete: "current-password", required: true });
  const duration = h(
    "select",
    { id: "s-duration", name: "duration" },
    option(3600, "1 hour", 3600),
    option(4 * 3600, "4 hours"),
    option(12 * 3600, "12 hours"),
  );
  const err = h("div", { class: "form-error", role: "alert", "aria-live": "assertive", id: "signin-error" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  // Pasting the two `export TENCENTCLOUD_SECRET_...=` lines telcdr prints fills both fields.
  const onPaste = (ev) => {
    const text = ev.clipboardData?.getData("text") || "";
    const mId = text.match(/TENCENTCLOUD_SECRET_ID=["']?([^\s"']+)/);
    const mKey = text.match(/TENCENTCLOUD_SECRET_KEY=["']?([^\s"']+)/);
    if (mId || mKey) {
      ev.preventDefault();
      if (mId) id.value = mId[1];
      if (mKey) key.value = mKey[1];
    }
  };
  id.addEventListener("paste", onPaste);
  key.addEventListener("paste", onPaste);
  const form = h(
    "form",
    { class: "signin card", novalidate: true, "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in to telcdr"),
    reason ? h("p", { class: "alert warn", role: "alert" }, reason) : null,
    h(
      "p",
      { class: "muted" },
      "Use an API key (SecretId and SecretKey). The console trades it for temporary credentials and keeps only those, in this tab, until they expire; the key itself is not stored.",
    ),
    field("SecretId", id),
    field("SecretKey", key, "Tip: paste the two export lines that telcdr printed."),
    field("Stay signed in for", duration),
    err,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const c = await api.signIn(id.value, key.value, Number(duration.value));
      key.value = "";
      id.value = "";
      onDone(c);
    } catch (e) {
      err.textContent = e.code && e.code !== "MissingParameter" ? `${e.message} (${e.code})` : e.message;
      submit.disabled = false;
      submit.textContent = "Sign in";
      (e.code === "MissingParameter" && !id.value ? id : key).focus();
    }
  });
  main.replaceChildren(form);
  return { focus: () => (reason ? id : form.querySelector("h1")).focus() };
}

// ------------------------------------------------------------ suggestions for agent / skill group

const suggestionCache = new Map();
async function suggestions(sdkAppId) {
  if (!suggestionCache.has(sdkAppId)) {
    const now = api.serverNow();
    suggestionCache.set(
      sdkAppId,
      api.overview(sdkAppId, now - 30 * DAY, now, "day").catch(() => {
        suggestionCache.delete(sdkAppId);
        return null;
      }),
    );
  }
  return suggestionCache.get(sdkAppId);
}

// ------------------------------------------------------------ the call list

const PAGE_SIZES = [20, 50, 100];

/** The list's filters from the route: what the API is asked and what the form shows. */
export function listQuery(params, sdkAppId, now = api.serverNow()) {
  const r = resolveRange(params, now);
  const split = (v) => (v || "").split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);
  const status = params.get("status") || "";
  const size = PAGE_SIZES.includes(Number(params.get("size"))) ? Number(params.get("size")) : 50;
  const page = Math.max(1, Math.floor(Number(params.get("page")) || 1));
  const q = {
    sdkAppId,
    start: r.start,
    end: r.end,
    pageSize: size,
    pageNumber: page - 1,
    phones: split(params.get("phone")),
    sessionIds: split(params.get("session")),
    directions: ["0", "1"].includes(params.get("dir")) ? [Number(params.get("dir"))] : [],
    endStatuses: status === "answered" ? [1] : status === "unanswered" ? UNANSWERED : /^\d+$/.test(status) ? [Number(status)] : [],
    seatMails: split(params.get("agent")),
    skillGroupIds: split(params.get("group")).filter((s) => /^\d+$/.test(s)).map(Number),
  };
  return { q, range: r, page, size };
}

export async function callsView(ctx) {
  const { main, params } = ctx;
  const now = api.serverNow();
  const { q, range, page, size } = listQuery(params, ctx.sdkAppId, now);
  ctx.title("Calls");

  // ---- filter form
  const rc = rangeControls(params, now);
  const phone = h("input", { id: "f-phone", name: "phone", type: "search", inputmode: "tel", autocomplete: "off", value: params.get("phone") || "", placeholder: "e.g. 008613012345678" });
  const session = h("input", { id: "f-session", name: "session", type: "search", autocomplete: "off", spellcheck: "false", value: params.get("session") || "", placeholder: "SessionId" });
  const dir = h("select", { id: "f-dir", name: "dir" }, option("", "Any direction", params.get("dir")), option("0", "Inbound", params.get("dir")), option("1", "Outbound", params.get("dir")));
  const st = params.get("status") || "";
  const groupOf = (scen) => [...END_STATUS].filter(([c, e]) => c !== 1 && e[2] === scen).map(([c, e]) => option(c, `${e[1]} (${c} ${e[0]})`, st));
  const status = h(
    "select",
    { id: "f-status", name: "status" },
    option("", "Any outcome", st),
    option("answered", "Answered (1 ok)", st),
    option("unanswered", "Not answered (any other)", st),
    h("optgroup", { label: "Inbound" }, groupOf("in")),
    h("optgroup", { label: "Outbound" }, groupOf("out")),
    h("optgroup", { label: "Inbound or outbound" }, groupOf("both")),
    h("optgroup", { label: "VoIP" }, groupOf("voip")),
  );
  const agentList = h("datalist", { id: "agents-list" });
  const groupList = h("datalist", { id: "groups-list" });
  const agent = h("input", { id: "f-agent", name: "agent", type: "search", list: "agents-list", autocomplete: "off", spellcheck: "false", value: params.get("agent") || "", placeholder: "agent e-mail" });
  const group = h("input", { id: "f-group", name: "group", type: "search", inputmode: "numeric", list: "groups-list", autocomplete: "off", value: params.get("group") || "", placeholder: "skill group id" });
  const sizeSel = h("select", { id: "f-size", name: "size" }, PAGE_SIZES.map((n) => option(n, `${n} per page`, size)));
  const formError = h("div", { class: "form-error", role: "alert" });
  const active = ["dir", "status", "agent", "group"].filter((k) => params.get(k)).length;
  const wide = !globalThis.matchMedia || globalThis.matchMedia("(min-width: 721px)").matches;
  const form = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Filter calls" },
    h("div", { class: "filter-grid" }, rc.node, field("Phone number", phone), field("Session id", session)),
    h(
      "details",
      { class: "more-filters", open: wide || active > 0 },
      h("summary", {}, "More filters", active ? ` · ${active} active` : ""),
      h("div", { class: "filter-grid" }, field("Direction", dir), field("Outcome", status), field("Agent", agent), field("Skill group", group), field("Page size", sizeSel)),
    ),
    agentList,
    groupList,
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Search"), h("a", { href: ctx.href("calls", {}), class: "button" }, "Reset")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const out = {};
    const problem = rc.read(out);
    if (problem) {
      formError.textContent = problem;
      return;
    }
    if (group.value.trim() && !/^\d+([,\s]+\d+)*$/.test(group.value.trim())) {
      formError.textContent = "A skill group is given by its numeric id (pick one from the suggestions).";
      group.focus();
      return;
    }
    for (const [k, el] of [["phone", phone], ["session", session], ["dir", dir], ["status", status], ["agent", agent], ["group", group]]) {
      if (el.value.trim()) out[k] = el.value.trim();
    }
    if (Number(sizeSel.value) !== 50) out.size = sizeSel.value;
    ctx.go("calls", out);
  });
  suggestions(ctx.sdkAppId).then((o) => {
    if (!o) return;
    agentList.replaceChildren(...(o.TopAgents || []).map((a) => h("option", { value: a.Mail }, a.Name ? `${a.Name}` : a.Mail)));
    groupList.replaceChildren(...(o.TopSkillGroups || []).map((g) => h("option", { value: String(g.SkillGroupId) }, g.Name || String(g.SkillGroupId))));
  });

  const results = h("section", { class: "results", "aria-labelledby": "results-title" });
  main.replaceChildren(h("h1", { id: "page-title", tabindex: "-1" }, "Calls"), form, results);

  if (range.error) {
    formError.textContent = range.error;
    return;
  }
  results.replaceChildren(loading("Loading calls…"));
  let page0;
  try {
    page0 = await api.searchCdrs(q);
  } catch (e) {
    if (!ctx.isCurrent()) return;
    results.replaceChildren(notice("The calls could not be loaded.", "notice error"));
    ctx.fail(e);
    return;
  }
  if (!ctx.isCurrent()) return;

  const total = page0.totalCount;
  const pages = Math.max(1, Math.ceil(total / size));
  const first = total ? (page - 1) * size + 1 : 0;
  const last = Math.min(total, (page - 1) * size + page0.records.length);
  const summary = h(
    "p",
    { class: "summary", id: "results-summary", role: "status" },
    total
      ? `${first === last ? fmtInt(first) : `${fmtInt(first)}–${fmtInt(last)}`} of ${fmtInt(total)} call${total === 1 ? "" : "s"}`
      : "No calls match these filters.",
    h("span", { class: "muted" }, ` · ${fmtShort(range.start)} – ${fmtShort(range.end)}`),
  );
  const head = h("div", { class: "results-head" }, h("h2", { id: "results-title" }, "Results"), summary);
  if (!page0.records.length) {
    results.replaceChildren(head, total && page > pages ? h("p", {}, h("a", { href: ctx.href("calls", withParams(params, { page: pages })) }, `Go to the last page (${pages})`)) : null);
    return;
  }
  const table = h(
    "table",
    { class: "calls" },
    h("caption", { class: "visually-hidden" }, "Calls, newest first. Each time links to the call."),
    h(
      "thead",
      {},
      h("tr", {}, ["Time", "Direction", "From", "To", "Agent", "Skill group", "Outcome", "Talk", "Media"].map((t) => h("th", { scope: "col" }, t))),
    ),
    h("tbody", {}, page0.records.map((r) => callRow(ctx, r))),
  );
  const pager = h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    pageLink(ctx, params, 1, "« First", page > 1),
    pageLink(ctx, params, page - 1, "‹ Previous", page > 1, "prev"),
    h("span", { class: "page-of" }, `Page ${fmtInt(page)} of ${fmtInt(pages)}`),
    pageLink(ctx, params, page + 1, "Next ›", page < pages, "next"),
    pageLink(ctx, params, pages, "Last »", page < pages),
  );
  results.replaceChildren(head, h("div", { class: "table-wrap" }, table), pager);
}

function withParams(params, over) {
  const o = Object.fromEntries(params);
  delete o.app;
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined || v === null || v === "") delete o[k];
    else o[k] = v;
  }
  return o;
}

function pageLink(ctx, params, page, label, enabled, rel) {
  if (!enabled) return h("span", { class: "button disabled", "aria-disabled": "true" }, label);
  return h("a", { class: "button", href: ctx.href("calls", withParams(params, { page: page === 1 ? "" : page })), rel }, label);
}

function party(number, protectedId) {
  return number || (protectedId ? `protected ${protectedId.slice(0, 8)}…` : "—");
}

function callRow(ctx, r) {
  const href = ctx.href(`call/${encodeURIComponent(r.SessionId)}`, { t: r.Time });
  const agent = r.SeatUser && (r.SeatUser.Name || r.SeatUser.Mail);
  // Tags for what telcdr holds (and so the console can play); "ext" for a recording kept elsewhere.
  const media = [];
  if (r.RecordURL && sameOrigin(r.RecordURL)) media.push(h("span", { class: "tag", title: "Recording held by telcdr" }, "rec"));
  else if (r.RecordURL) media.push(h("span", { class: "tag ext", title: "Recording kept outside telcdr" }, "ext"));
  if (r.AsrStatus === "Complete" && sameOrigin(r.AsrUrl)) media.push(h("span", { class: "tag", title: "Transcript" }, "text"));
  if (r.VoicemailRecordURL && r.VoicemailRecordURL.length) media.push(h("span", { class: "tag", title: "Voicemail" }, "vm"));
  const link = h("a", { href, class: "row-link", "aria-label": `Call of ${fmtDateTime(r.Time)} from ${party(r.Caller, r.ProtectedCaller)} to ${party(r.Callee, r.ProtectedCallee)}, ${statusText(r.EndStatus, r.EndStatusString)}` }, fmtShort(r.Time));
  const tr = h(
    "tr",
    { dataset: { session: r.SessionId } },
    h("td", { "data-label": "Time" }, link),
    h("td", { "data-label": "Direction" }, DIRECTION[r.Direction] ?? String(r.Direction)),
    h("td", { "data-label": "From", class: "num" }, party(r.Caller, r.ProtectedCaller)),
    h("td", { "data-label": "To", class: "num" }, party(r.Callee, r.ProtectedCallee)),
    h("td", { "data-label": "Agent" }, agent || "—"),
    h("td", { "data-label": "Skill group" }, r.SkillGroup || r.QueuedSkillGroupName || "—"),
    h("td", { "data-label": "Outcome" }, h("span", { class: `badge ${statusClass(r.EndStatus)}`, title: `${r.EndStatus} ${r.EndStatusString}` }, statusText(r.EndStatus, r.EndStatusString))),
    h("td", { "data-label": "Talk", class: "num" }, r.Duration ? fmtClock(r.Duration) : "—"),
    h("td", { "data-label": "Media", class: "media-tags" }, media.length ? media : "—"),
  );
  // The whole row opens the call with a mouse; the link in it is the keyboard's way in.
  tr.addEventListener("click", (ev) => {
    if (ev.target.closest("a") || window.getSelection()?.toString()) return;
    location.hash = href.slice(href.indexOf("#"));
  });
  return tr;
}

// ------------------------------------------------------------ one call

export async function callView(ctx, sessionId) {
  const { main, params } = ctx;
  const t = Number(params.get("t")) || 0;
  ctx.title("Call");
  const back = h("a", { href: ctx.back || ctx.href("calls", {}), class: "back" }, "‹ Back to calls");
  main.replaceChildren(back, h("h1", { id: "page-title", tabindex: "-1" }, "Call"), loading("Loading the call…"));

  let rec, asr, detail;
  try {
    [rec, asr, detail] = await Promise.all([
      api.findCall(ctx.sdkAppId, sessionId, t),
      api.transcript(ctx.sdkAppId, sessionId).catch((e) => (e.kind === "api" ? { error: e } : Promise.reject(e))),
      t ? api.sessionDetail(ctx.sdkAppId, sessionId, t).catch((e) => (e.kind === "api" ? null : Promise.reject(e))) : null,
    ]);
  } catch (e) {
    if (!ctx.isCurrent()) return;
    main.replaceChildren(back, h("h1", { id: "page-title", tabindex: "-1" }, "Call"), notice("The call could not be loaded.", "notice error"));
    ctx.fail(e);
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!rec) {
    main.replaceChildren(back, h("h1", { id: "page-title", tabindex: "-1" }, "Call not found"), notice(`No call with session id ${sessionId} was found${t ? ` around ${fmtDateTime(t)}` : " in the last 180 days"}.`));
    return;
  }
  if (!t) detail = await api.sessionDetail(ctx.sdkAppId, sessionId, rec.Time).catch(() => null);
  if (!ctx.isCurrent()) return;

  const from = party(rec.Caller, rec.ProtectedCaller), to = party(rec.Callee, rec.ProtectedCallee);
  ctx.title(`Call ${from} → ${to}`);
  const header = h(
    "header",
    { class: "call-head" },
    h("h1", { id: "page-title", tabindex: "-1" }, h("span", { class: "num" }, from), " → ", h("span", { class: "num" }, to)),
    h(
      "p",
      { class: "call-sub" },
      h("span", { class: `badge ${statusClass(rec.EndStatus)}` }, statusText(rec.EndStatus, rec.EndStatusString)),
      ` ${DIRECTION[rec.Direction] ?? ""} · ${fmtDateTime(rec.Time)}`,
      rec.Duration ? ` · talk ${fmtDuration(rec.Duration)}` : "",
      rec.SeatUser && (rec.SeatUser.Name || rec.SeatUser.Mail) ? ` · ${rec.SeatUser.Name || rec.SeatUser.Mail}` : "",
    ),
  );

  const mediaSection = recordingSection(rec, asr);
  const events = detail && Array.isArray(detail.Events) ? detail.Events : [];
  main.replaceChildren(
    ...[
      back,
      header,
      h("div", { class: "call-grid" }, mediaSection.node, timelineSection(rec, events)),
      legsSection(rec),
      voicemailSection(rec),
      fieldsSection(rec),
    ].filter(Boolean),
  );
  return mediaSection.cleanup;
}

/** The main recording with the transcript that follows it. */
function recordingSection(rec, asr) {
  const node = h("section", { class: "card media", "aria-labelledby": "rec-title" }, h("h2", { id: "rec-title" }, "Recording and transcript"));
  let cleanup = () => {};
  let audio = null;
  if (rec.RecordURL && !sameOrigin(rec.RecordURL)) {
    node.append(h("p", { class: "notice" }, "The recording is kept outside telcdr, at ", externalLink(rec.RecordURL), ". The console plays the recordings telcdr holds."));
  } else if (rec.RecordURL) {
    audio = h("audio", { id: "call-audio", controls: true, preload: "metadata", src: rec.RecordURL, "aria-label": "Call recording" });
    const speed = h("select", { id: "p-speed", "aria-label": "Playback speed" }, [0.75, 1, 1.25, 1.5, 2].map((s) => option(s, `${s}×`, 1)));
    speed.addEventListener("change", () => (audio.playbackRate = Number(speed.value)));
    const pos = h("span", { class: "position", id: "p-position" }, "0:00");
    const err = h("p", { class: "form-error", role: "alert" });
    audio.addEventListener("error", () => {
      err.textContent = "The recording could not be loaded. Its link may have expired: reload the page to get a fresh one.";
    });
    node.append(
      h("div", { class: "player" }, audio, h("div", { class: "player-tools" }, h("label", { for: "p-speed" }, "Speed "), speed, pos, h("a", { href: rec.RecordURL, download: "", class: "small" }, "Download"))),
      err,
    );
    const upd = () => (pos.textContent = `${fmtClock(audio.currentTime)}${Number.isFinite(audio.duration) ? ` / ${fmtClock(audio.duration)}` : ""}`);
    audio.addEventListener("timeupdate", upd);
    audio.addEventListener("loadedmetadata", upd);
  } else {
    node.append(notice(rec.AcceptTimestamp ? "telcdr holds no recording of this call." : "The call was not answered, so there is no recording."));
  }

  if (asr && asr.error) {
    node.append(notice(`The transcript could not be loaded: ${asr.error.message} (${asr.error.code})`, "notice error"));
  } else if (asr && asr.length) {
    const t = transcriptList(rec, asr, audio);
    node.append(h("h3", { id: "asr-title" }, "Transcript"), t.node);
    cleanup = t.cleanup;
  } else if (rec.AsrStatus === "Processing") {
    node.append(notice("The transcript is still being processed."));
  } else if (rec.AsrUrl && !sameOrigin(rec.AsrUrl)) {
    node.append(h("p", { class: "notice" }, "telcdr holds no transcript of this call; one is kept at ", externalLink(rec.AsrUrl), "."));
  } else if (rec.RecordURL) {
    node.append(notice("There is no transcript of this recording."));
  }
  return { node, cleanup };
}

/**
 * The transcript as buttons: a click seeks the audio to the sentence; while
 * it plays, the sentence being spoken is highlighted (aria-current).
 */
function transcriptList(rec, asr, audio) {
  const lines = [...asr].sort((a, b) => a.Start - b.Start);
  // Start/End are Unix ms; the recording starts when the call was answered.
  const absolute = lines.length && lines[0].Start > 1e11;
  const origin = absolute ? (rec.AcceptTimestamp > 0 ? rec.AcceptTimestamp * 1000 : lines[0].Start) : 0;
  const agentMails = new Set([rec.SeatUser?.Mail, rec.SeatUser?.UserId, ...(rec.ServeParticipants || []).map((p) => p.Mail)].filter(Boolean));
  const speaker = (u) => {
    if (u === "user" || u === "customer") return ["Customer", "customer"];
    if (agentMails.has(u)) {
      const name = rec.SeatUser && rec.SeatUser.Mail === u && rec.SeatUser.Name ? rec.SeatUser.Name : u;
      return [`Agent · ${name}`, "agent"];
    }
    if (u === "agent" || u === "seat") return ["Agent", "agent"];
    return [u || "Speaker", "other"];
  };
  const items = lines.map((a, i) => {
    const start = Math.max(0, (a.Start - origin) / 1000);
    const end = Math.max(start, (a.End - origin) / 1000);
    const [who, cls] = speaker(a.User);
    const btn = h(
      "button",
      { type: "button", class: "sentence", dataset: { index: i, start: start.toFixed(3), end: end.toFixed(3) }, "aria-label": `${fmtClock(start)}, ${who}: ${a.Message}` },
      h("span", { class: "who" }, who),
      h("span", { class: "at" }, fmtClock(start)),
      h("span", { class: "msg" }, a.Message),
    );
    return { start, end, li: h("li", { class: `line ${cls}` }, btn), btn };
  });
  const list = h("ol", { class: "transcript", "aria-labelledby": "asr-title", tabindex: "-1" }, items.map((i) => i.li));
  if (!audio) return { node: h("div", {}, notice("No recording to play this transcript along with."), list), cleanup: () => {} };

  let current = -1;
  const highlight = (t, scroll) => {
    let idx = -1;
    for (let i = 0; i < items.length; i++) {
      if (items[i].start <= t + 0.05) idx = i;
      else break;
    }
    if (idx === current) return;
    if (current >= 0) {
      items[current].li.classList.remove("current");
      items[current].btn.removeAttribute("aria-current");
    }
    current = idx;
    items.forEach((it, i) => it.li.classList.toggle("spoken", i < idx));
    if (idx >= 0) {
      items[idx].li.classList.add("current");
      items[idx].btn.setAttribute("aria-current", "true");
      if (scroll) keepInView(list, items[idx].li);
    }
  };
  items.forEach((it) =>
    it.btn.addEventListener("click", () => {
      audio.currentTime = it.start;
      highlight(it.start, false);
      const p = audio.play();
      if (p && p.catch) p.catch(() => {});
    }),
  );
  let raf = 0;
  const tick = () => {
    highlight(audio.currentTime, true);
    raf = audio.paused ? 0 : requestAnimationFrame(tick);
  };
  const onPlay = () => {
    if (!raf) raf = requestAnimationFrame(tick);
  };
  const onTime = () => highlight(audio.currentTime, !audio.paused);
  audio.addEventListener("play", onPlay);
  audio.addEventListener("timeupdate", onTime);
  audio.addEventListener("seeked", onTime);
  return {
    node: list,
    cleanup: () => {
      cancelAnimationFrame(raf);
      audio.pause();
    },
  };
}

/** Scrolls a scrollable list (not the page) so that `item` is visible. */
function keepInView(list, item) {
  if (list.scrollHeight <= list.clientHeight) return;
  const top = item.getBoundingClientRect().top - list.getBoundingClientRect().top + list.scrollTop;
  if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }
}

/** Who a participant's mail is, as a person reads it. */
function agentName(rec, mail, phone) {
  if (!mail) return phone || "an agent";
  if (rec.SeatUser && rec.SeatUser.Mail === mail && rec.SeatUser.Name) return `${rec.SeatUser.Name} (${mail})`;
  return mail;
}

function keyPress(k) {
  return `${k.Key}${k.Label && k.Label !== k.Key ? ` (${k.Label})` : ""}`;
}

/** The events of a call in time order: [{ts, ms?, title, detail, kind}]. */
export function buildTimeline(rec, events = []) {
  const out = [];
  const add = (ts, kind, title, detail = "", order = 0) => {
    if (ts > 0) out.push({ ts, kind, title, detail, order });
  };
  const dirWord = rec.Direction === 1 ? "Outbound call" : rec.CallType === 6 ? "Internal call" : "Inbound call";
  add(rec.StartTimestamp || rec.Time, "start", `${dirWord} started`, `${party(rec.Caller, rec.ProtectedCaller)} → ${party(rec.Callee, rec.ProtectedCallee)}${rec.CallerLocation ? ` · ${rec.CallerLocation}` : ""}`, 0);
  const ivr = rec.IVRKeyPressedEx || [];
  ivr.forEach((k, i) => {
    const ts = k.Timestamp > 0 ? k.Timestamp / 1000 : (rec.StartTimestamp || rec.Time) + 0.001 * (i + 1);
    add(ts, "ivr", `IVR: ${k.OriginalContent ? `said “${k.OriginalContent}”` : `pressed ${keyPress(k)}`}`, [k.NodeLabel && `at “${k.NodeLabel}”`, k.TTSPrompt && `prompt “${k.TTSPrompt}”`].filter(Boolean).join(" · "), 1);
  });
  if (!ivr.length && rec.IVRKeyPressed && rec.IVRKeyPressed.length) {
    add((rec.StartTimestamp || rec.Time) + 0.001, "ivr", `IVR: pressed ${rec.IVRKeyPressed.join(", ")}`, "", 1);
  }
  if (rec.QueuedTimestamp > 0) {
    add(rec.QueuedTimestamp, "queue", `Queued${rec.QueuedSkillGroupName ? ` for ${rec.QueuedSkillGroupName}` : ""}`, rec.IVRDuration ? `after ${fmtDuration(rec.IVRDuration)} in the IVR` : "", 2);
  }
  const legs = [...(rec.ServeParticipants || [])].sort((a, b) => a.Sequence - b.Sequence);
  if (legs.length) {
    legs.forEach((p, i) => {
      const who = agentName(rec, p.Mail, p.Phone);
      const group = p.SkillGroupName ? ` · ${p.SkillGroupName}` : "";
      if (p.TransferFrom) {
        add(p.StartTimestamp || p.RingTimestamp, "transfer", `Transferred from ${agentName(rec, p.TransferFrom)} to ${who}`, p.TransferFromType ? `${p.TransferFromType} → ${p.Type}` : "", 3);
      }
      add(p.RingTimestamp, "ring", `Ringing ${who}`, `leg ${p.Sequence}${group}`, 4);
      add(p.AcceptTimestamp, "answer", `Answered by ${who}`, `leg ${p.Sequence}${group}`, 5);
      const later = legs.slice(i + 1);
      if (p.TransferTo && !later.some((q) => q.TransferFrom)) {
        add(p.EndedTimestamp, "transfer", `Transferred to ${p.TransferTo}`, p.TransferToType || "", 6);
      } else if (p.EndedTimestamp > 0 && p.EndedTimestamp !== rec.EndedTimestamp) {
        add(p.EndedTimestamp, "leg-end", `${who} ${LEG_STATUS[p.EndStatusString] || `left (${p.EndStatusString || "ended"})`}`, `leg ${p.Sequence}`, 6);
      } else if (p.EndStatusString && p.EndStatusString !== "ok") {
        add(p.EndedTimestamp, "leg-end", `${who} ${LEG_STATUS[p.EndStatusString] || `left (${p.EndStatusString})`}`, `leg ${p.Sequence}`, 6);
      }
    });
  } else {
    const who = rec.Direction === 1 ? "the customer" : agentName(rec, rec.SeatUser?.Mail, rec.SeatUser?.Phone);
    add(rec.RingTimestamp, "ring", `Ringing ${who}`, "", 4);
    add(rec.AcceptTimestamp, "answer", rec.Direction === 1 ? "The customer answered" : `Answered by ${who}`, "", 5);
  }
  for (const ev of events) {
    const staffs = ev.StaffEventDetail?.Staffs || [];
    const who = staffs.length ? staffs.map((s) => agentName(rec, s.Mail)).join(", ") : "The agent";
    add(ev.Timestamp, "event", `${who} ${EVENT_TYPE[ev.EventType] || ev.EventType}`, "", 7);
  }
  const hung = HUNG_UP[rec.HungUpSide];
  add(
    rec.EndedTimestamp,
    "end",
    `Call ended${hung ? ` — ${hung} hung up` : ""}`,
    `${statusText(rec.EndStatus, rec.EndStatusString)} (${rec.EndStatus} ${rec.EndStatusString})${rec.SysHangupReasonString ? ` · ${rec.SysHangupReasonString}` : ""}`,
    8,
  );
  (rec.PostIVRKeyPressedEx || []).forEach((k, i) => {
    const ts = k.Timestamp > 0 ? k.Timestamp / 1000 : (rec.EndedTimestamp || rec.Time) + 0.001 * (i + 1);
    add(ts, "survey", k.Key === "noInput" ? "Satisfaction survey: no answer" : `Satisfaction survey: pressed ${keyPress(k)}`, k.NodeLabel || "", 9);
  });
  out.sort((a, b) => a.ts - b.ts || a.order - b.order);
  return out;
}

function phases(rec) {
  const start = rec.StartTimestamp || rec.Time;
  const queued = rec.QueuedTimestamp, ring = rec.RingTimestamp, accept = rec.AcceptTimestamp, end = rec.EndedTimestamp;
  const seg = [];
  if (!end || !start) return seg;
  if (queued > 0) seg.push({ label: "IVR", seconds: queued - start, cls: "ivr" });
  const afterIvr = queued > 0 ? queued : start;
  if (ring > 0 && ring >= afterIvr) {
    seg.push({ label: queued > 0 ? "Queue" : "Dialling", seconds: ring - afterIvr, cls: "queue" });
    if (accept > 0) {
      seg.push({ label: "Ringing", seconds: accept - ring, cls: "ring" });
      seg.push({ label: "Talk", seconds: end - accept, cls: "talk" });
    } else seg.push({ label: "Ringing, unanswered", seconds: end - ring, cls: "wait" });
  } else if (accept > 0) {
    seg.push({ label: "Waiting", seconds: accept - afterIvr, cls: "queue" });
    seg.push({ label: "Talk", seconds: end - accept, cls: "talk" });
  } else {
    seg.push({ label: queued > 0 ? "Queue, unanswered" : "Unanswered", seconds: end - afterIvr, cls: "wait" });
  }
  return seg;
}

function timelineSection(rec, events) {
  const items = buildTimeline(rec, events);
  const t0 = rec.StartTimestamp || rec.Time;
  const list = h(
    "ol",
    { class: "timeline" },
    items.map((it) =>
      h(
        "li",
        { class: `tl-${it.kind}` },
        h("time", { datetime: new Date(Math.floor(it.ts) * 1000).toISOString() }, fmtTime(Math.floor(it.ts))),
        h("span", { class: "offset" }, `+${fmtClock(Math.max(0, it.ts - t0))}`),
        h("div", { class: "tl-body" }, h("strong", {}, it.title), it.detail ? h("span", { class: "tl-detail" }, it.detail) : null),
      ),
    ),
  );
  const seg = phases(rec);
  return h(
    "section",
    { class: "card timeline-card", "aria-labelledby": "tl-title" },
    h("h2", { id: "tl-title" }, "Timeline"),
    seg.length ? sized((width) => phaseBar({ width, segments: seg, label: `Phases: ${seg.map((s) => `${s.label} ${fmtDuration(s.seconds)}`).join(", ")}`, format: fmtDuration }), "phases") : null,
    list,
  );
}

function legsSection(rec) {
  const legs = [...(rec.ServeParticipants || [])].sort((a, b) => a.Sequence - b.Sequence);
  if (!legs.length) return null;
  return h(
    "section",
    { class: "card legs", "aria-labelledby": "legs-title" },
    h("h2", { id: "legs-title" }, `Participants (${legs.length} leg${legs.length === 1 ? "" : "s"})`),
    h(
      "ol",
      { class: "leg-list" },
      legs.map((p) =>
        h(
          "li",
          { class: "leg" },
          h("h3", {}, `Leg ${p.Sequence}: ${agentName(rec, p.Mail, p.Phone)}`),
          h(
            "p",
            { class: "muted" },
            [
              p.Type,
              p.SkillGroupName && `skill group ${p.SkillGroupName} (${p.SkillGroupId})`,
              p.EndStatusString && `ended ${p.EndStatusString}`,
              p.AcceptTimestamp > 0 && p.EndedTimestamp > 0 && `talk ${fmtDuration(p.EndedTimestamp - p.AcceptTimestamp)}`,
              p.TransferFrom && `from ${p.TransferFrom}`,
              p.TransferTo && `to ${p.TransferTo}`,
            ]
              .filter(Boolean)
              .join(" · "),
          ),
          p.RecordURL ? legAudio(p.RecordURL, `Recording of leg ${p.Sequence}`) : h("p", { class: "muted small" }, "No recording of this leg."),
        ),
      ),
    ),
  );
}

function sameOrigin(url) {
  if (!url) return false;
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/**
 * A player for a recording telcdr holds (a same-origin /media link); a link
 * for one kept elsewhere, which the console cannot play (it loads media from
 * its own origin only).
 */
function externalLink(url) {
  let where = url;
  try {
    where = new URL(url).host || url;
  } catch {
    /* keep the text */
  }
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "url", title: url }, where);
}

function legAudio(url, label) {
  if (!sameOrigin(url)) return h("p", { class: "small muted" }, "Kept outside telcdr, at ", externalLink(url), ".");
  const audio = h("audio", { controls: true, preload: "metadata", src: url, "aria-label": label, class: "leg-audio" });
  const err = h("p", { class: "form-error small", role: "alert" });
  audio.addEventListener("error", () => {
    err.textContent = "This recording could not be loaded (its link may have expired: reload the page).";
  });
  return h("div", { class: "player" }, audio, err);
}

function voicemailSection(rec) {
  const vm = rec.VoicemailRecordURL || [];
  if (!vm.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "vm-title" },
    h("h2", { id: "vm-title" }, `Voicemail${vm.length === 1 ? "" : "s"}`),
    h(
      "ol",
      { class: "leg-list" },
      vm.map((url, i) =>
        h(
          "li",
          {},
          h("h3", {}, `Voicemail ${i + 1}`),
          legAudio(url, `Voicemail ${i + 1}`),
          rec.VoicemailAsrURL && rec.VoicemailAsrURL[i] ? h("a", { href: rec.VoicemailAsrURL[i], target: "_blank", rel: "noopener" }, "Transcript (JSON)") : null,
        ),
      ),
    ),
  );
}

// Field groups of the detail's "All fields" section; fields not named here
// appear under "Other", so nothing the server sends is hidden.
const FIELD_GROUPS = [
  ["Call", ["SessionId", "Time", "Direction", "CallType", "EndStatus", "EndStatusString", "EndStatusV2", "HungUpSide", "SysHangupReason", "SysHangupReasonString", "Duration", "IVRDuration"]],
  ["Times", ["StartTimestamp", "QueuedTimestamp", "RingTimestamp", "AcceptTimestamp", "EndedTimestamp"]],
  ["Parties", ["Caller", "Callee", "CallerLocation", "ProtectedCaller", "ProtectedCallee"]],
  ["Routing", ["SkillGroup", "SkillGroupId", "QueuedSkillGroupId", "QueuedSkillGroupName", "AIAgentId", "AIAgentName"]],
  ["Media", ["RecordId", "RecordURL", "CustomRecordURL", "AsrStatus", "AsrUrl", "VoicemailRecordURL", "VoicemailAsrURL"]],
  ["Customer data", ["UUI", "Uui", "Remark"]],
];
const TIME_FIELDS = new Set(["Time", "StartTimestamp", "QueuedTimestamp", "RingTimestamp", "AcceptTimestamp", "EndedTimestamp"]);
const NESTED = new Set(["SeatUser", "ServeParticipants", "IVRKeyPressedEx", "PostIVRKeyPressedEx", "IVRKeyPressed", "PostIVRKeyPressed"]);

function fieldValue(name, v, rec) {
  if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) return h("span", { class: "muted" }, "—");
  if (TIME_FIELDS.has(name)) return v > 0 ? h("span", { title: String(v) }, fmtDateTime(v), h("span", { class: "muted" }, ` (${v})`)) : h("span", { class: "muted" }, "0");
  if (name === "Direction") return `${v} · ${DIRECTION[v] ?? "?"}`;
  if (name === "CallType") return `${v} · ${CALL_TYPE[v] ?? "?"}`;
  if (name === "EndStatus") return `${v} · ${statusText(v, rec.EndStatusString)}`;
  if (name === "HungUpSide") return `${v}${HUNG_UP[v] ? ` · ${HUNG_UP[v]}` : ""}`;
  if (name === "Duration" || name === "IVRDuration") return `${v} s${v >= 60 ? ` (${fmtDuration(v)})` : ""}`;
  if (Array.isArray(v)) return h("ul", { class: "plain" }, v.map((x) => h("li", {}, urlOrText(typeof x === "object" ? JSON.stringify(x) : String(x)))));
  if (typeof v === "object") return h("code", {}, JSON.stringify(v));
  return urlOrText(String(v));
}

function urlOrText(s) {
  if (/^https?:\/\//.test(s)) return h("a", { href: s, class: "url", target: "_blank", rel: "noopener" }, s.length > 72 ? `${s.slice(0, 70)}…` : s);
  return h("span", { class: "value" }, s);
}

function dl(pairs) {
  return h("dl", { class: "fields" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function keyTable(caption, keys) {
  return h("div", { class: "table-wrap" }, keyTableInner(caption, keys));
}

function keyTableInner(caption, keys) {
  return h(
    "table",
    { class: "mini" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ["Key", "Label", "Node", "Prompt", "Said", "Time"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      keys.map((k) =>
        h(
          "tr",
          {},
          h("td", {}, k.Key ?? ""),
          h("td", {}, k.Label ?? ""),
          h("td", {}, k.NodeLabel ?? ""),
          h("td", {}, k.TTSPrompt ?? ""),
          h("td", {}, k.OriginalContent ?? ""),
          h("td", {}, k.Timestamp > 0 ? fmtTime(Math.floor(k.Timestamp / 1000)) : "—"),
        ),
      ),
    ),
  );
}

function fieldsSection(rec) {
  const seen = new Set([...NESTED]);
  const groups = FIELD_GROUPS.map(([title, names]) => {
    const pairs = names.filter((n) => n in rec).map((n) => (seen.add(n), [n, fieldValue(n, rec[n], rec)]));
    return pairs.length ? h("div", { class: "field-group" }, h("h3", {}, title), dl(pairs)) : null;
  });
  const other = Object.keys(rec).filter((k) => !seen.has(k));
  if (other.length) groups.push(h("div", { class: "field-group" }, h("h3", {}, "Other"), dl(other.map((k) => [k, fieldValue(k, rec[k], rec)]))));
  const su = rec.SeatUser || {};
  if (Object.keys(su).length) {
    groups.splice(
      3,
      0,
      h(
        "div",
        { class: "field-group" },
        h("h3", {}, "Agent (SeatUser)"),
        dl(Object.keys(su).map((k) => [k, k === "Role" ? `${su[k]}${ROLE[su[k]] ? ` · ${ROLE[su[k]]}` : ""}` : fieldValue(k, su[k], rec)])),
      ),
    );
  }
  const extra = [];
  if (rec.IVRKeyPressedEx?.length) extra.push(keyTable("IVR key presses (IVRKeyPressedEx)", rec.IVRKeyPressedEx));
  if (rec.IVRKeyPressed?.length) extra.push(dl([["IVRKeyPressed", rec.IVRKeyPressed.join(", ")]]));
  if (rec.PostIVRKeyPressedEx?.length) extra.push(keyTable("Satisfaction survey (PostIVRKeyPressedEx)", rec.PostIVRKeyPressedEx));
  if (rec.PostIVRKeyPressed?.length) extra.push(keyTable("PostIVRKeyPressed (deprecated)", rec.PostIVRKeyPressed));
  const legs = rec.ServeParticipants || [];
  if (legs.length) {
    const cols = [...new Set(legs.flatMap((p) => Object.keys(p)))];
    extra.push(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "mini legs-table" },
          h("caption", {}, "ServeParticipants"),
          h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, legs.map((p) => h("tr", {}, cols.map((c) => h("td", {}, TIME_FIELDS.has(c) ? (p[c] > 0 ? fmtTime(p[c]) : "—") : /URL$/.test(c) && p[c] ? urlOrText(p[c]) : String(p[c] ?? "")))))),
        ),
      ),
    );
  }
  return h(
    "section",
    { class: "card all-fields", "aria-labelledby": "fields-title" },
    h("h2", { id: "fields-title" }, "All fields"),
    h("div", { class: "field-groups" }, groups),
    extra,
  );
}

// ------------------------------------------------------------ overview

function dataTable(caption, head, rows) {
  return h(
    "details",
    { class: "data" },
    h("summary", {}, "Show the numbers"),
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "mini" }, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))),
    ),
  );
}

function figure(cls, title, chart, legend, table) {
  const id = `fig-${cls}`;
  return h("figure", { class: `card chart-card ${cls}`, "aria-labelledby": id }, h("figcaption", { id }, title), chart, legend, table);
}

export async function overviewView(ctx) {
  const { main, params } = ctx;
  const now = api.serverNow();
  ctx.title("Overview");
  const r = resolveRange(params, now);
  const autoG = r.end - r.start <= 2 * DAY ? "hour" : "day";
  const gParam = ["hour", "day"].includes(params.get("g")) ? params.get("g") : "";
  const g = gParam || autoG;

  const rc = rangeControls(params, now);
  const gran = h("select", { id: "o-g", name: "g" }, option("", `Automatic (${autoG === "hour" ? "hourly" : "daily"})`, gParam), option("hour", "Per hour", gParam), option("day", "Per day", gParam));
  const formError = h("div", { class: "form-error", role: "alert" });
  const form = h("form", { class: "filters card", "aria-label": "Overview range" }, h("div", { class: "filter-grid" }, rc.node, field("Granularity", gran)), formError, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const out = {};
    const problem = rc.read(out);
    if (problem) {
      formError.textContent = problem;
      return;
    }
    if (gran.value) out.g = gran.value;
    ctx.go("overview", out);
  });
  const body = h("div", { class: "overview-body" });
  main.replaceChildren(h("h1", { id: "page-title", tabindex: "-1" }, "Overview"), form, body);
  if (r.error) {
    formError.textContent = r.error;
    return;
  }
  if (g === "hour" && r.end - r.start > 14 * DAY) {
    formError.textContent = "Hourly bars over more than 14 days are too many to read; showing days.";
  }
  const granularity = g === "hour" && r.end - r.start > 14 * DAY ? "day" : g;
  body.replaceChildren(loading("Loading the overview…"));
  let o;
  try {
    o = await api.overview(ctx.sdkAppId, r.start, r.end, granularity);
  } catch (e) {
    if (!ctx.isCurrent()) return;
    body.replaceChildren(notice("The overview could not be loaded.", "notice error"));
    ctx.fail(e);
    return;
  }
  if (!ctx.isCurrent()) return;

  // Links from the charts to the matching calls keep the overview's range.
  const rangeParams = { range: r.range };
  if (r.range === "custom") Object.assign(rangeParams, { from: r.start, to: r.end });
  const callsHref = (more) => ctx.href("calls", { ...rangeParams, ...more });

  const kpi = (label, value, sub, cls = "") => h("div", { class: `kpi ${cls}` }, h("span", { class: "kpi-label" }, label), h("span", { class: "kpi-value" }, value), sub ? h("span", { class: "kpi-sub" }, sub) : null);
  const total = Number(o.TotalCalls) || 0, answered = Number(o.AnsweredCalls) || 0;
  const kpis = h(
    "section",
    { class: "kpis", "aria-label": "Key figures" },
    kpi("Calls", fmtInt(total), `${fmtShort(r.start)} – ${fmtShort(r.end)}`, "kpi-calls"),
    kpi("Answered", fmtInt(answered), total ? `${fmtInt(total - answered)} not answered` : "", "kpi-answered"),
    kpi("Answer rate", total ? pct(o.AnswerRate) : "—", "", "kpi-rate"),
    kpi("Avg handle time", answered ? fmtDuration(o.AvgHandleSeconds) : "—", "talk time of answered calls", "kpi-handle"),
    kpi("Avg wait", answered ? fmtDuration(o.AvgWaitSeconds) : "—", "queue to answer", "kpi-wait"),
  );
  if (!total) {
    body.replaceChildren(kpis, notice("No calls in this range."));
    return;
  }

  const series = Array.isArray(o.Series) ? o.Series : [];
  const hourly = granularity === "hour";
  const fmtBucket = (s) => (hourly ? hOnly.format(new Date(s * 1000)) : dOnly.format(new Date((s + 12 * 3600) * 1000)));
  const titleBucket = (s) => (hourly ? dtShort.format(new Date(s * 1000)) : dOnly.format(new Date((s + 12 * 3600) * 1000)));
  const labels = series.map((p) => fmtBucket(p.Start));
  const titles = series.map((p) => titleBucket(p.Start));
  const per = hourly ? "hour" : "day";

  const volume = figure(
    "chart-volume",
    `Calls per ${per}`,
    sized((width) =>
      barChart({
        width,
        height: width < 500 ? 200 : 250,
        labels,
        titles,
        label: `Calls and answered calls per ${per}`,
        series: [
          { name: "Calls", values: series.map((p) => Number(p.Calls) || 0) },
          { name: "Answered", values: series.map((p) => Number(p.Answered) || 0) },
        ],
      }),
    ),
    h("ul", { class: "legend" }, h("li", {}, h("span", { class: "swatch c0" }), "All calls"), h("li", {}, h("span", { class: "swatch c1" }), "Answered")),
    dataTable(`Calls per ${per}`, [hourly ? "Hour" : "Day", "Calls", "Answered"], series.map((p) => [titleBucket(p.Start), fmtInt(p.Calls), fmtInt(p.Answered)])),
  );

  const rates = series.map((p) => (p.Calls ? p.Answered / p.Calls : null));
  const rate = figure(
    "chart-rate",
    `Answer rate per ${per}`,
    sized((width) => lineChart({ width, height: width < 500 ? 170 : 200, labels, titles, values: rates, max: 1, format: (v) => `${Math.round(v * 100)}%`, label: `Answer rate per ${per}` })),
    null,
    dataTable(`Answer rate per ${per}`, [hourly ? "Hour" : "Day", "Answer rate"], series.map((p, i) => [titles[i], rates[i] === null ? "—" : pct(rates[i])])),
  );

  const statuses = [...(o.EndStatuses || [])].sort((a, b) => b.Count - a.Count);
  const top = statuses.slice(0, 7);
  const rest = statuses.slice(7).reduce((a, s) => a + s.Count, 0);
  const cycle = [2, 4, 5, 6, 1, 0];
  let ci = 0;
  const slices = top.map((s) => ({
    label: statusText(s.EndStatus, s.EndStatusString),
    value: Number(s.Count) || 0,
    href: callsHref({ status: s.EndStatus }),
    cls: Number(s.EndStatus) === 1 ? 3 : cycle[ci++ % cycle.length],
  }));
  if (rest) slices.push({ label: "Other", value: rest, cls: 7 });
  const outcome = figure(
    "chart-status",
    "Outcomes",
    donutChart({ items: slices, label: `End statuses: ${slices.map((s) => `${s.label} ${s.value}`).join(", ")}`, center: total ? pct(answered / total) : "", centerSub: "answered" }),
    h(
      "ul",
      { class: "legend legend-cols" },
      slices.map((s, i) =>
        h("li", {}, h("span", { class: `swatch c${s.cls ?? i % 8}` }), s.href ? h("a", { href: s.href }, s.label) : s.label, h("span", { class: "muted" }, ` ${fmtInt(s.value)} · ${pct(s.value / total)}`)),
      ),
    ),
    dataTable("End statuses", ["EndStatus", "String", "Calls"], statuses.map((s) => [String(s.EndStatus), s.EndStatusString, fmtInt(s.Count)])),
  );

  const agentsData = o.TopAgents || [];
  const agents = figure(
    "chart-agents",
    "Busiest agents",
    agentsData.length
      ? sized((width) =>
          hbarChart({
            width,
            label: "Calls per agent",
            items: agentsData.map((a) => ({ label: a.Name || a.Mail, value: Number(a.Calls) || 0, note: `talk ${fmtDuration(a.TalkSeconds)}`, href: callsHref({ agent: a.Mail }) })),
          }),
        )
      : notice("No agent served a call in this range."),
    null,
    dataTable("Busiest agents", ["Agent", "Mail", "Calls", "Talk time"], agentsData.map((a) => [a.Name, a.Mail, fmtInt(a.Calls), fmtDuration(a.TalkSeconds)])),
  );

  const groupsData = o.TopSkillGroups || [];
  const groups = figure(
    "chart-groups",
    "Busiest skill groups",
    groupsData.length
      ? sized((width) =>
          hbarChart({ width, label: "Calls per skill group", items: groupsData.map((g2) => ({ label: g2.Name || String(g2.SkillGroupId), value: Number(g2.Calls) || 0, href: callsHref({ group: g2.SkillGroupId }) })) }),
        )
      : notice("No skill group took a call in this range."),
    null,
    dataTable("Busiest skill groups", ["Skill group", "Id", "Calls"], groupsData.map((g2) => [g2.Name, String(g2.SkillGroupId), fmtInt(g2.Calls)])),
  );

  body.replaceChildren(kpis, h("div", { class: "chart-grid" }, volume, rate, outcome, agents, groups));
}
