"""The official Python SDK (tencentcloud-sdk-python-ccc) against telcdr.

Every sign method the SDK has (TC3-HMAC-SHA256, HmacSHA1, HmacSHA256) is
crossed with every HTTP method it has (POST, GET) for the success path and
for the error list. Expected answers come from the generated JSONL.
"""

from __future__ import annotations

import json
import re
import time
import types
import uuid

import pytest
from tencentcloud.ccc.v20200210 import ccc_client, models
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

import expect
import schema

SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"]
HTTP_METHODS = ["POST", "GET"]
COMBOS = [pytest.param(s, m, id=f"{s}-{m}") for s in SIGN_METHODS for m in HTTP_METHODS]
CJK = re.compile(r"[\u4e00-\u9fff]")
DAY = 86400


class OtherVersionCccClient(ccc_client.CccClient):
    _apiVersion = "2019-01-01"


def make_client(world, key, sign="TC3-HMAC-SHA256", method="POST", language=None, server="main",
                cls=ccc_client.CccClient):
    hp = HttpProfile(protocol="http", endpoint=world[server]["endpoint"], reqMethod=method, reqTimeout=30)
    kw = {} if language is None else {"language": language}
    cp = ClientProfile(signMethod=sign, httpProfile=hp, **kw)
    return cls(credential.Credential(key["SecretId"], key["SecretKey"]), "ap-guangzhou", cp)


def describe(client, params):
    req = models.DescribeTelCdrRequest()
    req.from_json_string(json.dumps(params))
    return client.DescribeTelCdr(req)


def raw_call(client, params, action="DescribeTelCdr"):
    return json.loads(client.call(action, params))["Response"]


def base_params(world, **over):
    now = world["now"]
    p = {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": now - 3 * DAY, "EndTimeStamp": now,
         "PageSize": 10, "PageNumber": 0}
    p.update(over)
    return p


def page_through(client, params, page_size):
    """All pages through the SDK model; returns (session ids, times, totals)."""
    sids, times, totals = [], [], []
    page = 0
    while True:
        resp = describe(client, dict(params, PageSize=page_size, PageNumber=page))
        totals.append(resp.TotalCount)
        assert resp.RequestId
        lst = resp.TelCdrList or []
        assert len(lst) <= page_size
        sids += [c.SessionId for c in lst]
        times += [c.Time for c in lst]
        if len(lst) < page_size:
            # one page further must be empty too, with the same total
            if lst:
                extra = describe(client, dict(params, PageSize=page_size, PageNumber=page + 1))
                assert (extra.TelCdrList or []) == []
                totals.append(extra.TotalCount)
            return sids, times, totals
        page += 1
        assert page < 1000, "paging does not end"


# --------------------------------------------------------------------------- success


@pytest.mark.parametrize("sign,method", COMBOS)
def test_paging_concatenates_to_expected_order(world, records_a, scenario, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    params = dict(SdkAppId=world["sdk_app_a"], **scenario["paging"])
    exp = expect.expected(records_a, world["sdk_app_a"], params["StartTimeStamp"], params["EndTimeStamp"])
    assert len(exp) > 3 * 37, "the paging window should span several pages"
    assert exp[0]["Time"] == params["EndTimeStamp"] and exp[-1]["Time"] == params["StartTimeStamp"]
    sids, times, totals = page_through(client, params, 37)
    assert set(totals) == {len(exp)}, f"TotalCount per page {totals}, expected {len(exp)}"
    assert sids == [r["SessionId"] for r in exp]
    assert times == [r["Time"] for r in exp]


@pytest.mark.parametrize("sign,method", COMBOS)
def test_filters_phones_and_session_ids(world, records_a, scenario, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    f = scenario["filters"]
    app = world["sdk_app_a"]

    # two phones, spelled differently from the stored numbers
    p = {"SdkAppId": app, "StartTimeStamp": f["StartTimeStamp"], "EndTimeStamp": f["EndTimeStamp"],
         "Phones": f["Phones"]}
    exp = expect.expected(records_a, app, f["StartTimeStamp"], f["EndTimeStamp"], phones=f["Phones"])
    assert exp, "the phone filter should match something"
    sids, _, totals = page_through(client, p, 100)
    assert set(totals) == {len(exp)}
    assert sids == [r["SessionId"] for r in exp]

    # the rare phone alone, in yet another spelling
    rare = expect.spellings(scenario["rare"])[1]
    exp_rare = expect.expected(records_a, app, f["StartTimeStamp"], f["EndTimeStamp"], phones=[rare])
    resp = describe(client, dict(p, Phones=[rare], PageSize=100, PageNumber=0))
    assert resp.TotalCount == len(exp_rare) >= 1
    assert [c.SessionId for c in resp.TelCdrList] == [r["SessionId"] for r in exp_rare]

    # session ids alone
    q = {"SdkAppId": app, "StartTimeStamp": f["StartTimeStamp"], "EndTimeStamp": f["EndTimeStamp"],
         "SessionIds": f["SessionIds"], "PageSize": 100, "PageNumber": 0}
    exp_s = expect.expected(records_a, app, f["StartTimeStamp"], f["EndTimeStamp"], session_ids=f["SessionIds"])
    resp = describe(client, q)
    assert resp.TotalCount == len(exp_s) == len(f["SessionIds"]) - 2  # tenant B's and the unknown id drop out
    assert [c.SessionId for c in resp.TelCdrList] == [r["SessionId"] for r in exp_s]

    # phones AND session ids
    both = dict(q, Phones=f["Phones"])
    exp_b = expect.expected(records_a, app, f["StartTimeStamp"], f["EndTimeStamp"], phones=f["Phones"],
                            session_ids=f["SessionIds"])
    assert 1 <= len(exp_b) < len(exp_s)
    resp = describe(client, both)
    assert resp.TotalCount == len(exp_b)
    assert [c.SessionId for c in resp.TelCdrList] == [r["SessionId"] for r in exp_b]


def test_tenant_b_sees_only_its_records(world, records_b):
    client = make_client(world, world["key_b"])
    now = world["now"]
    params = {"SdkAppId": world["sdk_app_b"], "StartTimeStamp": now - 30 * DAY, "EndTimeStamp": now}
    exp = expect.expected(records_b, world["sdk_app_b"], now - 30 * DAY, now)
    sids, _, totals = page_through(client, params, 100)
    assert set(totals) == {len(exp)} and len(exp) == len(records_b)
    assert sids == [r["SessionId"] for r in exp]


def test_page_past_the_end_is_empty_with_exact_total(world, records_a, scenario):
    client = make_client(world, world["key_a"])
    params = dict(SdkAppId=world["sdk_app_a"], **scenario["paging"], PageSize=100, PageNumber=500)
    exp = expect.expected(records_a, world["sdk_app_a"], params["StartTimeStamp"], params["EndTimeStamp"])
    r = raw_call(client, params)
    assert r["TotalCount"] == len(exp)
    assert r["TelCdrList"] == []


def test_deprecated_limit_offset_instanceid_are_ignored(world, records_a, scenario):
    client = make_client(world, world["key_a"])
    params = dict(SdkAppId=world["sdk_app_a"], **scenario["paging"], PageSize=20, PageNumber=1)
    plain = raw_call(client, params)
    with_old = raw_call(client, dict(params, Limit=3, Offset=7, InstanceId=12345))
    assert [c["SessionId"] for c in with_old["TelCdrList"]] == [c["SessionId"] for c in plain["TelCdrList"]]
    assert with_old["TotalCount"] == plain["TotalCount"]


def test_span_just_under_90_days_is_accepted(world, records_a):
    client = make_client(world, world["key_a"])
    now = world["now"]
    params = base_params(world, StartTimeStamp=now - 90 * DAY + 1, EndTimeStamp=now, PageSize=1)
    resp = describe(client, params)
    assert resp.TotalCount == len(expect.expected(records_a, world["sdk_app_a"], now - 90 * DAY + 1, now))


@pytest.mark.parametrize("sign,method", COMBOS)
def test_every_field_has_its_json_type(world, records_a, sign, method):
    """Raw JSON through client.call: documented fields present with their JSON
    types, and every generated (non-URL) field comes back unchanged."""
    client = make_client(world, world["key_a"], sign, method)
    now = world["now"]
    resp = raw_call(client, base_params(world, StartTimeStamp=now - 19 * DAY, PageSize=100, PageNumber=2))
    assert len(resp["TelCdrList"]) == 100
    problems = schema.response_problems(resp)
    assert not problems, "\n".join(problems[:40])
    assert "TelCdrs" not in resp, "the deprecated duplicate TelCdrs should not be returned (design.md 3)"
    by_sid = {r["SessionId"]: r for r in records_a}
    for cdr in resp["TelCdrList"]:
        gen = by_sid[cdr["SessionId"]]
        for k, v in gen.items():
            if k == "SdkAppId" or k in schema.URL_FIELDS or v is None:
                continue
            assert cdr.get(k) == v, f"{cdr['SessionId']}.{k}: generated {v!r}, served {cdr.get(k)!r}"


def test_model_round_trip_keeps_every_field(world):
    """The SDK's own model deserializes the served documented fields unchanged."""
    client = make_client(world, world["key_a"])
    params = base_params(world, PageSize=20)
    raw = raw_call(client, params)
    model = describe(client, params)
    assert model.TotalCount == raw["TotalCount"]
    served = model._serialize()
    assert len(served["TelCdrList"]) == len(raw["TelCdrList"])
    for i, cdr in enumerate(raw["TelCdrList"]):
        got = served["TelCdrList"][i]
        assert got["SessionId"] == cdr["SessionId"]
        for k in schema.TEL_CDR_INFO:
            if k in schema.URL_FIELDS or cdr.get(k) is None or k not in got:
                continue
            assert got[k] == cdr[k], f"{cdr['SessionId']}.{k}: raw {cdr[k]!r}, model {got[k]!r}"


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_language_zh_cn_gives_chinese_message(world, sign):
    client = make_client(world, world["key_a"], sign, language="zh-CN")
    with pytest.raises(TencentCloudSDKException) as ei:
        describe(client, base_params(world, PageSize=101))
    assert ei.value.code == "InvalidParameterValue"
    assert CJK.search(ei.value.message), f"expected a Chinese message, got {ei.value.message!r}"


@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_language_en_us_gives_english_message(world, sign):
    client = make_client(world, world["key_a"], sign, language="en-US")
    with pytest.raises(TencentCloudSDKException) as ei:
        describe(client, base_params(world, PageSize=101))
    e = ei.value
    assert e.code == "InvalidParameterValue"
    assert not CJK.search(e.message), e.message
    assert "PageSize" in e.message and "101" in e.message and "100" in e.message, e.message


# --------------------------------------------------------------------------- errors


def _wrong_secret_key(world):
    k = world["key_a"]
    return {"SecretId": k["SecretId"], "SecretKey": k["SecretKey"][::-1] + "x"}


def _unknown_key(world):
    return {"SecretId": "AKID" + uuid.uuid4().hex.upper(), "SecretKey": uuid.uuid4().hex}


class _OldClock:
    """Stands in for the time module inside the SDK's signer: an hour ago."""

    @staticmethod
    def time():
        return time.time() - 3600


def _err(world, name):
    """Each error case: (key, params, action, client class, expected code, needs old clock)."""
    now = world["now"]
    a = world["key_a"]
    p = base_params(world)
    no_page_size = {k: v for k, v in p.items() if k != "PageSize"}
    cases = {
        "bad-signature": (_wrong_secret_key(world), p, "DescribeTelCdr", None, "AuthFailure.SignatureFailure", False),
        "expired-timestamp": (a, p, "DescribeTelCdr", None, "AuthFailure.SignatureExpire", True),
        "unknown-key": (_unknown_key(world), p, "DescribeTelCdr", None, "AuthFailure.SecretIdNotFound", False),
        "other-tenant": (a, dict(p, SdkAppId=world["sdk_app_b"]), "DescribeTelCdr", None,
                         "InvalidParameterValue.InstanceNotExist", False),
        "nonexistent-sdkappid": (a, dict(p, SdkAppId=1400012345), "DescribeTelCdr", None,
                                 "InvalidParameterValue.InstanceNotExist", False),
        "pagesize-101": (a, dict(p, PageSize=101), "DescribeTelCdr", None, "InvalidParameterValue", False),
        "pagesize-0": (a, dict(p, PageSize=0), "DescribeTelCdr", None, "InvalidParameterValue", False),
        "pagenumber-negative": (a, dict(p, PageNumber=-1), "DescribeTelCdr", None, "InvalidParameterValue", False),
        "span-90-days": (a, dict(p, StartTimeStamp=now - 90 * DAY, EndTimeStamp=now), "DescribeTelCdr", None,
                         "InvalidParameterValue", False),
        "end-before-start": (a, dict(p, StartTimeStamp=now - DAY, EndTimeStamp=now - 2 * DAY), "DescribeTelCdr",
                             None, "InvalidParameterValue", False),
        "lookback-181-days": (a, dict(p, StartTimeStamp=now - 181 * DAY, EndTimeStamp=now - 180 * DAY + 3600),
                              "DescribeTelCdr", None, "InvalidParameterValue", False),
        "missing-pagesize": (a, no_page_size, "DescribeTelCdr", None, "MissingParameter", False),
        "unknown-parameter": (a, dict(p, Foo=1), "DescribeTelCdr", None, "UnknownParameter", False),
        "wrong-type": (a, dict(p, PageSize="abc"), "DescribeTelCdr", None, "InvalidParameter", False),
        "unknown-action": (a, p, "DescribeNothing", None, "InvalidAction", False),
        "wrong-version": (a, p, "DescribeTelCdr", OtherVersionCccClient, "NoSuchVersion", False),
    }
    return cases[name]


ERROR_CASES = ["bad-signature", "expired-timestamp", "unknown-key", "other-tenant", "nonexistent-sdkappid",
               "pagesize-101", "pagesize-0", "pagenumber-negative", "span-90-days", "end-before-start",
               "lookback-181-days", "missing-pagesize", "unknown-parameter", "wrong-type", "unknown-action",
               "wrong-version"]


@pytest.mark.parametrize("case", ERROR_CASES)
@pytest.mark.parametrize("sign,method", COMBOS)
def test_error_codes(world, monkeypatch, sign, method, case):
    key, params, action, cls, code, old_clock = _err(world, case)
    client = make_client(world, key, sign, method, cls=cls or ccc_client.CccClient)
    if old_clock:
        # the SDK reads the clock as abstract_client.time.time(); an hour-old
        # timestamp is signed correctly, just too old
        monkeypatch.setattr(abstract_client, "time", _OldClock)
    with pytest.raises(TencentCloudSDKException) as ei:
        client.call(action, params)
    e = ei.value
    assert e.code == code, f"{case}: expected {code}, got {e.code}: {e.message}"
    assert e.message, "an error carries a message"
    assert e.requestId, "an error carries a RequestId"


@pytest.mark.parametrize("sign,method", COMBOS)
def test_typed_model_call_raises_too(world, sign, method):
    """The generated DescribeTelCdr method (not only client.call) raises."""
    client = make_client(world, world["key_a"], sign, method)
    with pytest.raises(TencentCloudSDKException) as ei:
        describe(client, base_params(world, SdkAppId=world["sdk_app_b"]))
    assert ei.value.code == "InvalidParameterValue.InstanceNotExist"


def test_disabled_key_is_unknown(world):
    """keys disable: the key's requests get AuthFailure.SecretIdNotFound
    (uses a fresh key so the shared ones stay usable)."""
    import subprocess
    from telcdr_world import binary_env
    out = subprocess.run([world["binary"], *world["main"]["store_args"], "keys", "create",
                          "--sdk-app-id", str(world["sdk_app_a"]), "--json"],
                         capture_output=True, text=True, timeout=60, env=binary_env())
    assert out.returncode == 0, out.stderr
    key = json.loads([l for l in out.stdout.splitlines() if l.strip()][-1])
    client = make_client(world, key)
    assert describe(client, base_params(world, PageSize=1)).TotalCount >= 0
    dis = subprocess.run([world["binary"], *world["main"]["store_args"], "keys", "disable",
                          key["SecretId"]], capture_output=True, text=True, timeout=60, env=binary_env())
    assert dis.returncode == 0, dis.stderr
    deadline = time.time() + 10
    while True:
        try:
            describe(client, base_params(world, PageSize=1))
        except TencentCloudSDKException as e:
            assert e.code == "AuthFailure.SecretIdNotFound", e
            break
        assert time.time() < deadline, "a disabled key still works after 10 s"
        time.sleep(0.2)


# --------------------------------------------------------------------------- rate limit


@pytest.mark.parametrize("sign,method", [pytest.param("TC3-HMAC-SHA256", "POST", id="TC3-POST"),
                                         pytest.param("HmacSHA1", "GET", id="HmacSHA1-GET")])
def test_burst_over_rate_limit(world, sign, method):
    limit = world["rl"]["per_second"]
    client = make_client(world, world["key_rl"], sign, method, server="rl")
    params = base_params(world, StartTimeStamp=world["now"] - 2 * DAY, PageSize=5)
    time.sleep(1.2)  # a fresh second for this test's bucket
    ok, limited, other = 0, 0, []
    t0 = time.monotonic()
    for _ in range(4 * limit):
        try:
            describe(client, params)
            ok += 1
        except TencentCloudSDKException as e:
            if e.code == "RequestLimitExceeded":
                limited += 1
                assert e.requestId
            else:
                other.append(e.code)
    elapsed = time.monotonic() - t0
    assert not other, other
    assert ok >= 1, "the first requests of a burst are served"
    if elapsed < 1.0:
        assert limited >= 1, f"{4 * limit} requests in {elapsed:.2f}s at {limit}/s: none was limited"
        assert ok <= 2 * limit, f"{ok} of a {4 * limit}-request burst served at {limit}/s"
    # after a pause the key is served again
    time.sleep(1.5)
    assert describe(client, params).TotalCount >= 0


# --------------------------------------------------------------------------- other request forms


@pytest.mark.parametrize("method", HTTP_METHODS)
def test_tc3_unsigned_payload(world, records_a, scenario, method):
    """ClientProfile.unsignedPayload: X-TC-Content-SHA256: UNSIGNED-PAYLOAD."""
    client = make_client(world, world["key_a"], "TC3-HMAC-SHA256", method)
    client.profile.unsignedPayload = True
    f = scenario["filters"]
    params = {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": f["StartTimeStamp"],
              "EndTimeStamp": f["EndTimeStamp"], "Phones": f["Phones"], "PageSize": 100, "PageNumber": 0}
    exp = expect.expected(records_a, world["sdk_app_a"], f["StartTimeStamp"], f["EndTimeStamp"], phones=f["Phones"])
    r = raw_call(client, params)
    assert r["TotalCount"] == len(exp)
    assert [c["SessionId"] for c in r["TelCdrList"]] == [x["SessionId"] for x in exp[:100]]


def test_tc3_multipart(world, records_a, scenario):
    """The SDK's multipart/form-data form (options IsMultipart), TC3 POST."""
    client = make_client(world, world["key_a"])
    f = scenario["filters"]
    params = {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": f["StartTimeStamp"],
              "EndTimeStamp": f["EndTimeStamp"], "Phones": f["Phones"], "SessionIds": f["SessionIds"],
              "PageSize": 100, "PageNumber": 0}
    exp = expect.expected(records_a, world["sdk_app_a"], f["StartTimeStamp"], f["EndTimeStamp"],
                          phones=f["Phones"], session_ids=f["SessionIds"])
    # the SDK's multipart encoder takes scalars only as text (an int raises
    # TypeError inside the SDK), so they travel as "1400000000" etc.
    params = {k: (str(v) if isinstance(v, int) else v) for k, v in params.items()}
    r = json.loads(client.call("DescribeTelCdr", params, options={"IsMultipart": True}))["Response"]
    assert "Error" not in r, r
    assert r["TotalCount"] == len(exp)
    assert [c["SessionId"] for c in r["TelCdrList"]] == [x["SessionId"] for x in exp]


def test_common_client_call_json(world, records_a, scenario):
    """tencentcloud.common.CommonClient, the product-agnostic client."""
    from tencentcloud.common.common_client import CommonClient
    hp = HttpProfile(protocol="http", endpoint=world["main"]["endpoint"])
    cred = credential.Credential(world["key_a"]["SecretId"], world["key_a"]["SecretKey"])
    client = CommonClient("ccc", "2020-02-10", cred, "ap-guangzhou", profile=ClientProfile(httpProfile=hp))
    params = dict(SdkAppId=world["sdk_app_a"], **scenario["paging"], PageSize=50, PageNumber=1)
    exp = expect.expected(records_a, world["sdk_app_a"], params["StartTimeStamp"], params["EndTimeStamp"])
    r = client.call_json("DescribeTelCdr", params)["Response"]
    assert r["TotalCount"] == len(exp)
    assert [c["SessionId"] for c in r["TelCdrList"]] == [x["SessionId"] for x in exp[50:100]]
