// The official Node SDK (tencentcloud-sdk-nodejs) against telcdr: success path.
// Every sign method (TC3-HMAC-SHA256, HmacSHA1, HmacSHA256) x every HTTP method (POST, GET).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  COMBOS, DAY, SIGN_METHODS, baseParams, expected, makeClient, pageThrough, recordsA, recordsB, scenario, world,
} from "./helpers.mjs";

const sc = scenario();
const A = world.sdk_app_a;

for (const [sign, method] of COMBOS) {
  test(`paging concatenates to the expected order [${sign} ${method}]`, async () => {
    const client = makeClient({ sign, method });
    const p = { SdkAppId: A, ...sc.paging };
    const exp = expected(recordsA, A, p.StartTimeStamp, p.EndTimeStamp);
    assert.ok(exp.length > 3 * 41, "the window spans several pages");
    const { sids, times, totals } = await pageThrough(client, p, 41);
    assert.deepEqual([...new Set(totals)], [exp.length]);
    assert.deepEqual(sids, exp.map((r) => r.SessionId));
    assert.deepEqual(times, exp.map((r) => r.Time));
  });

  test(`filters: phones in mixed formats, session ids, both [${sign} ${method}]`, async () => {
    const client = makeClient({ sign, method });
    const f = sc.filters;
    const win = { SdkAppId: A, StartTimeStamp: f.StartTimeStamp, EndTimeStamp: f.EndTimeStamp };

    const expP = expected(recordsA, A, f.StartTimeStamp, f.EndTimeStamp, { phones: f.phones });
    assert.ok(expP.length > 0);
    const byPhone = await pageThrough(client, { ...win, Phones: f.phones }, 100);
    assert.deepEqual([...new Set(byPhone.totals)], [expP.length]);
    assert.deepEqual(byPhone.sids, expP.map((r) => r.SessionId));

    const expS = expected(recordsA, A, f.StartTimeStamp, f.EndTimeStamp, { sessionIds: f.sessionIds });
    const r1 = await client.DescribeTelCdr({ ...win, SessionIds: f.sessionIds, PageSize: 100, PageNumber: 0 });
    assert.equal(r1.TotalCount, expS.length);
    assert.equal(expS.length, f.sessionIds.length - 2);
    assert.deepEqual(r1.TelCdrList.map((c) => c.SessionId), expS.map((r) => r.SessionId));

    const expB = expected(recordsA, A, f.StartTimeStamp, f.EndTimeStamp, { phones: f.phones, sessionIds: f.sessionIds });
    assert.ok(expB.length >= 1 && expB.length < expS.length);
    const r2 = await client.DescribeTelCdr({ ...win, Phones: f.phones, SessionIds: f.sessionIds, PageSize: 100, PageNumber: 0 });
    assert.equal(r2.TotalCount, expB.length);
    assert.deepEqual(r2.TelCdrList.map((c) => c.SessionId), expB.map((r) => r.SessionId));
  });

  test(`documented fields have their JSON types [${sign} ${method}]`, async () => {
    const client = makeClient({ sign, method });
    const r = await client.DescribeTelCdr(baseParams({ StartTimeStamp: world.now - 19 * DAY, PageSize: 100, PageNumber: 1 }));
    assert.equal(r.TelCdrList.length, 100);
    const problems = [];
    r.TelCdrList.forEach((c, i) => checkCdr(c, `TelCdrList[${i}]`, problems));
    assert.deepEqual(problems.slice(0, 30), []);
  });
}

test("tenant B sees exactly its own records", async () => {
  const client = makeClient({ key: world.key_b });
  const p = { SdkAppId: world.sdk_app_b, StartTimeStamp: world.now - 30 * DAY, EndTimeStamp: world.now };
  const exp = expected(recordsB, world.sdk_app_b, p.StartTimeStamp, p.EndTimeStamp);
  assert.equal(exp.length, recordsB.length);
  const { sids, totals } = await pageThrough(client, p, 100);
  assert.deepEqual([...new Set(totals)], [exp.length]);
  assert.deepEqual(sids, exp.map((r) => r.SessionId));
});

test("the Node SDK's TC3 scope with a ccc.* host name (spec 1.6) is accepted", async () => {
  // A dotted host whose first label is "ccc", resolved to loopback in-process,
  // so the SDK puts service "ccc" in the credential scope.
  const http = await import("node:http");
  const port = world.main.endpoint.split(":")[1];
  const agent = new http.Agent({
    lookup: (h, o, cb) => (o && o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)),
  });
  const client = makeClient();
  client.endpoint = `ccc.telcdr.test:${port}`;
  client.profile.httpProfile.agent = agent;
  const r = await client.DescribeTelCdr(baseParams({ PageSize: 1 }));
  assert.equal(r.TotalCount, expected(recordsA, A, world.now - 3 * DAY, world.now).length);
});

for (const sign of SIGN_METHODS) {
  test(`endpoint localhost:PORT (TC3 scope service "localhost:PORT") [${sign}]`, async () => {
    const client = makeClient({ sign });
    client.endpoint = `localhost:${world.main.endpoint.split(":")[1]}`;
    const r = await client.DescribeTelCdr(baseParams({ PageSize: 1 }));
    assert.equal(r.TotalCount, expected(recordsA, A, world.now - 3 * DAY, world.now).length);
  });
}

for (const sign of SIGN_METHODS) {
  test(`language zh-CN gives a Chinese message, en-US an English one [${sign}]`, async () => {
    for (const [language, chinese] of [["zh-CN", true], ["en-US", false]]) {
      const client = makeClient({ sign, language });
      await assert.rejects(client.DescribeTelCdr(baseParams({ PageSize: 101 })), (e) => {
        assert.equal(e.code, "InvalidParameterValue");
        assert.equal(/[\u4e00-\u9fff]/.test(e.message), chinese, `${language}: ${e.message}`);
        if (!chinese) assert.match(e.message, /PageSize/);
        return true;
      });
    }
  });
}

// ---------------------------------------------------------------- JSON types

const INT = "int", STR = "str", STRS = "[str]";
const IVR = [{ Key: STR, Label: STR, NodeLabel: STR, OriginalContent: STR, TTSPrompt: STR }, { Timestamp: INT }];
const SEAT = [
  { Name: STR, Mail: STR, StaffNumber: STR, Phone: STR, Nick: STR, UserId: STR, SkillGroupNameList: STRS },
  { Role: INT, ExtensionNumber: STR },
];
const PART = [{
  Mail: STR, Phone: STR, RingTimestamp: INT, AcceptTimestamp: INT, EndedTimestamp: INT, RecordId: STR, Type: STR,
  TransferFrom: STR, TransferFromType: STR, TransferTo: STR, TransferToType: STR, SkillGroupId: INT,
  SkillGroupName: STR, EndStatusString: STR, RecordURL: STR, Sequence: INT, CustomRecordURL: STR, StartTimestamp: INT,
}, {}];
const CDR = [{
  Caller: STR, Callee: STR, Time: INT, Direction: INT, Duration: INT, RecordURL: STR, RecordId: STR,
  SeatUser: ["obj", SEAT], EndStatus: INT, SkillGroup: STR, CallerLocation: STR, IVRDuration: INT,
  RingTimestamp: INT, AcceptTimestamp: INT, EndedTimestamp: INT, IVRKeyPressed: STRS, IVRKeyPressedEx: ["list", IVR],
  HungUpSide: STR, ServeParticipants: ["list", PART], SkillGroupId: INT, EndStatusString: STR, StartTimestamp: INT,
  QueuedTimestamp: INT, PostIVRKeyPressed: ["list", IVR], PostIVRKeyPressedEx: ["list", IVR], QueuedSkillGroupId: INT,
  SessionId: STR, ProtectedCaller: STR, ProtectedCallee: STR, Uui: "str?", UUI: STR, AsrUrl: STR, AsrStatus: STR,
  CustomRecordURL: STR, Remark: STR, QueuedSkillGroupName: STR, VoicemailRecordURL: STRS,
}, {
  CallType: INT, VoicemailAsrURL: STRS, AIAgentId: INT, AIAgentName: STR, SysHangupReason: INT,
  SysHangupReasonString: STR, EndStatusV2: INT,
}];

function checkValue(path, kind, v, problems) {
  if (Array.isArray(kind)) {
    const [shape, spec] = kind;
    if (shape === "obj") {
      if (v === null || typeof v !== "object" || Array.isArray(v)) problems.push(`${path}: expected object, got ${JSON.stringify(v)}`);
      else checkObject(path, v, spec, problems);
    } else if (!Array.isArray(v)) problems.push(`${path}: expected array, got ${JSON.stringify(v)}`);
    else v.forEach((x, i) => checkObject(`${path}[${i}]`, x, spec, problems));
    return;
  }
  const ok = {
    int: Number.isInteger(v),
    str: typeof v === "string",
    "str?": v === null || typeof v === "string",
    "[str]": Array.isArray(v) && v.every((x) => typeof x === "string"),
  }[kind];
  if (!ok) problems.push(`${path}: expected ${kind}, got ${JSON.stringify(v)}`);
}

function checkObject(path, obj, [required, optional], problems) {
  if (obj === null || typeof obj !== "object") {
    problems.push(`${path}: expected object, got ${JSON.stringify(obj)}`);
    return;
  }
  for (const [k, kind] of Object.entries(required)) {
    if (!(k in obj)) problems.push(`${path}.${k}: missing`);
    else checkValue(`${path}.${k}`, kind, obj[k], problems);
  }
  for (const [k, kind] of Object.entries(optional)) if (k in obj) checkValue(`${path}.${k}`, kind, obj[k], problems);
}

function checkCdr(c, path, problems) {
  checkObject(path, c, CDR, problems);
}
