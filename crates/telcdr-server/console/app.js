// The console's shell: routing on location.hash (so every screen, filters
// included, is a URL that can be shared), the header (SdkAppId, session,
// sign-out), errors, and what happens when the credentials expire.
//
// Routes:
//   #/calls?range=7d&phone=...&page=2    the call list (default)
//   #/call/<SessionId>?t=<Time>          one call
//   #/overview?range=30d&g=day           the overview
// Every route may carry app=<SdkAppId> when the key owns several.

import * as api from "./api.js";
import * as views from "./views.js";

const main = document.getElementById("main");
const alerts = document.getElementById("alerts");
const nav = document.getElementById("nav");
const sessionBox = document.getElementById("session");

let generation = 0; // bumps on every render; late answers of older renders are dropped
let cleanup = null; // the current view's cleanup (stops audio)
let lastListHash = ""; // the call list the user last saw, for "Back to calls"
let signInReason = ""; // why the user must sign in again
let signInPending = false;
let expiryTimer = 0;
let lastPath = null;

// ------------------------------------------------------------ routes and links

function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const segments = path.split("/").filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { path, segments, params: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "") };
}

function currentApp(creds, params) {
  const ids = creds.sdkAppIds || [];
  const wanted = Number(params.get("app"));
  if (wanted && (!ids.length || ids.includes(wanted))) return wanted;
  return ids[0] || wanted || 0;
}

function makeHref(creds, params) {
  const app = currentApp(creds, params);
  const keepApp = (creds.sdkAppIds || []).length > 1 || params.has("app");
  return (path, p = {}) => {
    const q = new URLSearchParams();
    if (keepApp && app) q.set("app", String(app));
    for (const [k, v] of Object.entries(p)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
    }
    const s = q.toString();
    return `#/${path}${s ? `?${s}` : ""}`;
  };
}

// ------------------------------------------------------------ alerts

function clearAlerts() {
  alerts.replaceChildren();
}

/** Shows an error that is not about credentials (those lead to the sign-in). */
function showError(e) {
  const kind = e && e.kind;
  const title = kind === "network" ? "The server cannot be reached." : "The server reported an error.";
  const detail =
    kind === "network"
      ? e.message
      : `${e && e.message ? e.message : String(e)}${e && e.code ? ` (${e.code}${e.requestId ? `, RequestId ${e.requestId}` : ""})` : ""}`;
  const retry = views.h("button", { type: "button", class: "button" }, "Retry");
  retry.addEventListener("click", () => render({ focus: true }));
  const dismiss = views.h("button", { type: "button", class: "button ghost", "aria-label": "Dismiss this message" }, "×");
  const box = views.h(
    "div",
    { class: `alert ${kind === "network" ? "error network" : "error"}`, role: "alert", dataset: { code: (e && e.code) || "" } },
    views.h("div", { class: "alert-text" }, views.h("strong", {}, title), " ", detail),
    views.h("div", { class: "alert-actions" }, retry, dismiss),
  );
  dismiss.addEventListener("click", () => box.remove());
  alerts.replaceChildren(box);
}

function reasonFor(e) {
  if (!e || e.code === "SignedOut") return "";
  if (e.code === "CredentialsExpired") return e.message;
  if (e.code === "AuthFailure.TokenFailure") return `Your temporary credentials are no longer accepted: ${e.message} Sign in again to continue.`;
  return `The server did not accept your credentials: ${e.message} (${e.code}). Sign in again to continue.`;
}

api.onAuthLost((e) => {
  signInReason = reasonFor(e);
  if (signInPending) return;
  signInPending = true;
  queueMicrotask(() => {
    signInPending = false;
    render({ focus: true });
  });
});

// ------------------------------------------------------------ header

function renderSession(creds) {
  if (!creds) {
    nav.hidden = true;
    sessionBox.replaceChildren();
    return;
  }
  nav.hidden = false;
  const r = route();
  const app = currentApp(creds, r.params);
  const ids = creds.sdkAppIds || [];
  let appNode;
  if (ids.length > 1) {
    const sel = views.h("select", { id: "app-select", "aria-label": "SdkAppId" }, ids.map((id) => views.h("option", { value: id, selected: id === app }, String(id))));
    sel.addEventListener("change", () => {
      const p = new URLSearchParams(r.params);
      p.set("app", sel.value);
      p.delete("page");
      const path = r.segments[0] === "overview" ? "overview" : "calls";
      location.hash = `#/${path}?${p}`;
    });
    appNode = views.h("label", { class: "app-pick" }, "SdkAppId ", sel);
  } else {
    appNode = views.h("span", { class: "app-id" }, `SdkAppId ${app || "—"}`);
  }
  const until = new Date(Number(creds.expiredTime) * 1000);
  const out = views.h("button", { type: "button", class: "button ghost", id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => {
    api.clearCredentials();
    signInReason = "";
    render({ focus: true });
  });
  sessionBox.replaceChildren(
    appNode,
    views.h("span", { class: "expiry", title: `Temporary credentials of key ${creds.keyId || ""} expire at ${until.toLocaleString()}` }, `until ${until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`),
    out,
  );
  for (const a of nav.querySelectorAll("a")) {
    const here = (a.dataset.route === "overview") === (r.segments[0] === "overview") && r.segments[0] !== "call";
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    a.href = makeHref(creds, r.params)(a.dataset.route, {});
  }
}

function scheduleExpiry(creds) {
  clearTimeout(expiryTimer);
  if (!creds) return;
  const ms = Math.min(2 ** 31 - 1, Math.max(0, api.secondsLeft(creds) * 1000));
  expiryTimer = setTimeout(() => {
    const c = api.loadCredentials();
    if (!c || api.secondsLeft(c) > 0) return render({});
    api.clearCredentials();
    signInReason = `Your temporary credentials expired at ${new Date(c.expiredTime * 1000).toLocaleTimeString()}. Sign in again to continue.`;
    render({ focus: true });
  }, ms + 250);
}

// ------------------------------------------------------------ render

async function render({ focus = false } = {}) {
  const gen = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a view's cleanup must not stop the next one */
    }
    cleanup = null;
  }
  clearAlerts();
  let creds = api.loadCredentials();
  if (creds && api.secondsLeft(creds) <= 0) {
    api.clearCredentials();
    signInReason = `Your temporary credentials expired at ${new Date(creds.expiredTime * 1000).toLocaleTimeString()}. Sign in again to continue.`;
    creds = null;
  }
  renderSession(creds);
  scheduleExpiry(creds);
  if (!creds) {
    document.title = "Sign in · telcdr";
    lastPath = null;
    const v = views.signInView(main, {
      reason: signInReason,
      onDone: () => {
        signInReason = "";
        render({ focus: true });
      },
    });
    if (focus || signInReason) v.focus();
    return;
  }

  const r = route();
  if (r.path !== lastPath) window.scrollTo(0, 0);
  lastPath = r.path;
  const href = makeHref(creds, r.params);
  const ctx = {
    main,
    params: r.params,
    sdkAppId: currentApp(creds, r.params),
    href,
    go(path, p) {
      const target = href(path, p);
      if (target === location.hash) render({ focus: true });
      else location.hash = target;
    },
    isCurrent: () => gen === generation,
    fail(e) {
      if (gen !== generation) return;
      if (e && e.kind === "auth") return; // onAuthLost already shows the sign-in
      showError(e);
    },
    title: (t) => (document.title = `${t} · telcdr`),
    back: lastListHash,
  };
  if (!ctx.sdkAppId) {
    main.replaceChildren(views.h("h1", { id: "page-title", tabindex: "-1" }, "No SdkAppId"), views.h("p", {}, "This key owns no SdkAppId, so there are no calls to show. Create a key for an app with `telcdr keys create --sdk-app-id ID`."));
    return;
  }

  let view;
  const first = r.segments[0] || "calls";
  if (first === "call" && r.segments[1]) view = views.callView(ctx, r.segments[1]);
  else if (first === "overview") view = views.overviewView(ctx);
  else {
    lastListHash = location.hash || "#/calls";
    view = views.callsView(ctx);
  }
  if (focus) main.querySelector("h1")?.focus();
  let c;
  try {
    c = await view;
  } catch (e) {
    if (gen === generation) showError(e);
    return;
  }
  if (gen !== generation) {
    if (typeof c === "function") c();
    return;
  }
  if (typeof c === "function") cleanup = c;
  if (focus && (!document.activeElement || document.activeElement === document.body)) main.querySelector("h1")?.focus();
}

window.addEventListener("hashchange", () => render({ focus: true }));
document.getElementById("skip")?.addEventListener("click", (ev) => {
  ev.preventDefault();
  (main.querySelector("h1") || main).focus();
});
render({});
