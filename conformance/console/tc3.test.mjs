// The console's TC3 signing (crates/telcdr-server/console/tc3.js) against every
// TC3-HMAC-SHA256 vector of the wire spec, section 2.6 (shared/spec/
// tencent-cloud-api.md), computed with WebCrypto exactly as in the browser.
//
//   node --test conformance/console/tc3.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  tc3Sign,
  authorization,
  signedHeaders,
  sha256Hex,
  utcDate,
  UNSIGNED_PAYLOAD_HASH,
} from "../../crates/telcdr-server/console/tc3.js";

const SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

// T1's body carries backslash-u escapes as literal ASCII.
const T1_BODY = String.raw`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`;
const T3_BODY = `{"Limit": 1, "Filters": [{"Values": ["unnamed"], "Name": "instance-name"}]}`;
const C1_BODY =
  '{"StartTimeStamp": 1699900000, "EndTimeStamp": 1700000000, "SdkAppId": 1400000000, "PageSize": 10, "PageNumber": 0, "Phones": ["008613012345678"]}';
const N1_BODY =
  '{"SdkAppId":1400000000,"StartTimeStamp":1699900000,"EndTimeStamp":1700000000,"PageSize":10,"PageNumber":0,"Phones":["008613012345678"]}';

const cvm = { secretKey: SECRET_KEY, service: "cvm", host: "cvm.tencentcloudapi.com" };
const ccc = { secretKey: SECRET_KEY, service: "ccc", host: "ccc.tencentcloudapi.com", timestamp: 1700000000 };

const vectors = [
  {
    name: "T1: official POST example",
    req: { ...cvm, timestamp: 1551113065, contentType: "application/json; charset=utf-8", payload: T1_BODY },
    date: "2019-02-25",
    hashedPayload: "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
    canonicalHash: "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
    signature: "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
  },
  {
    name: "T1 negative: Content-Type without charset signs differently",
    req: { ...cvm, timestamp: 1551113065, contentType: "application/json", payload: T1_BODY },
    signature: "683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
  },
  {
    name: "T2: official GET example",
    req: {
      ...cvm,
      timestamp: 1539084154,
      method: "GET",
      query: "Limit=10&Offset=0",
      contentType: "application/x-www-form-urlencoded",
      payload: "",
    },
    date: "2018-10-09",
    hashedPayload: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    canonicalHash: "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7",
    signature: "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474",
  },
  {
    name: "T3: current doc text",
    req: { ...cvm, timestamp: 1551113065, contentType: "application/json; charset=utf-8", payload: T3_BODY },
    hashedPayload: "99d58dfbc6745f6747f36bfca17dee5e6881dc0428a0a36f96199342bc5b4907",
    canonicalHash: "2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a",
    signature: "63eae8f4b793c20564dafd5a5f62817d6e8de7ce5d4fb2d38f7babf1531c493c",
  },
  {
    name: "C1: DescribeTelCdr, Python SDK, POST JSON",
    req: { ...ccc, contentType: "application/json", payload: C1_BODY },
    date: "2023-11-14",
    hashedPayload: "380649becc0c6c5b95a1adde4b8c45b1d178a6c71f6970a765a67b588d10684e",
    canonicalHash: "84cbdb3f77397dc442ea3ccbf2c1cee7df5eb19717ed8cc41afd2cfb000374cb",
    signature: "fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47",
    authorization:
      "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/ccc/tc3_request, SignedHeaders=content-type;host, Signature=fb856e23b0eb1e5909c927866dffc348e35c498e80f0a1e43dacba3ffb3bdc47",
  },
  {
    name: "C2: DescribeTelCdr, GET",
    req: {
      ...ccc,
      method: "GET",
      query:
        "StartTimeStamp=1699900000&EndTimeStamp=1700000000&SdkAppId=1400000000&PageSize=10&PageNumber=0&Phones.0=008613012345678",
      contentType: "application/x-www-form-urlencoded",
      payload: "",
    },
    canonicalHash: "b1b08bb828b9fb7d28e964aa5b8a08f83555f66f397a7f311718dbd38edf72c8",
    signature: "4268c05de1e5974528f0b0c7a6082682efc87a885c4cf7bac3d0908f32cf3e3d",
  },
  {
    name: "C3: C1 with X-TC-Content-SHA256: UNSIGNED-PAYLOAD",
    req: { ...ccc, contentType: "application/json", payload: C1_BODY, unsignedPayload: true },
    hashedPayload: UNSIGNED_PAYLOAD_HASH,
    canonicalHash: "eb851ebf11a06d60209a7d6604772994c3eb2ee9f9afbe040856de120b77f091",
    signature: "23128a47af659dc0d799c6131c3043a330e346d8774394c569f6251a70076047",
  },
  {
    name: "N1: Node SDK quirk (scope service localhost:28417, host signed without port)",
    req: {
      secretKey: SECRET_KEY,
      service: "localhost:28417",
      host: "localhost",
      timestamp: 1700000000,
      contentType: "application/json",
      payload: N1_BODY,
    },
    hashedPayload: "716aa467b2c46042ec498b9bb4263c9c7258d2ff756053f97fc4be1bf52df597",
    canonicalHash: "767b940a8d5e96319dc627e542e79c75aca9bc30d7606c35ea5a4175f81aeefb",
    signature: "436512a7d1656e8d3ceb9b68a5cd80a4c272209f3699ace0d98740051a67d330",
  },
];

for (const v of vectors) {
  test(v.name, async () => {
    const s = await tc3Sign(v.req);
    if (v.date) assert.equal(s.date, v.date);
    if (v.hashedPayload) assert.equal(s.hashedPayload, v.hashedPayload);
    if (v.canonicalHash) assert.equal(s.canonicalHash, v.canonicalHash);
    assert.equal(s.signature, v.signature);
    assert.equal(s.signedHeaders, "content-type;host");
    if (v.authorization) assert.equal(authorization(SECRET_ID, s), v.authorization);
  });
}

test("UNSIGNED-PAYLOAD hash is SHA-256 of its 16 ASCII bytes", async () => {
  assert.equal(await sha256Hex("UNSIGNED-PAYLOAD"), UNSIGNED_PAYLOAD_HASH);
});

test("the scope date is the UTC date, never local time", () => {
  // 2019-02-26 00:44:25 in UTC+8 is still the 25th in UTC.
  assert.equal(utcDate(1551113065), "2019-02-25");
  assert.equal(utcDate(0), "1970-01-01");
});

test("the canonical request has the documented layout (empty line before SignedHeaders)", async () => {
  const s = await tc3Sign({ ...ccc, contentType: "application/json", payload: C1_BODY });
  assert.equal(
    s.canonicalRequest,
    "POST\n/\n\ncontent-type:application/json\nhost:ccc.tencentcloudapi.com\n\ncontent-type;host\n" +
      "380649becc0c6c5b95a1adde4b8c45b1d178a6c71f6970a765a67b588d10684e",
  );
  assert.equal(s.stringToSign.split("\n")[2], "2023-11-14/ccc/tc3_request");
});

test("UTF-8 bodies are hashed as UTF-8 bytes", async () => {
  // The literal-escape and the UTF-8 spelling of the same JSON differ on the wire.
  const raw = await tc3Sign({ ...cvm, timestamp: 1551113065, payload: '{"Values": ["未命名"]}' });
  const esc = await tc3Sign({ ...cvm, timestamp: 1551113065, payload: String.raw`{"Values": ["\u672a\u547d\u540d"]}` });
  assert.notEqual(raw.hashedPayload, esc.hashedPayload);
  const { createHash } = await import("node:crypto");
  assert.equal(raw.hashedPayload, createHash("sha256").update('{"Values": ["未命名"]}', "utf8").digest("hex"));
});

test("signedHeaders: the headers the console sends, with C1's signature and the session token", async () => {
  const h = await signedHeaders({
    credentials: { secretId: SECRET_ID, secretKey: SECRET_KEY, token: "tok-123" },
    action: "DescribeTelCdr",
    version: "2020-02-10",
    body: C1_BODY,
    host: "ccc.tencentcloudapi.com",
    timestamp: 1700000000,
    language: "en-US",
  });
  assert.deepEqual(h, {
    Authorization: vectors.find((v) => v.name.startsWith("C1")).authorization,
    "Content-Type": "application/json",
    "X-TC-Action": "DescribeTelCdr",
    "X-TC-Version": "2020-02-10",
    "X-TC-Timestamp": "1700000000",
    "X-TC-Language": "en-US",
    "X-TC-Token": "tok-123",
  });
  const noToken = await signedHeaders({
    credentials: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    action: "DescribeTelCdr",
    version: "2020-02-10",
    body: C1_BODY,
    host: "ccc.tencentcloudapi.com",
    timestamp: 1700000000,
  });
  assert.equal(noToken["X-TC-Token"], undefined);
  assert.equal(noToken["X-TC-Language"], undefined);
});

test("extra signed headers are sorted into SignedHeaders", async () => {
  const s = await tc3Sign({ ...ccc, payload: C1_BODY, headers: { "X-TC-Action": "DescribeTelCdr" } });
  assert.equal(s.signedHeaders, "content-type;host;x-tc-action");
  assert.match(s.canonicalRequest, /\nx-tc-action:DescribeTelCdr\n\ncontent-type;host;x-tc-action\n/);
});
