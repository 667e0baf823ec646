// TC3-HMAC-SHA256 request signing (Tencent Cloud API 3.0), with WebCrypto.
//
// Pure functions over strings: the browser console signs its API calls with
// them, and `node --test conformance/console/tc3.test.mjs` checks them against
// every TC3 vector of the wire spec (section 2.6). They use only
// `globalThis.crypto.subtle`, which browsers (in a secure context: https or
// loopback) and Node 18+ both provide.
//
// Spec, section 2:
//   CanonicalRequest = Method \n "/" \n Query \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//   StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/Service/tc3_request \n hex(SHA256(CanonicalRequest))
//   kDate = HMAC("TC3" + SecretKey, Date); kService = HMAC(kDate, Service);
//   kSigning = HMAC(kService, "tc3_request"); Signature = hex(HMAC(kSigning, StringToSign))

export const ALGORITHM = "TC3-HMAC-SHA256";

/** SHA-256 of the 16 ASCII bytes `UNSIGNED-PAYLOAD` (spec 2.2). */
export const UNSIGNED_PAYLOAD_HASH = "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96";

const encoder = new TextEncoder();

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new Error(
      "WebCrypto (crypto.subtle) is not available: open the console over https or on a loopback address (127.0.0.1, localhost)",
    );
  }
  return s;
}

function bytes(data) {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("expected a string, Uint8Array or ArrayBuffer");
}

/** Lower-case hex of bytes. */
export function toHex(buffer) {
  const b = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < b.length; i++) out += b[i].toString(16).padStart(2, "0");
  return out;
}

/** Lower-case hex SHA-256 of a string (UTF-8) or bytes. */
export async function sha256Hex(data) {
  return toHex(await subtle().digest("SHA-256", bytes(data)));
}

/** HMAC-SHA256 of `msg` under `key` (string or bytes), as a Uint8Array. */
export async function hmacSha256(key, msg) {
  const k = await subtle().importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle().sign("HMAC", k, bytes(msg)));
}

/** `YYYY-MM-DD`, the UTC date of a Unix timestamp in seconds (spec 2.1: never local time). */
export function utcDate(timestamp) {
  return new Date(Number(timestamp) * 1000).toISOString().slice(0, 10);
}

/**
 * The canonical request, the string to sign and the signature of one request.
 *
 * @param {object} r
 * @param {string} r.secretKey
 * @param {string} r.service          service of the credential scope (`ccc`)
 * @param {string} r.host             Host header value as signed
 * @param {number|string} r.timestamp Unix seconds (X-TC-Timestamp)
 * @param {string} [r.method="POST"]
 * @param {string} [r.query=""]       raw query string (GET), exactly as sent
 * @param {string} [r.contentType="application/json"]
 * @param {string|Uint8Array} [r.payload=""] the body bytes as sent
 * @param {boolean} [r.unsignedPayload=false] `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`
 * @param {Object<string,string>} [r.headers] further headers to sign (name -> value)
 */
export async function tc3Sign(r) {
  const method = (r.method || "POST").toUpperCase();
  const timestamp = String(r.timestamp);
  const date = utcDate(timestamp);
  const headers = new Map();
  headers.set("content-type", r.contentType ?? "application/json");
  headers.set("host", r.host);
  for (const [name, value] of Object.entries(r.headers || {})) headers.set(name.toLowerCase(), String(value));
  const names = [...headers.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers.get(n).trim()}\n`).join("");
  const signedHeaders = names.join(";");
  const hashedPayload = r.unsignedPayload ? UNSIGNED_PAYLOAD_HASH : await sha256Hex(r.payload ?? "");
  const canonicalRequest = [method, "/", r.query || "", canonicalHeaders, signedHeaders, hashedPayload].join("\n");
  const canonicalHash = await sha256Hex(canonicalRequest);
  const scope = `${date}/${r.service}/tc3_request`;
  const stringToSign = `${ALGORITHM}\n${timestamp}\n${scope}\n${canonicalHash}`;
  const kDate = await hmacSha256("TC3" + r.secretKey, date);
  const kService = await hmacSha256(kDate, r.service);
  const kSigning = await hmacSha256(kService, "tc3_request");
  const signature = toHex(await hmacSha256(kSigning, stringToSign));
  return { date, scope, signedHeaders, hashedPayload, canonicalRequest, canonicalHash, stringToSign, signature };
}

/** The Authorization header value for a SecretId and a `tc3Sign` result. */
export function authorization(secretId, signed) {
  return `${ALGORITHM} Credential=${secretId}/${signed.scope}, SignedHeaders=${signed.signedHeaders}, Signature=${signed.signature}`;
}

/**
 * Every header of a signed POST JSON API call (all but Host, which the
 * browser sets; `host` must be what it will send, e.g. `location.host`).
 *
 * @param {object} c
 * @param {{secretId: string, secretKey: string, token?: string}} c.credentials
 * @param {string} c.action
 * @param {string} c.version
 * @param {string} c.body      the JSON text that will be sent, byte for byte
 * @param {string} c.host
 * @param {number} c.timestamp Unix seconds
 * @param {string} [c.service="ccc"]
 * @param {string} [c.language]  `en-US` or `zh-CN`
 */
export async function signedHeaders(c) {
  const contentType = "application/json";
  const signed = await tc3Sign({
    secretKey: c.credentials.secretKey,
    service: c.service || "ccc",
    host: c.host,
    timestamp: c.timestamp,
    method: "POST",
    contentType,
    payload: c.body,
  });
  const headers = {
    Authorization: authorization(c.credentials.secretId, signed),
    "Content-Type": contentType,
    "X-TC-Action": c.action,
    "X-TC-Version": c.version,
    "X-TC-Timestamp": String(c.timestamp),
  };
  if (c.language) headers["X-TC-Language"] = c.language;
  if (c.credentials.token) headers["X-TC-Token"] = c.credentials.token;
  return headers;
}
