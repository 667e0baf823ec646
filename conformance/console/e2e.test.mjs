// End to end: the web console in headless Chromium against a real
// `telcdr serve --demo`.
//
//   TELCDR_BIN=target/debug/telcdr node --test conformance/console/
//
// Starts the binary on a free loopback port in a temporary data dir, drives
// Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium) with
// playwright-core, and saves screenshots under conformance/console/artifacts/.
// What a supervisor does is what is tested: sign in with the printed key,
// filter by a phone number, open a call with the keyboard, play its recording
// while the transcript follows, click a sentence to seek, read the overview,
// use it on a phone-sized screen, and see errors for a wrong key, a rejected
// or expired credential and an unreachable server.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { signedHeaders } from "../../crates/telcdr-server/console/tc3.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, "artifacts");
const BIN = process.env.TELCDR_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
// Set by scripts/test on its PostgreSQL pass: the demo's store is then a fresh
// database on that server, so the console is tested on both backends.
const PG_ADMIN = process.env.CONF_POSTGRES_ADMIN || "";
const DAY = 86400;
const SDK_APP_ID = 1400000000;
const CONSOLE_FILES = {
  "": "text/html",
  "index.html": "text/html",
  "app.js": "text/javascript",
  "tc3.js": "text/javascript",
  "api.js": "text/javascript",
  "views.js": "text/javascript",
  "charts.js": "text/javascript",
  "style.css": "text/css",
};
const CHROMIUM_ARGS = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-sandbox",
  "--autoplay-policy=no-user-gesture-required",
];

const skip = !BIN
  ? "TELCDR_BIN is not set (run through conformance/run BINARY console)"
  : !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing (apt-get install chromium)`
    : false;

// ------------------------------------------------------------ helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const digits = (p) => String(p || "").replace(/\D/g, "").replace(/^00/, "");
const now = () => Math.floor(Date.now() / 1000);

/** Creates database `name` on the server of `admin`; returns its URL (as telcdr_world.py does). */
function pgDatabase(admin, name) {
  execFileSync("psql", [admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${name}`], { stdio: "pipe", timeout: 60_000 });
  const [base, query] = admin.split("?");
  const [scheme, rest] = base.split("://");
  return `${scheme}://${rest.split("/")[0]}/${name}${query ? `?${query}` : ""}`;
}

function pgDrop(admin, name) {
  try {
    execFileSync("psql", [admin, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "pipe", timeout: 60_000 });
  } catch {
    /* the cluster is throwaway */
  }
}

/** Starts `telcdr serve --demo`; resolves once it printed its address and key. */
async function startDemo(dataDir, port, storeArgs = []) {
  // The binary refuses unknown TELCDR_* settings: TELCDR_BIN is ours, not its.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["TELCDR_BIN", "TELCDR_CACHE"].includes(k)));
  env.TELCDR_LOG = env.TELCDR_LOG || "warn";
  const proc = spawn(BIN, ["--data-dir", dataDir, ...storeArgs, "serve", "--demo", "--listen", `127.0.0.1:${port}`], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const errLog = createWriteStream(path.join(ARTIFACTS, "telcdr.stderr"));
  proc.stderr.pipe(errLog);
  let out = "";
  proc.stdout.on("data", (b) => (out += b.toString()));
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const listen = /^telcdr listening on (http:\/\/[^\s/]+)\/?$/m.exec(out);
    const id = /export TENCENTCLOUD_SECRET_ID=(\S+)/.exec(out);
    const key = /export TENCENTCLOUD_SECRET_KEY=(\S+)/.exec(out);
    const consoleLine = /^\s*Console: (http:\/\/\S+)/m.exec(out);
    if (listen && id && key && consoleLine) {
      assert.ok(out.startsWith("telcdr listening on "), `first stdout line: ${out.split("\n")[0]}`);
      return { proc, base: listen[1], secretId: id[1], secretKey: key[1], consoleUrl: consoleLine[1], stdout: () => out };
    }
    if (proc.exitCode !== null) throw new Error(`telcdr serve --demo exited ${proc.exitCode}\nstdout:\n${out}`);
    await sleep(100);
  }
  proc.kill("SIGTERM");
  throw new Error(`telcdr serve --demo printed no listening, export and Console lines in 300 s:\n${out}`);
}

// ------------------------------------------------------------ the suite

const backend = PG_ADMIN ? "PostgreSQL" : "SQLite";

describe(`web console (headless Chromium against telcdr serve --demo on ${backend})`, { skip }, () => {
  let dataRoot, server, browser, context, page, endpoint, pgName;
  let shortCreds, shortIssuedAt; // 60-second credentials, used once they expired
  let call; // a recent call with a recording and a transcript: {rec, phone, asr}
  let filteredUrl = "";
  const pageErrors = [];
  const longTerm = () => ({ secretId: server.secretId, secretKey: server.secretKey });

  /** A signed API call from Node (the console's own tc3.js, outside the browser). */
  async function api(action, params, credentials = longTerm()) {
    const body = JSON.stringify(params);
    const headers = await signedHeaders({ credentials, action, version: "2020-02-10", body, host: endpoint, timestamp: now(), language: "en-US" });
    const resp = await fetch(`${server.base}/`, { method: "POST", headers, body });
    assert.equal(resp.status, 200);
    assert.equal(resp.headers.get("content-type"), "application/json");
    return (await resp.json()).Response;
  }

  async function shot(p, name, fullPage = true) {
    await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
  }

  function watch(p) {
    p.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.setDefaultTimeout(20_000);
    return p;
  }

  async function newContext(options = {}) {
    const c = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    const p = watch(await c.newPage());
    return { c, p };
  }

  async function signIn(p, id = server.secretId, key = server.secretKey) {
    await p.waitForSelector("form.signin");
    await p.fill("#s-id", id);
    await p.fill("#s-key", key);
    await p.click("form.signin button[type=submit]");
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataRoot = mkdtempSync(path.join(tmpdir(), "telcdr-console-"));
    // Interrupted (conformance/run ends the suite's process group): leave nothing behind.
    for (const signal of ["SIGTERM", "SIGINT"]) {
      process.once(signal, () => {
        if (server?.proc && server.proc.exitCode === null) server.proc.kill("SIGKILL");
        rmSync(dataRoot, { recursive: true, force: true });
        if (pgName) pgDrop(PG_ADMIN, pgName);
        process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
      });
    }
    const port = await freePort();
    let storeArgs = [];
    if (PG_ADMIN) {
      pgName = `telcdr_console_${process.pid}_${Date.now() % 1e6}`;
      storeArgs = ["--store", pgDatabase(PG_ADMIN, pgName)];
    }
    server = await startDemo(path.join(dataRoot, "data"), port, storeArgs);
    endpoint = server.base.slice("http://".length);
    // Credentials that expire on the server while the suite runs (60 s is the shortest).
    const issued = await api("TelcdrIssueTemporaryCredentials", { DurationSeconds: 60 });
    assert.equal(issued.Error, undefined, JSON.stringify(issued.Error));
    shortCreds = issued;
    shortIssuedAt = Date.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    ({ c: context, p: page } = await newContext());
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (server?.proc && server.proc.exitCode === null) {
      server.proc.kill("SIGTERM");
      await Promise.race([new Promise((r) => server.proc.once("exit", r)), sleep(10_000)]);
      if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
    }
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
    if (pgName) pgDrop(PG_ADMIN, pgName);
  });

  test("serve --demo prints the console's address; the console's files are served with their types", async () => {
    assert.equal(server.consoleUrl, `${server.base}/console/`);
    for (const [file, type] of Object.entries(CONSOLE_FILES)) {
      const resp = await fetch(`${server.base}/console/${file}`);
      assert.equal(resp.status, 200, file);
      assert.ok((resp.headers.get("content-type") || "").startsWith(type), `${file}: ${resp.headers.get("content-type")}`);
      assert.ok((await resp.text()).length > 100, file);
    }
    const home = await fetch(`${server.base}/`, { headers: { Accept: "text/html" }, redirect: "manual" });
    assert.ok([301, 302, 303, 307, 308].includes(home.status), `GET / from a browser: ${home.status}`);
    assert.match(home.headers.get("location") || "", /\/console\/$/);
  });

  test("finds a recent call with a recording and a transcript through the API", async () => {
    const end = now();
    for (let pageNumber = 0; pageNumber < 10 && !call; pageNumber++) {
      const r = await api("DescribeTelCdr", { SdkAppId: SDK_APP_ID, StartTimeStamp: end - DAY, EndTimeStamp: end, PageSize: 100, PageNumber: pageNumber });
      assert.equal(r.Error, undefined, JSON.stringify(r.Error));
      for (const rec of r.TelCdrList) {
        if (!rec.RecordURL.includes("/media/") || rec.AsrStatus !== "Complete" || rec.CallType === 6) continue;
        const phone = rec.Direction === 1 ? rec.Callee : rec.Caller;
        // The call must be on the first page of that number's last 24 hours.
        const byPhone = await api("DescribeTelCdr", { SdkAppId: SDK_APP_ID, StartTimeStamp: end - DAY + 120, EndTimeStamp: end + 60, PageSize: 50, PageNumber: 0, Phones: [phone] });
        if (!byPhone.TelCdrList.some((c) => c.SessionId === rec.SessionId)) continue;
        const asr = await api("DescribeTelRecordAsr", { SdkAppId: SDK_APP_ID, SessionId: rec.SessionId });
        if (!asr.AsrDataList || asr.AsrDataList.length < 4) continue;
        call = { rec, phone, asr: asr.AsrDataList, total: byPhone.TotalCount };
        break;
      }
      if (r.TelCdrList.length < 100) break;
    }
    assert.ok(call, "no recorded call with a transcript of 4+ sentences in the demo's last 24 hours");
  });

  test("signs in with the printed key and keeps only temporary credentials", async () => {
    await page.goto(server.consoleUrl);
    await page.waitForSelector("form.signin");
    await shot(page, "01-sign-in", false);
    await signIn(page);
    await page.waitForSelector("table.calls tbody tr");
    const stored = await page.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));
    assert.ok(!stored.session.includes(server.secretKey), "the long-term SecretKey is in sessionStorage");
    assert.ok(!stored.local.includes(server.secretKey), "the long-term SecretKey is in localStorage");
    assert.ok(!stored.session.includes(server.secretId), "the long-term SecretId is in sessionStorage");
    const creds = await page.evaluate(() => JSON.parse(sessionStorage.getItem("telcdr.console.credentials")));
    assert.ok(creds.token && creds.secretKey && creds.expiredTime > now() + 3000, JSON.stringify(Object.keys(creds)));
    assert.deepEqual(creds.sdkAppIds, [SDK_APP_ID]);
    assert.match(await page.textContent("#session"), /1400000000/);
    assert.equal(await page.inputValue("#f-phone"), "");
  });

  test("filters by a phone number; the filter is in the URL", async () => {
    await page.selectOption("#f-range", "24h");
    await page.fill("#f-phone", call.phone);
    await page.click("form.filters button[type=submit]");
    await page.waitForFunction((d) => location.hash.includes("phone=") && location.hash.includes(d), encodeURIComponent(call.phone));
    await page.waitForSelector(`tr[data-session="${call.rec.SessionId}"]`);
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, /^#\/calls\?/);
    assert.match(hash, /range=24h/);
    filteredUrl = page.url();
    const rows = await page.$$eval("table.calls tbody tr", (trs) =>
      trs.map((tr) => ({ from: tr.querySelector('[data-label="From"]').textContent, to: tr.querySelector('[data-label="To"]').textContent })),
    );
    assert.ok(rows.length >= 1 && rows.length <= 50);
    for (const r of rows) assert.ok(digits(r.from) === digits(call.phone) || digits(r.to) === digits(call.phone), `row ${JSON.stringify(r)} does not involve ${call.phone}`);
    const summary = await page.textContent("#results-summary");
    assert.match(summary, new RegExp(`of ${call.total.toLocaleString()} call`), summary);
    await shot(page, "02-calls-filtered-by-phone");
  });

  test("opens the call with the keyboard: fields, timeline, recording and transcript", async () => {
    await page.focus(`tr[data-session="${call.rec.SessionId}"] a.row-link`);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#call-audio");
    await page.waitForSelector(".transcript .sentence");
    assert.match(await page.evaluate(() => location.hash), new RegExp(`^#/call/${call.rec.SessionId}\\?`));
    const timeline = await page.$$eval(".timeline li", (lis) => lis.map((li) => li.textContent));
    assert.ok(timeline.length >= 4, JSON.stringify(timeline));
    assert.ok(timeline.some((t) => /started/.test(t)), "no start in the timeline");
    assert.ok(timeline.some((t) => /Answered by|answered/.test(t)), "no answer in the timeline");
    assert.ok(timeline.some((t) => /Call ended/.test(t)), "no end in the timeline");
    assert.ok(await page.locator(".phase-bar rect").count() >= 1, "no phase bar");
    const fields = await page.textContent(".all-fields");
    assert.ok(fields.includes(call.rec.SessionId));
    assert.ok(fields.includes(call.rec.RecordId));
    const sentences = await page.locator(".transcript .sentence").count();
    assert.equal(sentences, call.asr.length);
    // The audio comes from telcdr's signed /media link and is seekable.
    const media = await page.evaluate(async () => {
      const a = document.getElementById("call-audio");
      if (a.readyState < 1) await new Promise((r) => a.addEventListener("loadedmetadata", r, { once: true }));
      return { src: a.currentSrc, duration: a.duration, seekable: a.seekable.length ? a.seekable.end(0) : 0 };
    });
    assert.match(media.src, /\/media\//);
    assert.ok(media.duration > 1, `duration ${media.duration}`);
    assert.ok(media.seekable > 1, `seekable ${media.seekable}`);
    const starts = await page.$$eval(".transcript .sentence", (bs) => bs.map((b) => Number(b.dataset.start)));
    for (const s of starts) assert.ok(s >= 0 && s <= media.duration + 0.5, `sentence at ${s} s outside the ${media.duration} s recording`);
    await shot(page, "03-call-detail");
  });

  test("plays the recording: the position advances and the highlighted sentence follows", async () => {
    await page.evaluate(async () => {
      const a = document.getElementById("call-audio");
      a.muted = true;
      a.currentTime = 0;
      await a.play();
    });
    const seen = [];
    let t = 0;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const s = await page.evaluate(() => ({
        t: document.getElementById("call-audio").currentTime,
        i: Number(document.querySelector('.transcript .sentence[aria-current="true"]')?.dataset.index ?? -1),
      }));
      t = s.t;
      if (s.i >= 0 && seen[seen.length - 1] !== s.i) seen.push(s.i);
      if (seen.length === 2) await shot(page, "04-call-playing", false);
      if (seen.length >= 3 && t > 2) break;
      await sleep(150);
    }
    assert.ok(t > 2, `currentTime did not advance past 2 s (at ${t})`);
    assert.ok(seen.length >= 2, `the highlight did not move: ${JSON.stringify(seen)}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `the highlight went backwards: ${JSON.stringify(seen)}`);
    const pos = await page.textContent("#p-position");
    assert.match(pos, /^\d+:\d\d \/ \d+:\d\d$/);
  });

  test("clicking a sentence seeks the audio there and highlights it", async () => {
    const n = await page.locator(".transcript .sentence").count();
    const k = n - 2;
    const target = page.locator(".transcript .sentence").nth(k);
    const start = Number(await target.getAttribute("data-start"));
    await target.click();
    await sleep(300);
    const s = await page.evaluate(() => ({
      t: document.getElementById("call-audio").currentTime,
      i: Number(document.querySelector('.transcript .sentence[aria-current="true"]')?.dataset.index ?? -1),
    }));
    assert.ok(Math.abs(s.t - start) < 1.0, `seeked to ${s.t}, sentence starts at ${start}`);
    assert.equal(s.i, k);
    // The keyboard does the same: focus the first sentence and press Enter.
    await page.locator(".transcript .sentence").first().focus();
    await page.keyboard.press("Enter");
    await sleep(300);
    const first = Number(await page.locator(".transcript .sentence").first().getAttribute("data-start"));
    const t2 = await page.evaluate(() => document.getElementById("call-audio").currentTime);
    assert.ok(Math.abs(t2 - first) < 1.0, `Enter seeked to ${t2}, first sentence at ${first}`);
    await shot(page, "05-call-seeked", false);
    await page.evaluate(() => document.getElementById("call-audio").pause());
  });

  test("a shared URL opens the same filtered list after sign-in", async () => {
    const { c, p } = await newContext();
    await p.goto(filteredUrl);
    await signIn(p);
    await p.waitForSelector(`tr[data-session="${call.rec.SessionId}"]`);
    assert.equal(await p.inputValue("#f-phone"), call.phone);
    assert.equal(await p.inputValue("#f-range"), "24h");
    await c.close();
  });

  test("the overview renders its charts with the window's data", async () => {
    await page.click('#nav a[data-route="overview"]');
    await page.waitForSelector(".chart-volume svg .bar");
    const kpi = Number((await page.textContent(".kpi-calls .kpi-value")).replace(/\D/g, ""));
    assert.ok(kpi > 100, `calls in 7 days: ${kpi}`);
    const bars = await page.$$eval(".chart-volume .series.c0 .bar", (rs) => rs.map((r) => Number(r.dataset.value)));
    assert.ok(bars.length >= 7 && bars.length <= 9, `${bars.length} daily bars`);
    assert.equal(bars.reduce((a, b) => a + b, 0), kpi, "the daily bars do not add up to the calls");
    const answered = await page.$$eval(".chart-volume .series.c1 .bar", (rs) => rs.map((r) => Number(r.dataset.value)));
    assert.ok(answered.some((v) => v > 0));
    assert.ok((await page.locator(".chart-rate .dot").count()) >= 7);
    const slices = await page.$$eval(".chart-status .slice", (ps) => ps.map((p) => Number(p.dataset.value)));
    assert.ok(slices.length >= 2, "the outcome donut has fewer than two slices");
    assert.equal(slices.reduce((a, b) => a + b, 0), kpi, "the outcome slices do not add up to the calls");
    const agents = await page.$$eval(".chart-agents .bar", (rs) => rs.map((r) => Number(r.dataset.value)));
    assert.ok(agents.length >= 1 && agents.every((v) => v > 0), JSON.stringify(agents));
    const groups = await page.$$eval(".chart-groups .bar", (rs) => rs.map((r) => Number(r.dataset.value)));
    assert.ok(groups.length >= 1 && groups.every((v) => v > 0), JSON.stringify(groups));
    assert.match(await page.textContent(".kpi-rate .kpi-value"), /^\d+\.\d%$/);
    await shot(page, "06-overview-7-days");

    // Hourly over the last 24 hours.
    await page.selectOption("#f-range", "24h");
    await page.click("form.filters button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("range=24h"));
    await page.waitForFunction(() => document.querySelector(".chart-volume figcaption")?.textContent.includes("hour"));
    const hourly = await page.locator(".chart-volume .series.c0 .bar").count();
    assert.ok(hourly >= 24 && hourly <= 26, `${hourly} hourly bars`);
    await shot(page, "07-overview-24-hours");
  });

  test("a chart links to the matching calls (an agent's calls, through TelcdrSearchCdrs)", async () => {
    await page.selectOption("#f-range", "7d");
    await page.click("form.filters button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("range=7d"));
    await page.waitForSelector(".chart-agents a.hbar-link");
    const label = await page.getAttribute(".chart-agents a.hbar-link", "aria-label");
    const [, name, count] = /^(.*?): ([\d,]+)/.exec(label);
    await page.focus(".chart-agents a.hbar-link");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.hash.startsWith("#/calls") && location.hash.includes("agent="));
    await page.waitForSelector("table.calls tbody tr");
    const agentsShown = await page.$$eval('table.calls tbody td[data-label="Agent"]', (tds) => [...new Set(tds.map((td) => td.textContent))]);
    assert.deepEqual(agentsShown, [name]);
    const calls = Number(count.replace(/\D/g, ""));
    assert.match(await page.textContent("#results-summary"), new RegExp(`of ${calls.toLocaleString()} call`));
  });

  test("works on a phone-sized screen (375 px): no sideways scrolling", async () => {
    const { c, p } = await newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await p.goto(server.consoleUrl);
    await signIn(p);
    await p.waitForSelector("table.calls tbody tr");
    // What sticks out to the right (inside a horizontally scrollable table is fine).
    const overflow = () =>
      p.evaluate(() => {
        const w = document.documentElement.clientWidth;
        const out = [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > w + 1 && !e.parentElement.closest(".table-wrap"))
          .map((e) => `<${e.tagName.toLowerCase()} class="${e.getAttribute("class") || ""}"> ${e.textContent.slice(0, 50)}`);
        return document.documentElement.scrollWidth > w ? out.slice(0, 5) : [];
      });
    assert.deepEqual(await overflow(), [], "the call list scrolls sideways");
    await shot(p, "08-phone-calls", false);
    await p.goto(`${server.consoleUrl}#/call/${call.rec.SessionId}?t=${call.rec.Time}`);
    await p.waitForSelector(".transcript .sentence");
    assert.deepEqual(await overflow(), [], "the call detail scrolls sideways");
    await shot(p, "09-phone-call", false);
    await p.goto(`${server.consoleUrl}#/overview`);
    await p.waitForSelector(".chart-volume svg .bar");
    assert.deepEqual(await overflow(), [], "the overview scrolls sideways");
    await shot(p, "10-phone-overview");
    await c.close();
  });

  test("a wrong key or an unknown SecretId at sign-in shows the server's error", async () => {
    const { c, p } = await newContext();
    await p.goto(server.consoleUrl);
    await signIn(p, server.secretId, "not-the-key-0000000000000000000");
    await p.waitForFunction(() => document.getElementById("signin-error")?.textContent.length > 0);
    assert.match(await p.textContent("#signin-error"), /AuthFailure\.SignatureFailure/);
    await shot(p, "11-error-wrong-key", false);
    await p.fill("#s-key", "whatever");
    await p.fill("#s-id", "AKIDnobodyhasthisid0000000000000000");
    await p.click("form.signin button[type=submit]");
    await p.waitForFunction(() => /SecretIdNotFound/.test(document.getElementById("signin-error")?.textContent || ""));
    assert.equal(await p.evaluate(() => sessionStorage.getItem("telcdr.console.credentials")), null);
    await c.close();
  });

  test("temporary credentials cannot issue more (UnauthorizedOperation), nor sign in without their token", async () => {
    const c = await page.evaluate(() => JSON.parse(sessionStorage.getItem("telcdr.console.credentials")));
    const r = await api("TelcdrIssueTemporaryCredentials", {}, { secretId: c.secretId, secretKey: c.secretKey, token: c.token });
    assert.equal(r.Error?.Code, "UnauthorizedOperation", JSON.stringify(r));
    const { c: ctx2, p } = await newContext();
    await p.goto(server.consoleUrl);
    await signIn(p, c.secretId, c.secretKey);
    await p.waitForFunction(() => document.getElementById("signin-error")?.textContent.length > 0);
    assert.match(await p.textContent("#signin-error"), /UnauthorizedOperation|AuthFailure/);
    assert.equal(await p.evaluate(() => sessionStorage.getItem("telcdr.console.credentials")), null);
    await ctx2.close();
  });

  test("a rejected token signs the console out and says why", async () => {
    await page.goto(`${server.consoleUrl}#/calls`);
    await page.waitForSelector("table.calls tbody tr");
    await page.evaluate(() => {
      const c = JSON.parse(sessionStorage.getItem("telcdr.console.credentials"));
      c.token = `${c.token}tampered`;
      sessionStorage.setItem("telcdr.console.credentials", JSON.stringify(c));
    });
    await page.click('#nav a[data-route="overview"]');
    await page.waitForSelector("form.signin .alert");
    const text = await page.textContent("form.signin .alert");
    assert.match(text, /no longer accepted/);
    assert.match(text, /Sign in again/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("telcdr.console.credentials")), null);
    assert.match(await page.evaluate(() => location.hash), /^#\/overview/, "the route is kept for after the sign-in");
    await shot(page, "12-error-token-rejected", false);
    await signIn(page);
    await page.waitForSelector(".chart-volume svg .bar");
  });

  test("credentials that expire while the console is open: it says so and asks again", async () => {
    await page.goto(`${server.consoleUrl}#/calls`);
    await page.waitForSelector("table.calls tbody tr");
    await page.evaluate(() => {
      const c = JSON.parse(sessionStorage.getItem("telcdr.console.credentials"));
      c.expiredTime = Math.floor(Date.now() / 1000) + 5;
      sessionStorage.setItem("telcdr.console.credentials", JSON.stringify(c));
    });
    await page.reload();
    await page.waitForSelector("table.calls tbody tr");
    // No user action: the timer notices the expiry.
    await page.waitForSelector("form.signin .alert", { timeout: 10_000 });
    assert.match(await page.textContent("form.signin .alert"), /expired at .* Sign in again/);
    await shot(page, "13-error-expired", false);
  });

  test("credentials that expired on the server: AuthFailure.TokenFailure is shown as expired", async () => {
    const wait = shortIssuedAt + 62_000 - Date.now();
    if (wait > 0) await sleep(wait);
    const direct = await api("DescribeTelCdr", { SdkAppId: SDK_APP_ID, StartTimeStamp: now() - 3600, EndTimeStamp: now(), PageSize: 1, PageNumber: 0 }, {
      secretId: shortCreds.Credentials.TmpSecretId,
      secretKey: shortCreds.Credentials.TmpSecretKey,
      token: shortCreds.Credentials.Token,
    });
    assert.equal(direct.Error?.Code, "AuthFailure.TokenFailure");
    assert.match(direct.Error.Message, /expire/i);
    // The browser believes they are still good (its idea of the expiry is wrong).
    await page.evaluate((c) => {
      sessionStorage.setItem(
        "telcdr.console.credentials",
        JSON.stringify({ secretId: c.TmpSecretId, secretKey: c.TmpSecretKey, token: c.Token, expiredTime: Math.floor(Date.now() / 1000) + 3600, sdkAppIds: [1400000000] }),
      );
    }, shortCreds.Credentials);
    await page.goto(`${server.consoleUrl}#/calls?range=today`);
    await page.waitForSelector("form.signin .alert");
    assert.match(await page.textContent("form.signin .alert"), /expire/i);
  });

  test("an unreachable server is reported as such, with a retry", async () => {
    await signIn(page);
    await page.waitForSelector("table.calls tbody tr");
    const down = (url) => url.pathname === "/";
    await page.route(down, (route) => (route.request().method() === "POST" ? route.abort("connectionrefused") : route.continue()));
    await page.click('#nav a[data-route="overview"]');
    await page.waitForSelector(".alert.network");
    const text = await page.textContent(".alert.network");
    assert.match(text, /cannot be reached/);
    assert.equal(await page.getAttribute(".alert.network", "role"), "alert");
    assert.notEqual(await page.evaluate(() => sessionStorage.getItem("telcdr.console.credentials")), null, "a network error must not sign out");
    await shot(page, "14-error-unreachable", false);
    await page.unroute(down);
    await page.click(".alert.network button:has-text('Retry')");
    await page.waitForSelector(".chart-volume svg .bar");
    assert.equal(await page.locator(".alert.network").count(), 0);
  });

  test("no script errors in any page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
