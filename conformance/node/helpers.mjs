// Shared by the Node SDK tests: the world description written by
// conformance/python/telcdr_world.py (path in CONFORMANCE_WORLD), the naive
// expected-answer model over the generated JSONL, and a client factory.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tencentcloud = require("tencentcloud-sdk-nodejs");
export const CccClient = tencentcloud.ccc.v20200210.Client;

export const DAY = 86400;
export const SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"];
export const HTTP_METHODS = ["POST", "GET"];
export const COMBOS = SIGN_METHODS.flatMap((s) => HTTP_METHODS.map((m) => [s, m]));

if (!process.env.CONFORMANCE_WORLD) {
  throw new Error("CONFORMANCE_WORLD is not set: run these tests through conformance/run BINARY node");
}
export const world = JSON.parse(readFileSync(process.env.CONFORMANCE_WORLD, "utf8"));

export function loadJsonl(path) {
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

export const recordsA = loadJsonl(world.jsonl_a);
export const recordsB = loadJsonl(world.jsonl_b);

export function normPhone(p) {
  let d = String(p ?? "").replace(/\D/g, "");
  if (d.startsWith("00")) d = d.slice(2);
  return d;
}

export function expected(records, sdkAppId, start, end, { phones, sessionIds } = {}) {
  const np = phones ? new Set(phones.map(normPhone)) : null;
  const sids = sessionIds ? new Set(sessionIds) : null;
  const out = records.filter(
    (r) =>
      r.SdkAppId === sdkAppId &&
      r.Time >= start &&
      r.Time <= end &&
      (!np || np.has(normPhone(r.Caller)) || np.has(normPhone(r.Callee))) &&
      (!sids || sids.has(r.SessionId)),
  );
  out.sort((a, b) => b.Time - a.Time || (a.SessionId < b.SessionId ? -1 : a.SessionId > b.SessionId ? 1 : 0));
  return out;
}

/** Two normalised numbers of the given records: the most frequent and a rare one. */
export function pickPhones(records) {
  const counts = new Map();
  for (const r of records) {
    for (const n of new Set([normPhone(r.Caller), normPhone(r.Callee)])) {
      if (n.length >= 6 && !n.startsWith("00")) counts.set(n, (counts.get(n) || 0) + 1);
    }
  }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  // the most frequent number that still leaves out at least half of the records
  const frequent = (sorted.find(([, c]) => c <= Math.floor(records.length / 2)) || sorted[0])[0];
  const rare = (sorted.find(([n, c]) => c >= 2 && c <= 5 && n !== frequent) || sorted[sorted.length - 1])[0];
  return { frequent, rare };
}

export function makeClient({ key = world.key_a, sign = "TC3-HMAC-SHA256", method = "POST", language, server = "main" } = {}) {
  const profile = {
    signMethod: sign,
    httpProfile: { protocol: "http://", endpoint: world[server].endpoint, reqMethod: method, reqTimeout: 30 },
  };
  if (language) profile.language = language;
  return new CccClient({
    credential: { secretId: key.SecretId, secretKey: key.SecretKey },
    region: "ap-guangzhou",
    profile,
  });
}

export function baseParams(over = {}) {
  return {
    SdkAppId: world.sdk_app_a,
    StartTimeStamp: world.now - 3 * DAY,
    EndTimeStamp: world.now,
    PageSize: 10,
    PageNumber: 0,
    ...over,
  };
}

/** Every page through DescribeTelCdr; returns {sids, times, totals}. */
export async function pageThrough(client, params, pageSize) {
  const sids = [], times = [], totals = [];
  for (let page = 0; page < 1000; page++) {
    const r = await client.DescribeTelCdr({ ...params, PageSize: pageSize, PageNumber: page });
    if (!r.RequestId) throw new Error("no RequestId");
    totals.push(r.TotalCount);
    const list = r.TelCdrList || [];
    if (list.length > pageSize) throw new Error(`page of ${list.length} > ${pageSize}`);
    for (const c of list) {
      sids.push(c.SessionId);
      times.push(c.Time);
    }
    if (list.length < pageSize) return { sids, times, totals };
  }
  throw new Error("paging does not end");
}

/** The same queries as the Python suite's `scenario` fixture, recomputed here. */
export function scenario() {
  const desc = [...recordsA].sort((a, b) => b.Time - a.Time || (a.SessionId < b.SessionId ? -1 : 1));
  // ~400 records; the first pair of records sharing a Time (if any) inside, for the tie-break
  const tie = desc.findIndex((r, i) => i + 1 < desc.length && desc[i + 1].Time === r.Time);
  const endIdx = tie >= 0 ? Math.max(1, tie - 200) : 15;
  const paging = { StartTimeStamp: desc[Math.min(endIdx + 405, desc.length - 1)].Time, EndTimeStamp: desc[endIdx].Time };
  const fstart = world.now - 5 * DAY, fend = world.now;
  const inWindow = recordsA.filter((r) => r.Time >= fstart && r.Time <= fend);
  const { frequent, rare } = pickPhones(inWindow);
  // spelled unlike the data: with a 00 prefix, and with +, a space and a dash
  const phones = ["00" + frequent, "+" + rare.slice(0, 2) + " " + rare.slice(2, 5) + "-" + rare.slice(5)];
  const byPhone = expected(recordsA, world.sdk_app_a, fstart, fend, { phones });
  const byPhoneIds = new Set(byPhone.map((r) => r.SessionId));
  const other = inWindow.find((r) => !byPhoneIds.has(r.SessionId));
  const sessionIds = byPhone.slice(0, 2).map((r) => r.SessionId);
  if (other) sessionIds.push(other.SessionId);
  sessionIds.push(recordsB[0].SessionId, "00000000-0000-4000-8000-000000000000");
  return { paging, filters: { StartTimeStamp: fstart, EndTimeStamp: fend, phones, sessionIds }, frequent, rare };
}
