// The console's API client: signed calls to telcdr's API at POST / (same
// origin), temporary credentials kept in sessionStorage, and typed errors.
//
// The long-term SecretKey is used exactly once, in `signIn`, to ask telcdr for
// temporary credentials (TelcdrIssueTemporaryCredentials); it is never stored.
// Every later call is signed with the temporary SecretId/SecretKey and carries
// the session token in X-TC-Token. Temporary credentials expire: `call` checks
// the expiry before sending, and an AuthFailure answer (e.g. TokenFailure for
// an expired token) signs the console out, so the app asks for the key again.

import { signedHeaders } from "./tc3.js";

export const VERSION = "2020-02-10";
export const SERVICE = "ccc";
export const LANGUAGE = "en-US";
/** sessionStorage key of the temporary credentials. */
export const STORAGE_KEY = "telcdr.console.credentials";

/** An API call that did not succeed. `kind`: "auth" (sign in again), "network", or "api". */
export class ApiError extends Error {
  constructor(code, message, { requestId = "", kind = "api", action = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.requestId = requestId;
    this.kind = kind;
    this.action = action;
  }
}

// Seconds to add to the browser's clock to get the server's: learnt from the
// Date header when the server answers AuthFailure.SignatureExpire.
let clockOffset = 0;

/** Now, in Unix seconds, on the server's clock as far as we know it. */
export function serverNow() {
  return Math.floor(Date.now() / 1000) + clockOffset;
}

// ------------------------------------------------------------ credentials

function storage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null; // storage disabled
  }
}

/** The stored temporary credentials, or null. */
export function loadCredentials() {
  const raw = storage()?.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const c = JSON.parse(raw);
    if (!c || typeof c.secretId !== "string" || typeof c.secretKey !== "string" || typeof c.token !== "string") {
      return null;
    }
    return c;
  } catch {
    return null;
  }
}

function saveCredentials(c) {
  const s = storage();
  if (!s) throw new ApiError("StorageUnavailable", "This browser does not allow session storage, which the console needs to keep you signed in.");
  s.setItem(STORAGE_KEY, JSON.stringify(c));
}

/** Forgets the temporary credentials (signs out). */
export function clearCredentials() {
  storage()?.removeItem(STORAGE_KEY);
}

/** Seconds until the credentials expire (negative once expired). */
export function secondsLeft(c = loadCredentials()) {
  if (!c) return -1;
  return Number(c.expiredTime) - serverNow();
}

function expiredError(c) {
  const at = new Date(Number(c.expiredTime) * 1000).toLocaleTimeString();
  return new ApiError("CredentialsExpired", `Your temporary credentials expired at ${at}. Sign in again to continue.`, { kind: "auth" });
}

// A listener told when the console loses its credentials (expired, rejected).
let authLost = () => {};
/** Sets the function called with the ApiError when the credentials stop working. */
export function onAuthLost(fn) {
  authLost = fn;
}

// ------------------------------------------------------------ the wire

async function send(action, params, credentials) {
  const body = JSON.stringify(params);
  const host = globalThis.location.host;
  for (let attempt = 0; ; attempt++) {
    const headers = await signedHeaders({
      credentials,
      action,
      version: VERSION,
      service: SERVICE,
      body,
      host,
      timestamp: serverNow(),
      language: LANGUAGE,
    });
    let resp;
    try {
      resp = await fetch("/", { method: "POST", headers, body, cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw new ApiError(
        "ServerUnreachable",
        `The telcdr server at ${host} cannot be reached (${e && e.message ? e.message : e}). Check that it is running and that this computer can reach it, then retry.`,
        { kind: "network", action },
      );
    }
    if (resp.status !== 200) {
      throw new ApiError(
        "HttpError",
        `The telcdr server at ${host} answered HTTP ${resp.status} ${resp.statusText || ""}`.trim() + ". Retry in a moment.",
        { kind: "network", action },
      );
    }
    let json;
    try {
      json = await resp.json();
    } catch {
      throw new ApiError("InvalidResponse", `The server at ${host} did not answer with JSON: is it telcdr?`, { kind: "network", action });
    }
    const r = json && json.Response;
    if (!r || typeof r !== "object") {
      throw new ApiError("InvalidResponse", `The server at ${host} answered without a Response object: is it telcdr?`, { kind: "network", action });
    }
    if (r.Error) {
      const code = String(r.Error.Code || "InternalError");
      const message = String(r.Error.Message || code);
      // The browser's clock is off: learn the server's from its Date header and retry once.
      if (code === "AuthFailure.SignatureExpire" && attempt === 0) {
        const date = Date.parse(resp.headers.get("Date") || "");
        if (!Number.isNaN(date)) {
          const offset = Math.round(date / 1000 - Date.now() / 1000);
          if (Math.abs(offset - clockOffset) > 30) {
            clockOffset = offset;
            continue;
          }
        }
      }
      const kind = isAuthCode(code) ? "auth" : "api";
      throw new ApiError(code, message, { requestId: r.RequestId || "", kind, action });
    }
    return r;
  }
}

function isAuthCode(code) {
  return (
    code === "AuthFailure.TokenFailure" ||
    code === "AuthFailure.SecretIdNotFound" ||
    code === "AuthFailure.SignatureFailure" ||
    code === "AuthFailure.InvalidAuthorization" ||
    code === "AuthFailure.InvalidSecretId"
  );
}

/**
 * Signs in: exchanges a long-term key for temporary credentials and keeps
 * only those. Returns the stored credentials.
 */
export async function signIn(secretId, secretKey, durationSeconds = 3600) {
  secretId = String(secretId || "").trim();
  secretKey = String(secretKey || "").trim();
  if (!secretId || !secretKey) {
    throw new ApiError("MissingParameter", "Enter both the SecretId and the SecretKey.", { kind: "auth" });
  }
  const r = await send("TelcdrIssueTemporaryCredentials", { DurationSeconds: durationSeconds }, { secretId, secretKey });
  const cr = r.Credentials || {};
  if (!cr.TmpSecretId || !cr.TmpSecretKey || !cr.Token || !r.ExpiredTime) {
    throw new ApiError("InvalidResponse", "The server's answer to TelcdrIssueTemporaryCredentials lacks credentials.", { kind: "network" });
  }
  const c = {
    secretId: cr.TmpSecretId,
    secretKey: cr.TmpSecretKey,
    token: cr.Token,
    expiredTime: Number(r.ExpiredTime),
    sdkAppIds: Array.isArray(r.SdkAppIds) ? r.SdkAppIds.map(Number) : [],
    keyId: secretId.length > 12 ? `${secretId.slice(0, 8)}…${secretId.slice(-4)}` : secretId,
  };
  saveCredentials(c);
  return c;
}

/** One API call with the stored temporary credentials; resolves to the Response object. */
export async function call(action, params) {
  const c = loadCredentials();
  if (!c) {
    const e = new ApiError("SignedOut", "Sign in to continue.", { kind: "auth", action });
    authLost(e);
    throw e;
  }
  if (secondsLeft(c) <= 0) {
    clearCredentials();
    const e = expiredError(c);
    authLost(e);
    throw e;
  }
  try {
    return await send(action, params, c);
  } catch (e) {
    if (e instanceof ApiError && e.kind === "auth") {
      clearCredentials();
      authLost(e);
    }
    throw e;
  }
}

// ------------------------------------------------------------ actions

/**
 * A page of call records. Uses Tencent's DescribeTelCdr when the filters are
 * those it has (phones, session ids), telcdr's TelcdrSearchCdrs otherwise.
 *
 * @param {object} q  {sdkAppId, start, end, pageSize, pageNumber (from 0),
 *                     phones, sessionIds, directions, endStatuses, seatMails, skillGroupIds}
 */
export async function searchCdrs(q) {
  const params = {
    SdkAppId: q.sdkAppId,
    StartTimeStamp: q.start,
    EndTimeStamp: q.end,
    PageSize: q.pageSize,
    PageNumber: q.pageNumber,
  };
  const nonEmpty = (a) => Array.isArray(a) && a.length > 0;
  if (nonEmpty(q.phones)) params.Phones = q.phones;
  if (nonEmpty(q.sessionIds)) params.SessionIds = q.sessionIds;
  let action = "DescribeTelCdr";
  for (const [key, name] of [
    ["directions", "Directions"],
    ["endStatuses", "EndStatuses"],
    ["seatMails", "SeatMails"],
    ["skillGroupIds", "SkillGroupIds"],
  ]) {
    if (nonEmpty(q[key])) {
      params[name] = q[key];
      action = "TelcdrSearchCdrs";
    }
  }
  const r = await call(action, params);
  return { action, totalCount: Number(r.TotalCount) || 0, records: Array.isArray(r.TelCdrList) ? r.TelCdrList : [] };
}

/** One call by SessionId around its Time (Unix s), or null. */
export async function findCall(sdkAppId, sessionId, time) {
  const now = serverNow();
  const windows = time
    ? [[time - 60, time + 60]]
    : [
        [now - 89 * 86400, now + 60],
        [now - 179 * 86400, now - 89 * 86400 - 1],
      ];
  for (const [start, end] of windows) {
    const page = await searchCdrs({ sdkAppId, start, end, pageSize: 1, pageNumber: 0, sessionIds: [sessionId] });
    if (page.records.length) return page.records[0];
  }
  return null;
}

/** The transcript (AsrData list) of a call, or null when telcdr holds none. */
export async function transcript(sdkAppId, sessionId) {
  try {
    const r = await call("DescribeTelRecordAsr", { SdkAppId: sdkAppId, SessionId: sessionId });
    return Array.isArray(r.AsrDataList) ? r.AsrDataList : [];
  } catch (e) {
    if (e instanceof ApiError && e.code.startsWith("ResourceNotFound")) return null;
    throw e;
  }
}

/** DescribeSessionDetail of a call (for its Events), or null when it is not there. */
export async function sessionDetail(sdkAppId, sessionId, time) {
  try {
    return await call("DescribeSessionDetail", {
      SdkAppId: sdkAppId,
      SessionId: sessionId,
      StartTimestamp: time - 60,
      EndTimestamp: time + 60,
    });
  } catch (e) {
    if (e instanceof ApiError && (e.code.startsWith("FailedOperation") || e.code.startsWith("ResourceNotFound"))) return null;
    throw e;
  }
}

/** TelcdrDescribeOverview: totals, a series and the top lists of a window. */
export async function overview(sdkAppId, start, end, granularity) {
  return call("TelcdrDescribeOverview", {
    SdkAppId: sdkAppId,
    StartTimeStamp: start,
    EndTimeStamp: end,
    Granularity: granularity,
  });
}
