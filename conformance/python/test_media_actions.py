"""Media links and the record actions beyond DescribeTelCdr, through the
official Python SDK (tencentcloud-sdk-python-ccc).

The world (telcdr_world.build_media) wrote recordings, a participant leg's
recording, transcripts and a voicemail for a few tenant-A records, imported
them with ``telcdr import --media``, re-imported one record with ``Events``,
and gave tenant C (its own key) records whose media arrived before them.
Every expected value here is computed from those files and the JSONL.

* signed /media links in DescribeTelCdr, DescribeSessionDetail: the bytes
  written, the right Content-Type, Range (206, 416), tampered / unsigned /
  re-dated links (403), a deleted object (404); objects telcdr does not
  hold keep the URL that came with the record;
* DescribeProtectedTelCdr, DescribeTelSession, DescribeSessionDetail,
  DescribeTelRecordAsr, DescribeTelCallInfo: values, strict JSON types of
  the raw answer (schema.py), the SDK's own models, their error codes;
* number protection switched on and off for tenant C (restored whatever
  happens);
* DescribeCallInMetrics and DescribePSTNActiveSessionList: UnsupportedOperation
  after the parameter and tenancy checks;
* InvalidParameterValue.InstanceNotExist on every action for another
  account's SdkAppId.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from tencentcloud.ccc.v20200210 import models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

import expect
import schema
from telcdr_world import binary_env, record_id_counts
from test_python_sdk import COMBOS, DAY, make_client

HEX32 = re.compile(r"^[0-9a-f]{32}$")
LINK_TTL = 86400
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".json": "application/json"}


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="session")
def media(world):
    return world["media"]


@pytest.fixture(scope="session")
def by_sid_a(records_a):
    return {r["SessionId"]: r for r in records_a}


@pytest.fixture(scope="session")
def records_c(world):
    recs = expect.load_jsonl(world["jsonl_c"])
    assert recs and all(r["SdkAppId"] == world["sdk_app_c"] for r in recs)
    return recs


@pytest.fixture(scope="session")
def by_sid_c(records_c):
    return {r["SessionId"]: r for r in records_c}


@pytest.fixture(scope="session")
def records_d(world):
    recs = expect.load_jsonl(world["jsonl_d"])
    assert recs and all(r["SdkAppId"] == world["sdk_app_d"] for r in recs)
    return recs


def files_of(media, session_id, kind=None):
    return [f for f in media["files"] if f["session_id"] == session_id and (kind is None or f["kind"] == kind)]


def one_file(media, session_id, kind):
    found = files_of(media, session_id, kind)
    assert len(found) == 1, (session_id, kind, found)
    return found[0]


def raw(client, action, params):
    """The raw ``Response`` object of a successful call (client.call raises
    TencentCloudSDKException on an error answer)."""
    return json.loads(client.call(action, params))["Response"]


def error_of(client, action, params) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as ei:
        client.call(action, params)
    e = ei.value
    assert e.message and e.requestId, (e.code, e.message, e.requestId)
    return e


def cdr_of(client, app, record):
    """The served TelCdrInfo of one record (raw JSON)."""
    r = raw(client, "DescribeTelCdr", {"SdkAppId": app, "StartTimeStamp": record["Time"],
                                       "EndTimeStamp": record["Time"], "SessionIds": [record["SessionId"]],
                                       "PageSize": 10, "PageNumber": 0})
    assert r["TotalCount"] == 1 and len(r["TelCdrList"]) == 1, r
    problems = schema.response_problems(r)
    assert not problems, "\n".join(problems)
    return r["TelCdrList"][0]


def detail_params(app, record, **over):
    p = {"SdkAppId": app, "SessionId": record["SessionId"], "StartTimestamp": record["Time"] - 3600,
         "EndTimestamp": record["Time"] + 3600}
    p.update(over)
    return p


def fetch(url, headers=None):
    """GET a URL: (status, headers, body), never raising on HTTP errors."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with NO_PROXY.open(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def media_path(app, name):
    """The path of a link: the SdkAppId and the file's name (links name the
    object, not where the store keeps it)."""
    return f"/media/{app}/{name}"


def stored_key(app, time_s, name):
    """Where the media store keeps an object: its dated key."""
    d = datetime.fromtimestamp(time_s, timezone.utc)
    return f"{app}/{d:%Y}/{d:%m}/{d:%d}/{name}"


def assert_link(world, url, app, record, file):
    """``url`` is a signed link to ``file`` of ``record``: this server, the
    object's path, Expires about 24 h ahead, a Signature."""
    assert isinstance(url, str) and url, f"expected a link for {file['name']}, got {url!r}"
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == world["main"]["endpoint"], url
    assert parts.path == media_path(app, file["name"]), url
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"Expires", "Signature"}, url
    assert abs(int(query["Expires"]) - (time.time() + LINK_TTL)) < 600, url
    assert query["Signature"], url


def assert_serves(url, file):
    status, headers, body = fetch(url)
    assert status == 200, (status, body[:200])
    assert body == Path(file["path"]).read_bytes(), f"{file['name']}: served bytes differ from the file written"
    ext = ".json" if file["name"].endswith(".json") else Path(file["name"]).suffix
    assert headers.get("Content-Type", "").split(";")[0].strip() == CONTENT_TYPES[ext], headers.get("Content-Type")
    return body


def transcript_minutes(file) -> int:
    sentences = json.loads(Path(file["path"]).read_text(encoding="utf-8"))
    if not sentences:
        return 0
    span = max(s["End"] for s in sentences) - min(s["Start"] for s in sentences)
    return math.ceil(span / 60000) if span > 0 else 0


def expected_call_info(records, files, apps, start, end):
    """DescribeTelCallInfo computed from the JSONL and the transcripts written."""
    out = inn = audio = asr = 0
    seats = set()
    sessions = set()
    for r in records:
        if r["SdkAppId"] not in apps or not (start <= r["Time"] <= end):
            continue
        sessions.add((r["SdkAppId"], r["SessionId"]))
        for mail in [r["SeatUser"]["Mail"]] + [p["Mail"] for p in r["ServeParticipants"]]:
            if mail:
                seats.add(mail)
        if r["AcceptTimestamp"] <= 0:
            continue
        minutes = math.ceil(r["Duration"] / 60) if r["Duration"] > 0 else 0
        call_type = r.get("CallType", 0)
        if call_type in (1, 5) or (call_type == 0 and r["Direction"] == 1):
            out += minutes
        elif call_type in (3, 6):
            audio += minutes
        else:
            inn += minutes
    for f in files:
        if f["name"].endswith(".asr.json") and (f["sdk_app_id"], f["session_id"]) in sessions:
            asr += transcript_minutes(f)
    return {"TelCallOutCount": out, "TelCallInCount": inn, "SeatUsedCount": len(seats),
            "VoipCallInCount": audio, "VOIPCallInCount": audio, "AsrOfflineCount": asr,
            "AsrRealtimeCount": 0}


def cli(world, *args):
    proc = subprocess.run([world["binary"], *world["main"]["store_args"], *args],
                          capture_output=True, text=True, timeout=120, env=binary_env())
    assert proc.returncode == 0, f"telcdr {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def wait_for(what, check, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.time() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


# --------------------------------------------------------------------------- the data itself


def test_generated_record_ids_are_unique(world, records_a, records_b, records_c, records_d):
    """Every RecordId (a record's own or a participant leg's) names one
    recording. A media file is matched to its record by this id, so a
    RecordId shared by two calls attaches one call's recording to the other."""
    counts = record_id_counts(records_a, records_b, records_c, records_d)
    shared = sorted(i for i, n in counts.items() if n > 1)
    assert not shared, (f"{len(shared)} RecordIds occur in more than one place in the generated data, "
                        f"e.g. {shared[:3]}")


# --------------------------------------------------------------------------- links in DescribeTelCdr


@pytest.mark.parametrize("sign,method", [pytest.param("TC3-HMAC-SHA256", "POST", id="TC3-POST"),
                                         pytest.param("HmacSHA1", "GET", id="HmacSHA1-GET")])
def test_held_media_are_signed_links_and_the_rest_is_unchanged(world, media, by_sid_a, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    app = world["sdk_app_a"]
    picks = media["picks"]
    for key in ("main", "mp3", "asr_only", "gone", "voicemail"):
        gen = by_sid_a[picks[key]]
        cdr = cdr_of(client, app, gen)
        held = files_of(media, gen["SessionId"])
        names = {f["kind"] for f in held}

        # the record's own recording
        own = [f for f in held if f["kind"] == "recording"]
        if own:
            assert_link(world, cdr["RecordURL"], app, gen, own[0])
            if key != "gone":
                assert_serves(cdr["RecordURL"], own[0])
        else:
            assert cdr["RecordURL"] == gen["RecordURL"], f"{key}: RecordURL of a recording not held changed"
        # participant legs: the held one links, the others keep their URL
        legs = {f["record_id"]: f for f in held if f["kind"] == "leg"}
        assert len(cdr["ServeParticipants"]) == len(gen["ServeParticipants"])
        for served, orig in zip(cdr["ServeParticipants"], gen["ServeParticipants"]):
            assert served["RecordId"] == orig["RecordId"]
            if orig["RecordId"] in legs:
                assert_link(world, served["RecordURL"], app, gen, legs[orig["RecordId"]])
                assert_serves(served["RecordURL"], legs[orig["RecordId"]])
            else:
                assert served["RecordURL"] == orig["RecordURL"], f"{key}: a leg not held changed its RecordURL"
            assert served["CustomRecordURL"] == orig["CustomRecordURL"]
            assert {k: v for k, v in served.items() if k != "RecordURL"} == \
                   {k: v for k, v in orig.items() if k != "RecordURL"}
        # the transcript
        if "transcript" in names:
            f = one_file(media, gen["SessionId"], "transcript")
            assert_link(world, cdr["AsrUrl"], app, gen, f)
            assert_serves(cdr["AsrUrl"], f)
            assert cdr["AsrStatus"] == "Complete"
        else:
            assert cdr["AsrUrl"] == gen["AsrUrl"] and cdr["AsrStatus"] == gen["AsrStatus"], key
        # voicemail and its transcript at index 0; later entries as generated
        if "voicemail" in names:
            f = one_file(media, gen["SessionId"], "voicemail")
            t = one_file(media, gen["SessionId"], "voicemail_transcript")
            assert len(cdr["VoicemailRecordURL"]) == max(1, len(gen["VoicemailRecordURL"]))
            assert_link(world, cdr["VoicemailRecordURL"][0], app, gen, f)
            assert_serves(cdr["VoicemailRecordURL"][0], f)
            assert cdr["VoicemailRecordURL"][1:] == gen["VoicemailRecordURL"][1:]
            assert_link(world, cdr["VoicemailAsrURL"][0], app, gen, t)
            assert_serves(cdr["VoicemailAsrURL"][0], t)
        else:
            assert cdr["VoicemailRecordURL"] == gen["VoicemailRecordURL"], key
            assert cdr.get("VoicemailAsrURL", []) == gen.get("VoicemailAsrURL", []), key
        # every other field as generated; Events (DescribeSessionDetail's) not here
        assert cdr["CustomRecordURL"] == gen["CustomRecordURL"]
        for k, v in gen.items():
            if k in ("SdkAppId", "ServeParticipants", "AsrStatus") or k in schema.URL_FIELDS:
                continue
            assert cdr.get(k) == v, f"{key}.{k}: generated {v!r}, served {cdr.get(k)!r}"
        assert "Events" not in cdr, "DescribeTelCdr must not return the imported Events"


def test_pages_with_held_media_keep_their_types_and_order(world, media, records_a):
    """Every page of the day around the media records: same order and totals
    as without media, every field typed, links exactly where media are held."""
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    picks = media["picks"]
    times = [r["Time"] for r in records_a if r["SessionId"] in (picks["main"], picks["mp3"], picks["asr_only"],
                                                                picks["gone"])]
    start, end = min(times) - 600, max(times) + 600
    exp = expect.expected(records_a, app, start, end)
    held = {f["session_id"] for f in media["files"] if f["sdk_app_id"] == app}
    served = []
    for page in range(len(exp) // 100 + 1):
        r = raw(client, "DescribeTelCdr", {"SdkAppId": app, "StartTimeStamp": start, "EndTimeStamp": end,
                                           "PageSize": 100, "PageNumber": page})
        problems = schema.response_problems(r)
        assert not problems, "\n".join(problems[:40])
        assert r["TotalCount"] == len(exp)
        served += r["TelCdrList"]
    assert [c["SessionId"] for c in served] == [x["SessionId"] for x in exp]
    assert sum(c["SessionId"] in held for c in served) >= 4
    for c in served:
        has_link = "/media/" in json.dumps(c)
        assert has_link == (c["SessionId"] in held), c["SessionId"]


def test_pending_media_are_linked_when_their_record_arrives(world, media, by_sid_c):
    """Tenant C's files were imported before its records: once the records
    arrived, their links serve the files."""
    client = make_client(world, world["key_c"])
    gen = by_sid_c[media["picks"]["pending"]]
    cdr = cdr_of(client, world["sdk_app_c"], gen)
    assert_serves(cdr["RecordURL"], one_file(media, gen["SessionId"], "recording"))
    assert_serves(cdr["AsrUrl"], one_file(media, gen["SessionId"], "transcript"))
    assert cdr["AsrStatus"] == "Complete"
    r = raw(client, "DescribeTelRecordAsr", {"SdkAppId": world["sdk_app_c"], "SessionId": gen["SessionId"]})
    assert r["AsrDataList"] == json.loads(Path(one_file(media, gen["SessionId"], "transcript")["path"]).read_text())


def test_pending_media_are_filed_under_the_records_date(world, media, by_sid_c):
    """Once its record arrived, a file that came first is linked like any
    other and filed under the record's dated key
    (<sdk>/<yyyy>/<mm>/<dd>/<name>), not left under pending/."""
    client = make_client(world, world["key_c"])
    app = world["sdk_app_c"]
    gen = by_sid_c[media["picks"]["pending"]]
    cdr = cdr_of(client, app, gen)
    for field, kind in (("RecordURL", "recording"), ("AsrUrl", "transcript")):
        f = one_file(media, gen["SessionId"], kind)
        assert_link(world, cdr[field], app, gen, f)
        assert_serves(cdr[field], f)
        store = Path(media["store_dir"])
        if store.is_dir():
            assert (store / stored_key(app, gen["Time"], f["name"])).is_file(), f["name"]
            assert not (store / "pending" / f["name"]).exists(), f["name"]


def test_bad_media_files_are_rejected(world, records_d, tmp_path):
    """import --media: files that are not what their names say are
    rejected with a reason each (exit 2) and nothing of them is served.
    On a tenant-D record, which no other test gives media."""
    gen = next(r for r in records_d if r["AcceptTimestamp"] > 0 and r["RecordId"])
    sid, rid = gen["SessionId"], gen["RecordId"]
    ms = gen["AcceptTimestamp"] * 1000
    bad = {
        f"{rid}.wav": b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00",            # no fmt chunk
        f"{rid}.mp3": b"not an mp3 at all",                                     # no ID3, no frame sync
        f"{sid}.asr.json": json.dumps([{"User": "u", "Message": "m", "Start": gen["AcceptTimestamp"],
                                        "End": gen["AcceptTimestamp"] + 1}]).encode(),  # seconds
        f"{sid}.voicemail.0.asr.json": json.dumps([{"User": "u", "Message": "m", "Start": ms + 5000,
                                                    "End": ms}]).encode(),     # End before Start
        f"{sid}.voicemail.0.wav": b"RIFX....WAVE",                              # not RIFF/WAVE
        "notes.txt": b"x",                                                      # not a media name
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    proc = subprocess.run([world["binary"], *world["main"]["store_args"], "import", "--media", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=binary_env())
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    out = proc.stdout + proc.stderr
    for name in bad:
        assert re.search(re.escape(name) + r".*reject", out), f"{name}: no rejection reason in\n{out}"
    client = make_client(world, world["key_c"])
    cdr = cdr_of(client, world["sdk_app_d"], gen)
    assert (cdr["RecordURL"], cdr["AsrUrl"], cdr["AsrStatus"], cdr["VoicemailRecordURL"]) == \
           (gen["RecordURL"], gen["AsrUrl"], gen["AsrStatus"], gen["VoicemailRecordURL"])
    e = error_of(client, "DescribeTelRecordAsr", {"SdkAppId": world["sdk_app_d"], "SessionId": sid})
    assert e.code == "ResourceNotFound"


# --------------------------------------------------------------------------- the /media route


def _main_recording(world, media, by_sid_a):
    gen = by_sid_a[media["picks"]["main"]]
    f = one_file(media, gen["SessionId"], "recording")
    url = cdr_of(make_client(world, world["key_a"]), world["sdk_app_a"], gen)["RecordURL"]
    return url, f, Path(f["path"]).read_bytes()


def test_range_requests(world, media, by_sid_a):
    url, f, data = _main_recording(world, media, by_sid_a)
    assert len(data) > 200
    cases = [("bytes=10-99", 10, 99), (f"bytes={len(data) - 50}-", len(data) - 50, len(data) - 1),
             ("bytes=-30", len(data) - 30, len(data) - 1), ("bytes=0-0", 0, 0),
             (f"bytes=100-{len(data) + 1000}", 100, len(data) - 1)]
    for header, first, last in cases:
        status, headers, body = fetch(url, {"Range": header})
        assert status == 206, (header, status, body[:200])
        assert body == data[first:last + 1], header
        assert headers.get("Content-Range") == f"bytes {first}-{last}/{len(data)}", (header, headers.get("Content-Range"))
        assert headers.get("Content-Type", "").split(";")[0] == "audio/wav"
        assert int(headers.get("Content-Length")) == last - first + 1
    status, headers, _ = fetch(url)
    assert status == 200 and int(headers.get("Content-Length")) == len(data)
    status, headers, _ = fetch(url, {"Range": f"bytes={len(data) + 10}-"})
    assert status == 416, status


def test_unsigned_tampered_or_redated_links_are_forbidden(world, media, by_sid_a):
    url, f, data = _main_recording(world, media, by_sid_a)
    assert fetch(url)[0] == 200
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))

    def with_query(q, path=None):
        return urlunsplit((parts.scheme, parts.netloc, path or parts.path, urlencode(q), ""))

    sig = query["Signature"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    other = by_sid_a[media["picks"]["mp3"]]
    other_path = media_path(world["sdk_app_a"], one_file(media, other["SessionId"], "recording")["name"])
    forbidden = {
        "unsigned": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "no Signature": with_query({"Expires": query["Expires"]}),
        "no Expires": with_query({"Signature": sig}),
        "tampered Signature": with_query(dict(query, Signature=flipped)),
        # The same bytes in upper-case hex are not the link that was handed out.
        "upper-case Signature": with_query(dict(query, Signature=sig.upper())),
        "Expires moved": with_query(dict(query, Expires=str(int(query["Expires"]) + 3600))),
        "Expires in the past": with_query(dict(query, Expires=str(int(time.time()) - 60))),
        "another object's path": with_query(query, other_path),
    }
    for why, bad in forbidden.items():
        status, _, body = fetch(bad)
        assert status == 403, f"{why}: {status} {body[:200]!r}"
        assert data not in body


def test_a_missing_object_is_404(world, media, by_sid_a):
    """The stored object of the 'gone' record is deleted behind telcdr's
    back: its (valid) link answers 404."""
    gen = by_sid_a[media["picks"]["gone"]]
    f = one_file(media, gen["SessionId"], "recording")
    url = cdr_of(make_client(world, world["key_a"]), world["sdk_app_a"], gen)["RecordURL"]
    assert_link(world, url, world["sdk_app_a"], gen, f)
    assert_serves(url, f)
    stored = Path(media["store_dir"]) / stored_key(world["sdk_app_a"], gen["Time"], f["name"])
    if not stored.is_file():
        pytest.skip(f"the media store is not the local directory {media['store_dir']}")
    stored.unlink()
    status, _, body = fetch(url)
    assert status == 404, (status, body[:200])


# --------------------------------------------------------------------------- DescribeTelSession


def _expected_session(gen, protected=None):
    seat = gen["SeatUser"]
    caller, callee = gen["Caller"], gen["Callee"]
    pc = pce = ""
    if protected:
        pc, pce = protected
        caller = callee = ""
    return {"SessionID": gen["SessionId"], "Caller": caller, "Callee": callee,
            "StartTimestamp": gen["StartTimestamp"], "RingTimestamp": gen["RingTimestamp"],
            "AcceptTimestamp": gen["AcceptTimestamp"], "StaffEmail": seat["Mail"],
            "StaffNumber": seat["StaffNumber"], "SessionStatus": "finished", "Direction": gen["Direction"],
            "ProtectedCaller": pc, "ProtectedCallee": pce}


@pytest.mark.parametrize("sign,method", COMBOS)
def test_describe_tel_session(world, media, by_sid_a, records_a, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    app = world["sdk_app_a"]
    unanswered = next(r for r in records_a if r["AcceptTimestamp"] == 0)
    for gen in (by_sid_a[media["picks"]["main"]], by_sid_a[media["picks"]["voicemail"]], unanswered):
        r = raw(client, "DescribeTelSession", {"SdkAppId": app, "SessionId": gen["SessionId"]})
        problems = schema.tel_session_problems(r)
        assert not problems, "\n".join(problems)
        s = r["Session"]
        for k, v in _expected_session(gen).items():
            assert s[k] == v, f"Session.{k}: expected {v!r}, got {s[k]!r}"
        assert "SessionId" not in s, "PSTNSession spells it SessionID"

    # the SDK's model
    gen = by_sid_a[media["picks"]["main"]]
    req = models.DescribeTelSessionRequest()
    req.from_json_string(json.dumps({"SdkAppId": app, "SessionId": gen["SessionId"]}))
    resp = client.DescribeTelSession(req)
    assert resp.Session.SessionID == gen["SessionId"] and resp.Session.SessionStatus == "finished"
    assert resp.Session.Caller == gen["Caller"] and resp.Session.StartTimestamp == gen["StartTimestamp"]
    assert resp.RequestId


def test_describe_tel_session_errors(world, records_b):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    for sid in ("00000000-0000-4000-8000-000000000000", records_b[0]["SessionId"]):
        e = error_of(client, "DescribeTelSession", {"SdkAppId": app, "SessionId": sid})
        assert e.code == "FailedOperation.SessionNotExists", (sid, e.code, e.message)
    assert error_of(client, "DescribeTelSession", {"SdkAppId": app}).code == "MissingParameter"
    assert error_of(client, "DescribeTelSession", {"SdkAppId": app, "SessionId": "x", "Foo": 1}).code == \
        "UnknownParameter"


# --------------------------------------------------------------------------- DescribeSessionDetail


def check_detail(world, app, d, gen, held, events=()):
    """A DescribeSessionDetail answer against the generated record and the
    media written for it."""
    problems = schema.session_detail_problems(d)
    assert not problems, "\n".join(problems)
    seat = gen["SeatUser"]
    plain = {
        "Caller": gen["Caller"], "Callee": gen["Callee"], "CallType": gen.get("CallType", 0),
        "StartTimeStamp": gen["StartTimestamp"], "RingTimestamp": gen["RingTimestamp"],
        "AcceptTimestamp": gen["AcceptTimestamp"], "EndedTimestamp": gen["EndedTimestamp"],
        "QueuedTimestamp": gen["QueuedTimestamp"], "EndStatus": gen["EndStatus"],
        "QueuedSkillGroupId": gen["QueuedSkillGroupId"], "QueuedSkillGroupName": gen["QueuedSkillGroupName"],
        "CustomRecordURL": gen["CustomRecordURL"], "IVRKeyPressed": gen["IVRKeyPressedEx"],
        "PostIVRKeyPressed": gen["PostIVRKeyPressedEx"], "HungUpSide": gen["HungUpSide"], "UUI": gen["UUI"],
        "Events": list(events), "SysHangupReason": gen.get("SysHangupReason", 0),
        "SysHangupReasonString": gen.get("SysHangupReasonString", ""),
    }
    for k, v in plain.items():
        assert d[k] == v, f"{gen['SessionId']}.{k}: expected {v!r}, got {d[k]!r}"
    assert d["StaffUserId"] == (seat["UserId"] or seat["Mail"])
    kinds = {f["kind"]: f for f in held}
    if "recording" in kinds:
        assert_link(world, d["RecordURL"], app, gen, kinds["recording"])
    else:
        assert d["RecordURL"] == gen["RecordURL"]
    if "transcript" in kinds:
        assert_link(world, d["AsrURL"], app, gen, kinds["transcript"])
        assert_serves(d["AsrURL"], kinds["transcript"])
    else:
        assert d["AsrURL"] == gen["AsrUrl"]
    if "voicemail" in kinds:
        assert_link(world, d["VoicemailRecordURL"][0], app, gen, kinds["voicemail"])
        assert_serves(d["VoicemailRecordURL"][0], kinds["voicemail"])
        assert_link(world, d["VoicemailAsrURL"][0], app, gen, kinds["voicemail_transcript"])
    else:
        assert d["VoicemailRecordURL"] == gen["VoicemailRecordURL"]
    legs = {f["record_id"]: f for f in held if f["kind"] == "leg"}
    assert [p["RecordId"] for p in d["ServeParticipants"]] == [p["RecordId"] for p in gen["ServeParticipants"]]
    for served, orig in zip(d["ServeParticipants"], gen["ServeParticipants"]):
        if orig["RecordId"] in legs:
            assert_link(world, served["RecordURL"], app, gen, legs[orig["RecordId"]])
        else:
            assert served == orig


@pytest.mark.parametrize("sign,method", COMBOS)
def test_describe_session_detail(world, media, by_sid_a, records_a, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    app = world["sdk_app_a"]
    main = by_sid_a[media["picks"]["main"]]
    d = raw(client, "DescribeSessionDetail", detail_params(app, main))
    check_detail(world, app, d, main, files_of(media, main["SessionId"]), media["events"])
    assert d["Events"] and d["Events"][0]["StaffEventDetail"]["Staffs"][0]["Mail"] == main["SeatUser"]["Mail"]
    # a voicemail call, and a call that came without Events and holds no media
    for gen in (by_sid_a[media["picks"]["voicemail"]],
                next(r for r in records_a if r["AcceptTimestamp"] > 0 and r["SessionId"] not in
                     {f["session_id"] for f in media["files"]})):
        d = raw(client, "DescribeSessionDetail", detail_params(app, gen))
        check_detail(world, app, d, gen, files_of(media, gen["SessionId"]))


def test_describe_session_detail_sdk_model(world, media, by_sid_a):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    main = by_sid_a[media["picks"]["main"]]
    req = models.DescribeSessionDetailRequest()
    req.from_json_string(json.dumps(detail_params(app, main)))
    resp = client.DescribeSessionDetail(req)
    assert resp.StartTimeStamp == main["StartTimestamp"]
    assert resp.AsrURL.startswith(world["main"]["url"] + "media/")
    assert [e.EventType for e in resp.Events] == [e["EventType"] for e in media["events"]]
    assert [e.Timestamp for e in resp.Events] == [e["Timestamp"] for e in media["events"]]
    assert resp.Events[0].StaffEventDetail.Staffs[0].StaffNumber == main["SeatUser"]["StaffNumber"]
    assert [k.Key for k in resp.IVRKeyPressed] == [k["Key"] for k in main["IVRKeyPressedEx"]]
    assert [p.RecordId for p in resp.ServeParticipants] == [p["RecordId"] for p in main["ServeParticipants"]]
    assert resp.RequestId


def test_describe_session_detail_window_and_errors(world, media, by_sid_a, records_b):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    main = by_sid_a[media["picks"]["main"]]
    t = main["Time"]
    # both ends inclusive
    assert raw(client, "DescribeSessionDetail", detail_params(app, main, StartTimestamp=t, EndTimestamp=t))[
        "StartTimeStamp"] == main["StartTimestamp"]
    for why, p in {
        "window after the call": detail_params(app, main, StartTimestamp=t + 1, EndTimestamp=t + 3600),
        "window before the call": detail_params(app, main, StartTimestamp=t - 3600, EndTimestamp=t - 1),
        "unknown session": detail_params(app, main, SessionId="00000000-0000-4000-8000-000000000000"),
        "tenant B's session": detail_params(app, dict(records_b[0], Time=records_b[0]["Time"])),
    }.items():
        e = error_of(client, "DescribeSessionDetail", p)
        assert e.code == "FailedOperation.SessionNotExists", f"{why}: {e.code} {e.message}"
    # the TelCdr spelling (capital S) is not this action's
    bad = {"SdkAppId": app, "SessionId": main["SessionId"], "StartTimeStamp": t - 60, "EndTimeStamp": t + 60}
    assert error_of(client, "DescribeSessionDetail", bad).code in ("MissingParameter", "UnknownParameter")
    now = world["now"]
    for p in (detail_params(app, main, StartTimestamp=now - 90 * DAY, EndTimestamp=now),
              detail_params(app, main, StartTimestamp=t + 10, EndTimestamp=t - 10),
              detail_params(app, main, StartTimestamp=now - 181 * DAY, EndTimestamp=now - 180 * DAY + 3600)):
        assert error_of(client, "DescribeSessionDetail", p).code == "InvalidParameterValue", p
    assert error_of(client, "DescribeSessionDetail",
                    {k: v for k, v in detail_params(app, main).items() if k != "SessionId"}).code == \
        "MissingParameter"


# --------------------------------------------------------------------------- DescribeTelRecordAsr


@pytest.mark.parametrize("sign,method", COMBOS)
def test_describe_tel_record_asr(world, media, sign, method):
    for f in media["files"]:
        if f["kind"] != "transcript":
            continue
        key = world["key_a"] if f["sdk_app_id"] == world["sdk_app_a"] else world["key_c"]
        client = make_client(world, key, sign, method)
        r = raw(client, "DescribeTelRecordAsr", {"SdkAppId": f["sdk_app_id"], "SessionId": f["session_id"]})
        problems = schema.tel_record_asr_problems(r)
        assert not problems, "\n".join(problems)
        written = json.loads(Path(f["path"]).read_text(encoding="utf-8"))
        assert r["AsrDataList"] == written, f["name"]
        for s in r["AsrDataList"]:
            assert s["End"] >= s["Start"] >= 10 ** 11  # milliseconds


def test_describe_tel_record_asr_sdk_model(world, media):
    f = next(f for f in media["files"] if f["kind"] == "transcript" and f["sdk_app_id"] == world["sdk_app_a"])
    client = make_client(world, world["key_a"])
    req = models.DescribeTelRecordAsrRequest()
    req.from_json_string(json.dumps({"SdkAppId": f["sdk_app_id"], "SessionId": f["session_id"]}))
    resp = client.DescribeTelRecordAsr(req)
    written = json.loads(Path(f["path"]).read_text(encoding="utf-8"))
    assert [(a.User, a.Message, a.Start, a.End) for a in resp.AsrDataList] == \
           [(s["User"], s["Message"], s["Start"], s["End"]) for s in written]


def test_describe_tel_record_asr_without_transcript(world, media, records_b):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    picks = media["picks"]
    # a recording but no transcript; a voicemail transcript is not the call's;
    # unknown; another tenant's session
    for sid in (picks["gone"], picks["voicemail"], "00000000-0000-4000-8000-000000000000",
                records_b[0]["SessionId"]):
        e = error_of(client, "DescribeTelRecordAsr", {"SdkAppId": app, "SessionId": sid})
        assert e.code == "ResourceNotFound", (sid, e.code, e.message)
    assert error_of(client, "DescribeTelRecordAsr", {"SdkAppId": app}).code == "MissingParameter"


# --------------------------------------------------------------------------- DescribeTelCallInfo


def _utc_day(t):
    d = datetime.fromtimestamp(t, timezone.utc).replace(hour=0, minute=0, second=0)
    start = int(d.timestamp())
    return start, start + DAY - 1


@pytest.mark.parametrize("sign,method", COMBOS)
def test_describe_tel_call_info(world, media, records_a, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    app = world["sdk_app_a"]
    now = world["now"]
    times = sorted(r["Time"] for r in records_a if r["SessionId"] in media["picks"].values())
    a_desc = sorted(r["Time"] for r in records_a)
    windows = {
        "everything": (now - 21 * DAY, now),
        "the UTC day of a media call": _utc_day(times[0]),
        "ends on record times": (times[0], times[-1]),
        "the last 3 days": (now - 3 * DAY, now),
        "one record": (a_desc[len(a_desc) // 2], a_desc[len(a_desc) // 2]),
    }
    for why, (start, end) in windows.items():
        r = raw(client, "DescribeTelCallInfo", {"StartTimeStamp": start, "EndTimeStamp": end,
                                                "SdkAppIdList": [app]})
        problems = schema.tel_call_info_problems(r)
        assert not problems, "\n".join(problems)
        exp = expected_call_info(records_a, media["files"], {app}, start, end)
        got = {k: r[k] for k in exp}
        assert got == exp, f"{why}: expected {exp}, got {got}"
    exp_all = expected_call_info(records_a, media["files"], {app}, *windows["everything"])
    assert exp_all["AsrOfflineCount"] > 0 and exp_all["TelCallOutCount"] > 0 and exp_all["TelCallInCount"] > 0


def test_describe_tel_call_info_every_call_type_rule_and_sum(world, media, records_c, records_d):
    """Tenant C's data has CallType 3 and 5, CallType 0 and no CallType
    (the Direction fallback), besides the generated 1, 2 and 6; C and D
    (one account) are summed."""
    client = make_client(world, world["key_c"])
    c, d = world["sdk_app_c"], world["sdk_app_d"]
    answered = [r for r in records_c if r["AcceptTimestamp"] > 0 and r["Duration"] > 0]
    kinds = Counter(r.get("CallType", "absent") for r in answered)
    assert kinds[3] + kinds[5] > 0 and kinds[0] > 0 and kinds["absent"] > 0, kinds
    now = world["now"]
    both = records_c + records_d
    for start, end in ((now - 4 * DAY, now), _utc_day(records_c[len(records_c) // 2]["Time"])):
        for apps in ([c], [d], [c, d]):
            r = raw(client, "DescribeTelCallInfo", {"StartTimeStamp": start, "EndTimeStamp": end,
                                                    "SdkAppIdList": apps})
            problems = schema.tel_call_info_problems(r)
            assert not problems, "\n".join(problems)
            exp = expected_call_info(both, media["files"], set(apps), start, end)
            assert {k: r[k] for k in exp} == exp, (apps, start, end)


def test_describe_tel_call_info_sdk_model_and_errors(world, media, records_a):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    now = world["now"]
    req = models.DescribeTelCallInfoRequest()
    req.from_json_string(json.dumps({"StartTimeStamp": now - 21 * DAY, "EndTimeStamp": now,
                                     "SdkAppIdList": [app]}))
    resp = client.DescribeTelCallInfo(req)
    exp = expected_call_info(records_a, media["files"], {app}, now - 21 * DAY, now)
    assert resp.TelCallInCount == exp["TelCallInCount"] and resp.VOIPCallInCount == exp["VOIPCallInCount"]
    assert resp.VoipCallInCount == exp["VoipCallInCount"] and resp.AsrOfflineCount == exp["AsrOfflineCount"]
    assert resp.SeatUsedCount == exp["SeatUsedCount"] and resp.AsrRealtimeCount == 0
    p = {"StartTimeStamp": now - DAY, "EndTimeStamp": now, "SdkAppIdList": [app]}
    cases = {
        "another account's app in the list": (dict(p, SdkAppIdList=[app, world["sdk_app_b"]]),
                                              "InvalidParameterValue.InstanceNotExist"),
        "span of 90 days": (dict(p, StartTimeStamp=now - 90 * DAY), "InvalidParameterValue"),
        "end before start": (dict(p, EndTimeStamp=now - 2 * DAY), "InvalidParameterValue"),
        "no list": ({k: v for k, v in p.items() if k != "SdkAppIdList"}, "MissingParameter"),
        "a string in the list": (dict(p, SdkAppIdList=["abc"]), "InvalidParameter"),
    }
    for why, (params, code) in cases.items():
        e = error_of(client, "DescribeTelCallInfo", params)
        assert e.code == code, f"{why}: expected {code}, got {e.code}: {e.message}"
    # the singular name instead of the list: the list is missing, SdkAppId unknown
    e = error_of(client, "DescribeTelCallInfo", dict({k: v for k, v in p.items() if k != "SdkAppIdList"}, SdkAppId=app))
    assert e.code in ("MissingParameter", "UnknownParameter"), e.code
    # an empty list names no app: not an answer of zeros
    assert error_of(client, "DescribeTelCallInfo", dict(p, SdkAppIdList=[])).code.startswith(
        ("InvalidParameter", "MissingParameter"))


# --------------------------------------------------------------------------- number protection


def _protected_pages(client, app, start, end):
    out, page = [], 0
    while True:
        r = raw(client, "DescribeProtectedTelCdr", {"SdkAppId": app, "StartTimeStamp": start,
                                                    "EndTimeStamp": end, "PageSize": 100, "PageNumber": page})
        problems = schema.response_problems(r)
        assert not problems, "\n".join(problems[:40])
        out.append(r)
        if len(r["TelCdrList"]) < 100:
            return out
        page += 1


def assert_masked(cdrs, by_sid):
    """Caller/Callee empty; ids 32 hex, equal exactly when the normalised
    numbers are equal; everything else as generated."""
    id_of: dict[str, str] = {}
    for c in cdrs:
        gen = by_sid[c["SessionId"]]
        assert c["Caller"] == "" and c["Callee"] == "", c["SessionId"]
        for plain, masked in (("Caller", "ProtectedCaller"), ("Callee", "ProtectedCallee")):
            number = expect.norm_phone(gen[plain])
            if not number:
                assert c[masked] == "", (c["SessionId"], masked)
                continue
            assert HEX32.match(c[masked]), (c["SessionId"], masked, c[masked])
            # A short extension ("5026") turns up in 32 random hex digits
            # about once in 2,000 tries; a full number practically never.
            if len(number) >= 8:
                assert number not in c[masked]
            assert id_of.setdefault(number, c[masked]) == c[masked], f"two ids for one number in {masked}"
    ids = list(id_of.values())
    assert len(set(ids)) == len(ids), "two numbers share a protected id"
    return id_of


def test_describe_protected_tel_cdr(world, records_a, by_sid_a, scenario):
    client = make_client(world, world["key_a"])
    app = world["sdk_app_a"]
    f = scenario["filters"]
    exp = expect.expected(records_a, app, f["StartTimeStamp"], f["EndTimeStamp"])
    pages = _protected_pages(client, app, f["StartTimeStamp"], f["EndTimeStamp"])
    assert {p["TotalCount"] for p in pages} == {len(exp)}
    cdrs = [c for p in pages for c in p["TelCdrList"]]
    assert [c["SessionId"] for c in cdrs] == [r["SessionId"] for r in exp]
    ids = assert_masked(cdrs, by_sid_a)
    assert len(ids) > 10
    for c in cdrs[:200]:
        gen = by_sid_a[c["SessionId"]]
        for k, v in gen.items():
            if k in ("SdkAppId", "Caller", "Callee", "ProtectedCaller", "ProtectedCallee") or k in schema.URL_FIELDS:
                continue
            assert c.get(k) == v, f"{c['SessionId']}.{k}"
    # stable: asked again, the same ids
    again = _protected_pages(client, app, f["StartTimeStamp"], f["EndTimeStamp"])
    assert [c["ProtectedCaller"] for p in again for c in p["TelCdrList"]] == [c["ProtectedCaller"] for c in cdrs]
    # DescribeTelCdr itself is not masked for A (protection is off there)
    plain = raw(client, "DescribeTelCdr", {"SdkAppId": app, "StartTimeStamp": f["StartTimeStamp"],
                                           "EndTimeStamp": f["EndTimeStamp"], "PageSize": 5, "PageNumber": 0})
    assert [c["Caller"] for c in plain["TelCdrList"]] == [r["Caller"] for r in exp[:5]]

    # the SDK's model (SdkAppId is uint64 there)
    req = models.DescribeProtectedTelCdrRequest()
    req.from_json_string(json.dumps({"SdkAppId": app, "StartTimeStamp": f["StartTimeStamp"],
                                     "EndTimeStamp": f["EndTimeStamp"], "PageSize": 7, "PageNumber": 1}))
    resp = client.DescribeProtectedTelCdr(req)
    assert resp.TotalCount == len(exp)
    assert [c.SessionId for c in resp.TelCdrList] == [r["SessionId"] for r in exp[7:14]]
    assert all(c.Caller == "" and c.ProtectedCaller == cdrs[7 + i]["ProtectedCaller"]
               for i, c in enumerate(resp.TelCdrList))


def test_protected_ids_differ_between_apps(world, media, by_sid_a, records_b, by_sid_c):
    """The world gave one of C's records a caller of A's: its protected id
    differs between the two SdkAppIds (and so does any other shared number)."""
    now = world["now"]
    by_sid_b = {r["SessionId"]: r for r in records_b}
    ids = {}
    for name, key, app, by_sid in (("A", world["key_a"], world["sdk_app_a"], by_sid_a),
                                   ("B", world["key_b"], world["sdk_app_b"], by_sid_b),
                                   ("C", world["key_c"], world["sdk_app_c"], by_sid_c)):
        pages = _protected_pages(make_client(world, key), app, now - 4 * DAY, now)
        ids[name] = assert_masked([c for p in pages for c in p["TelCdrList"]], by_sid)
    shared = expect.norm_phone(media["shared_number"])
    assert shared in ids["A"] and shared in ids["C"], "the shared number is not in both answers"
    for x, y in (("A", "B"), ("A", "C"), ("B", "C")):
        for n in set(ids[x]) & set(ids[y]):
            assert ids[x][n] != ids[y][n], f"number {n} has the same protected id in {x} and {y}"


def test_describe_protected_tel_cdr_errors(world):
    client = make_client(world, world["key_a"])
    now = world["now"]
    p = {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": now - DAY, "EndTimeStamp": now, "PageSize": 10,
         "PageNumber": 0}
    cases = {
        "Phones is not an input": (dict(p, Phones=["8613800000000"]), "UnknownParameter"),
        "SessionIds is not an input": (dict(p, SessionIds=["x"]), "UnknownParameter"),
        "PageSize 101": (dict(p, PageSize=101), "InvalidParameterValue"),
        "span of 90 days": (dict(p, StartTimeStamp=now - 90 * DAY), "InvalidParameterValue"),
        "no PageNumber": ({k: v for k, v in p.items() if k != "PageNumber"}, "MissingParameter"),
        "tenant B": (dict(p, SdkAppId=world["sdk_app_b"]), "InvalidParameterValue.InstanceNotExist"),
    }
    for why, (params, code) in cases.items():
        e = error_of(client, "DescribeProtectedTelCdr", params)
        assert e.code == code, f"{why}: expected {code}, got {e.code}: {e.message}"


def _set_protection(world, app, on: bool):
    cli(world, "apps", "set", str(app), "--number-protection", "on" if on else "off")
    shown = json.loads(cli(world, "apps", "show", str(app), "--json"))
    assert shown["SdkAppId"] == app and shown["NumberProtection"] is on, shown


def test_number_protection_on_and_off(world, media, records_c, by_sid_c):
    """Tenant C only (its own account), restored in a finally."""
    client = make_client(world, world["key_c"])
    app = world["sdk_app_c"]
    now = world["now"]
    win = {"SdkAppId": app, "StartTimeStamp": now - 4 * DAY, "EndTimeStamp": now, "PageSize": 100,
           "PageNumber": 0}
    exp = expect.expected(records_c, app, now - 4 * DAY, now)
    assert 0 < len(exp) <= 100
    protected_ids = assert_masked(_protected_pages(client, app, now - 4 * DAY, now)[0]["TelCdrList"], by_sid_c)
    gen = by_sid_c[media["picks"]["pending"]]

    def masked_now():
        r = raw(client, "DescribeTelCdr", win)
        return r if r["TelCdrList"] and r["TelCdrList"][0]["Caller"] == "" else None

    try:
        _set_protection(world, app, True)
        r = wait_for("DescribeTelCdr masks numbers after apps set --number-protection on", masked_now)
        assert r["TotalCount"] == len(exp)
        assert [c["SessionId"] for c in r["TelCdrList"]] == [x["SessionId"] for x in exp]
        ids = assert_masked(r["TelCdrList"], by_sid_c)
        assert ids == protected_ids, "DescribeTelCdr and DescribeProtectedTelCdr give different ids"
        # links still minted
        assert r["TelCdrList"][[c["SessionId"] for c in r["TelCdrList"]].index(gen["SessionId"])][
            "RecordURL"].startswith(world["main"]["url"] + "media/")

        # Phones still filters on the real numbers, in any spelling
        number = expect.norm_phone(gen["Caller"]) or expect.norm_phone(gen["Callee"])
        spelled = expect.spellings(number)[2] if not number.startswith("00") else number
        exp_p = expect.expected(records_c, app, now - 4 * DAY, now, phones=[spelled])
        rp = raw(client, "DescribeTelCdr", dict(win, Phones=[spelled]))
        assert rp["TotalCount"] == len(exp_p) >= 1
        assert [c["SessionId"] for c in rp["TelCdrList"]] == [x["SessionId"] for x in exp_p]
        assert all(c["Caller"] == "" and c["Callee"] == "" for c in rp["TelCdrList"])

        # the single-session actions mask too
        s = raw(client, "DescribeTelSession", {"SdkAppId": app, "SessionId": gen["SessionId"]})
        assert not schema.tel_session_problems(s)
        pc = protected_ids.get(expect.norm_phone(gen["Caller"]), "")
        pce = protected_ids.get(expect.norm_phone(gen["Callee"]), "")
        for k, v in _expected_session(gen, (pc, pce)).items():
            assert s["Session"][k] == v, f"Session.{k}: expected {v!r}, got {s['Session'][k]!r}"
        d = raw(client, "DescribeSessionDetail", detail_params(app, gen))
        assert not schema.session_detail_problems(d)
        assert d["Caller"] == "" and d["Callee"] == ""
        assert gen["Caller"] not in json.dumps(d) or not gen["Caller"]

        # tenant A is not affected
        a = raw(make_client(world, world["key_a"]), "DescribeTelCdr",
                {"SdkAppId": world["sdk_app_a"], "StartTimeStamp": now - DAY, "EndTimeStamp": now,
                 "PageSize": 5, "PageNumber": 0})
        assert all(c["Caller"] or c["Callee"] for c in a["TelCdrList"])
    finally:
        _set_protection(world, app, False)

    r = wait_for("DescribeTelCdr shows numbers again after --number-protection off",
                 lambda: (lambda x: x if x["TelCdrList"][0]["Caller"] or x["TelCdrList"][0]["Callee"] else None)(
                     raw(client, "DescribeTelCdr", win)))
    for c in r["TelCdrList"]:
        g = by_sid_c[c["SessionId"]]
        assert (c["Caller"], c["Callee"], c["ProtectedCaller"], c["ProtectedCallee"]) == \
               (g["Caller"], g["Callee"], g["ProtectedCaller"], g["ProtectedCallee"])
    s = raw(client, "DescribeTelSession", {"SdkAppId": app, "SessionId": gen["SessionId"]})["Session"]
    assert (s["Caller"], s["Callee"], s["ProtectedCaller"]) == (gen["Caller"], gen["Callee"], "")
    # DescribeProtectedTelCdr is masked whatever the setting
    again = _protected_pages(client, app, now - 4 * DAY, now)[0]["TelCdrList"]
    assert assert_masked(again, by_sid_c) == protected_ids


# --------------------------------------------------------------------------- calls in progress


@pytest.mark.parametrize("sign,method", COMBOS)
def test_live_call_actions_are_unsupported(world, sign, method):
    client = make_client(world, world["key_a"], sign, method)
    app = world["sdk_app_a"]
    ok = {
        "DescribeCallInMetrics": [{"SdkAppId": app},
                                  {"SdkAppId": app, "EnabledSkillGroup": True, "EnabledNumber": False,
                                   "GroupIdList": [1, 2]}],
        "DescribePSTNActiveSessionList": [{"SdkAppId": app, "Offset": 0, "Limit": 25}],
    }
    for action, param_sets in ok.items():
        for params in param_sets:
            e = error_of(client, action, params)
            assert e.code == "UnsupportedOperation", (action, params, e.code, e.message)
    bad = {
        ("DescribeCallInMetrics", "no SdkAppId"): ({"EnabledNumber": True}, "MissingParameter"),
        ("DescribeCallInMetrics", "tenant B"): ({"SdkAppId": world["sdk_app_b"]},
                                               "InvalidParameterValue.InstanceNotExist"),
        ("DescribeCallInMetrics", "unknown parameter"): ({"SdkAppId": app, "Foo": 1}, "UnknownParameter"),
        ("DescribePSTNActiveSessionList", "no Limit"): ({"SdkAppId": app, "Offset": 0}, "MissingParameter"),
        ("DescribePSTNActiveSessionList", "tenant B"): ({"SdkAppId": world["sdk_app_b"], "Offset": 0, "Limit": 10},
                                                       "InvalidParameterValue.InstanceNotExist"),
        ("DescribePSTNActiveSessionList", "Limit not a number"): ({"SdkAppId": app, "Offset": 0, "Limit": "x"},
                                                                 "InvalidParameter"),
    }
    for (action, why), (params, code) in bad.items():
        e = error_of(client, action, params)
        assert e.code == code, f"{action} {why}: expected {code}, got {e.code}: {e.message}"


# --------------------------------------------------------------------------- tenancy


def _every_action(world, app):
    now = world["now"]
    sid = world["media"]["picks"]["main"]
    return {
        "DescribeTelCdr": {"SdkAppId": app, "StartTimeStamp": now - DAY, "EndTimeStamp": now, "PageSize": 10,
                           "PageNumber": 0},
        "DescribeProtectedTelCdr": {"SdkAppId": app, "StartTimeStamp": now - DAY, "EndTimeStamp": now,
                                    "PageSize": 10, "PageNumber": 0},
        "DescribeTelSession": {"SdkAppId": app, "SessionId": sid},
        "DescribeSessionDetail": {"SdkAppId": app, "SessionId": sid, "StartTimestamp": now - 21 * DAY,
                                  "EndTimestamp": now},
        "DescribeTelRecordAsr": {"SdkAppId": app, "SessionId": sid},
        "DescribeTelCallInfo": {"StartTimeStamp": now - DAY, "EndTimeStamp": now, "SdkAppIdList": [app]},
        "DescribeCallInMetrics": {"SdkAppId": app},
        "DescribePSTNActiveSessionList": {"SdkAppId": app, "Offset": 0, "Limit": 10},
    }


ACTIONS = ["DescribeTelCdr", "DescribeProtectedTelCdr", "DescribeTelSession", "DescribeSessionDetail",
           "DescribeTelRecordAsr", "DescribeTelCallInfo", "DescribeCallInMetrics", "DescribePSTNActiveSessionList"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("asker", ["tenant-B-key", "tenant-C-key", "unknown-app"])
def test_instance_not_exist_on_every_action(world, action, asker):
    """Tenant A's SdkAppId (whose session the single-session actions name)
    asked with another account's key, and a nonexistent SdkAppId with A's."""
    if asker == "unknown-app":
        key, app = world["key_a"], 1400012345
    else:
        key, app = (world["key_b"] if asker == "tenant-B-key" else world["key_c"]), world["sdk_app_a"]
    for sign, method in (("TC3-HMAC-SHA256", "POST"), ("HmacSHA256", "GET")):
        client = make_client(world, key, sign, method)
        e = error_of(client, action, _every_action(world, app)[action])
        assert e.code == "InvalidParameterValue.InstanceNotExist", (action, asker, e.code, e.message)
