"""tccli against telcdr.

tccli always sends POST + TC3-HMAC-SHA256 (it has no option for GET or the
v1 signatures), and reaches plain HTTP only through a scheme-bearing endpoint
(`--endpoint http://127.0.0.1:PORT`), which makes it send and sign the
literal header `Host: http://127.0.0.1:PORT`. Credentials come from
TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY or --secretId/--secretKey.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest

import expect

DAY = 86400


def tccli(world, venv_bin, home, args, key=None, key_flags=False, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env["HOME"] = str(home)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.pop(k, None)
    cmd = [str(venv_bin / "tccli"), "ccc", "DescribeTelCdr",
           "--endpoint", "http://" + world["main"]["endpoint"], "--region", "ap-guangzhou"]
    if key is not None:
        if key_flags:
            cmd += ["--secretId", key["SecretId"], "--secretKey", key["SecretKey"]]
        else:
            env["TENCENTCLOUD_SECRET_ID"] = key["SecretId"]
            env["TENCENTCLOUD_SECRET_KEY"] = key["SecretKey"]
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def ok_json(proc):
    assert proc.returncode == 0, f"tccli exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return json.loads(proc.stdout)


def test_paging_with_env_credentials(world, records_a, scenario, venv_bin, tccli_home):
    p = scenario["paging"]
    # a narrower window than the SDK tests: each tccli run is a Python start-up
    exp_all = expect.expected(records_a, world["sdk_app_a"], p["StartTimeStamp"], p["EndTimeStamp"])
    start = exp_all[min(150, len(exp_all) - 1)]["Time"]
    end = p["EndTimeStamp"]
    exp = expect.expected(records_a, world["sdk_app_a"], start, end)
    size = 60
    assert len(exp) > 2 * size
    got = []
    for page in range((len(exp) + size - 1) // size):
        out = ok_json(tccli(world, venv_bin, tccli_home,
                            ["--SdkAppId", world["sdk_app_a"], "--StartTimeStamp", start, "--EndTimeStamp", end,
                             "--PageSize", size, "--PageNumber", page], key=world["key_a"]))
        assert out["TotalCount"] == len(exp)
        assert out["RequestId"]
        got += [c["SessionId"] for c in out["TelCdrList"]]
    assert got == [r["SessionId"] for r in exp]


def test_filters_with_flag_credentials(world, records_a, scenario, venv_bin, tccli_home):
    f = scenario["filters"]
    out = ok_json(tccli(world, venv_bin, tccli_home,
                        ["--SdkAppId", world["sdk_app_a"], "--StartTimeStamp", f["StartTimeStamp"],
                         "--EndTimeStamp", f["EndTimeStamp"], "--PageSize", 100, "--PageNumber", 0,
                         "--Phones", json.dumps(f["Phones"]), "--SessionIds", json.dumps(f["SessionIds"])],
                        key=world["key_a"], key_flags=True))
    exp = expect.expected(records_a, world["sdk_app_a"], f["StartTimeStamp"], f["EndTimeStamp"],
                          phones=f["Phones"], session_ids=f["SessionIds"])
    assert exp
    assert out["TotalCount"] == len(exp)
    assert [c["SessionId"] for c in out["TelCdrList"]] == [r["SessionId"] for r in exp]

    rare = expect.spellings(scenario["rare"])[2]
    out = ok_json(tccli(world, venv_bin, tccli_home,
                        ["--SdkAppId", world["sdk_app_a"], "--StartTimeStamp", f["StartTimeStamp"],
                         "--EndTimeStamp", f["EndTimeStamp"], "--PageSize", 100, "--PageNumber", 0,
                         "--Phones", json.dumps([rare])], key=world["key_a"]))
    exp = expect.expected(records_a, world["sdk_app_a"], f["StartTimeStamp"], f["EndTimeStamp"], phones=[rare])
    assert out["TotalCount"] == len(exp) >= 1
    assert [c["SessionId"] for c in out["TelCdrList"]] == [r["SessionId"] for r in exp]


def _bad_secret(world):
    k = world["key_a"]
    return {"SecretId": k["SecretId"], "SecretKey": k["SecretKey"][::-1] + "x"}


@pytest.mark.parametrize("case,code", [
    ("bad-signature", "AuthFailure.SignatureFailure"),
    ("unknown-key", "AuthFailure.SecretIdNotFound"),
    ("pagesize-101", "InvalidParameterValue"),
    ("other-tenant", "InvalidParameterValue.InstanceNotExist"),
])
def test_errors(world, venv_bin, tccli_home, case, code):
    now = world["now"]
    key = world["key_a"]
    args = {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": now - DAY, "EndTimeStamp": now,
            "PageSize": 10, "PageNumber": 0}
    if case == "bad-signature":
        key = _bad_secret(world)
    elif case == "unknown-key":
        key = {"SecretId": "AKID" + uuid.uuid4().hex.upper(), "SecretKey": uuid.uuid4().hex}
    elif case == "pagesize-101":
        args["PageSize"] = 101
    elif case == "other-tenant":
        args["SdkAppId"] = world["sdk_app_b"]
    flat = [x for k, v in args.items() for x in (f"--{k}", v)]
    proc = tccli(world, venv_bin, tccli_home, flat, key=key)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"tccli exited 0 on {case}:\n{text}"
    assert re.search(r"code:" + re.escape(code) + r"(\s|$)", text), f"{code} not in tccli output:\n{text}"
