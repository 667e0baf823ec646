// The official Node SDK against telcdr: every error of the list, for every
// sign method x HTTP method; err.code is the Tencent code, HTTP status 200.
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { COMBOS, DAY, baseParams, makeClient, world } from "./helpers.mjs";

const now = world.now;
const A = world.key_a;
const unknownKey = { SecretId: "AKID" + randomUUID().replace(/-/g, "").toUpperCase(), SecretKey: randomUUID() };
const wrongSecret = { SecretId: A.SecretId, SecretKey: [...A.SecretKey].reverse().join("") + "x" };
const { PageSize: _omit, ...noPageSize } = baseParams();

// name -> [client options, action, params, expected code, extra setup]
const CASES = {
  "bad signature": [{ key: wrongSecret }, "DescribeTelCdr", baseParams(), "AuthFailure.SignatureFailure"],
  "expired timestamp": [{}, "DescribeTelCdr", baseParams(), "AuthFailure.SignatureExpire", "oldClock"],
  "unknown key": [{ key: unknownKey }, "DescribeTelCdr", baseParams(), "AuthFailure.SecretIdNotFound"],
  "another tenant's SdkAppId": [{}, "DescribeTelCdr", baseParams({ SdkAppId: world.sdk_app_b }), "InvalidParameterValue.InstanceNotExist"],
  "SdkAppId that does not exist": [{}, "DescribeTelCdr", baseParams({ SdkAppId: 1400012345 }), "InvalidParameterValue.InstanceNotExist"],
  "PageSize 101": [{}, "DescribeTelCdr", baseParams({ PageSize: 101 }), "InvalidParameterValue"],
  "PageSize 0": [{}, "DescribeTelCdr", baseParams({ PageSize: 0 }), "InvalidParameterValue"],
  "PageNumber -1": [{}, "DescribeTelCdr", baseParams({ PageNumber: -1 }), "InvalidParameterValue"],
  "90-day span": [{}, "DescribeTelCdr", baseParams({ StartTimeStamp: now - 90 * DAY, EndTimeStamp: now }), "InvalidParameterValue"],
  "end before start": [{}, "DescribeTelCdr", baseParams({ StartTimeStamp: now - DAY, EndTimeStamp: now - 2 * DAY }), "InvalidParameterValue"],
  "start older than 180 days": [{}, "DescribeTelCdr", baseParams({ StartTimeStamp: now - 181 * DAY, EndTimeStamp: now - 180 * DAY + 3600 }), "InvalidParameterValue"],
  "missing PageSize": [{}, "DescribeTelCdr", noPageSize, "MissingParameter"],
  "unknown parameter": [{}, "DescribeTelCdr", baseParams({ Foo: 1 }), "UnknownParameter"],
  "wrong type": [{}, "DescribeTelCdr", baseParams({ PageSize: "abc" }), "InvalidParameter"],
  "unknown action": [{}, "DescribeNothing", baseParams(), "InvalidAction"],
  "wrong version": [{}, "DescribeTelCdr", baseParams(), "NoSuchVersion", "otherVersion"],
};

for (const [sign, method] of COMBOS) {
  for (const [name, [opts, action, params, code, setup]] of Object.entries(CASES)) {
    test(`${name} -> ${code} [${sign} ${method}]`, async () => {
      const client = makeClient({ ...opts, sign, method });
      if (setup === "otherVersion") client.apiVersion = "2019-01-01";
      // the SDK reads the clock (Date) while it signs, after an await: keep
      // the hour-old clock until the request has settled, then restore it
      if (setup === "oldClock") mock.timers.enable({ apis: ["Date"], now: Date.now() - 3600 * 1000 });
      const call = client.request(action, params);
      if (setup === "oldClock") {
        await call.catch(() => {});
        mock.timers.reset();
      }
      await assert.rejects(call, (e) => {
        assert.equal(e.code, code, `${name}: expected ${code}, got ${e.code}: ${e.message}`);
        assert.equal(e.httpCode, undefined, "API errors come with HTTP 200");
        assert.ok(e.requestId, "an error carries a RequestId");
        assert.ok(e.message);
        return true;
      });
    });
  }
}

test("burst over the rate limit -> RequestLimitExceeded, then served again", async () => {
  const limit = world.rl.per_second;
  const client = makeClient({ key: world.key_rl, server: "rl" });
  const params = baseParams({ StartTimeStamp: now - 2 * DAY, PageSize: 5 });
  await new Promise((r) => setTimeout(r, 1200));
  let ok = 0, limited = 0;
  const other = [];
  const t0 = Date.now();
  for (let i = 0; i < 4 * limit; i++) {
    try {
      await client.DescribeTelCdr(params);
      ok++;
    } catch (e) {
      if (e.code === "RequestLimitExceeded") limited++;
      else other.push(e.code || e.message);
    }
  }
  const elapsed = (Date.now() - t0) / 1000;
  assert.deepEqual(other, []);
  assert.ok(ok >= 1);
  if (elapsed < 1) {
    assert.ok(limited >= 1, `${4 * limit} requests in ${elapsed}s at ${limit}/s: none was limited`);
    assert.ok(ok <= 2 * limit, `${ok} served of a ${4 * limit}-request burst`);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const r = await client.DescribeTelCdr(params);
  assert.ok(r.TotalCount >= 0);
});

test("the server echoes X-TC-TraceId", async () => {
  const client = makeClient();
  const traceId = randomUUID();
  await assert.rejects(
    client.request("DescribeTelCdr", baseParams({ PageSize: 101 }), { headers: { "X-TC-TraceId": traceId } }),
    (e) => {
      assert.equal(e.code, "InvalidParameterValue");
      assert.equal(e.traceId, traceId);
      return true;
    },
  );
});
