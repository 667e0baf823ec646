//! DescribeTelCdr over HTTP against an in-process server: every request form,
//! the answer compared with a plain filter-and-sort of the generated records,
//! the envelope, every error code of the check order, and the rate limit.

mod common;

use common::*;
use serde_json::{Value, json};
use telcdr_model::{ImportedRecord, normalize_phone};
use telcdr_server::ServerConfig;

const RECORDS: u64 = 1500;

fn records() -> Vec<ImportedRecord> {
    generated(RECORDS)
}

/// What the answer must be: filter, then newest first, ties by SessionId.
fn expected(params: &Value) -> (usize, Vec<String>) {
    let start = params["StartTimeStamp"].as_i64().unwrap();
    let end = params["EndTimeStamp"].as_i64().unwrap();
    let size = params["PageSize"].as_i64().unwrap() as usize;
    let number = params["PageNumber"].as_i64().unwrap() as usize;
    let phones: Vec<String> = params["Phones"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| normalize_phone(p.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let sessions: Vec<&str> = params["SessionIds"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect())
        .unwrap_or_default();
    let all = records();
    let mut hits: Vec<&ImportedRecord> = all
        .iter()
        .filter(|r| r.cdr.time >= start && r.cdr.time <= end)
        .filter(|r| {
            phones.is_empty()
                || phones.contains(&normalize_phone(&r.cdr.caller))
                || phones.contains(&normalize_phone(&r.cdr.callee))
        })
        .filter(|r| sessions.is_empty() || sessions.contains(&r.cdr.session_id.as_str()))
        .collect();
    hits.sort_by(|a, b| {
        b.cdr
            .time
            .cmp(&a.cdr.time)
            .then(a.cdr.session_id.cmp(&b.cdr.session_id))
    });
    let page = hits
        .iter()
        .skip(number * size)
        .take(size)
        .map(|r| r.cdr.session_id.clone())
        .collect();
    (hits.len(), page)
}

/// A customer number with several calls, written differently from the record.
fn busy_customer() -> (String, String) {
    let all = records();
    let mut counts = std::collections::HashMap::new();
    for r in all.iter().filter(|r| r.cdr.direction == 0) {
        *counts.entry(normalize_phone(&r.cdr.caller)).or_insert(0) += 1;
    }
    let (number, _) = counts
        .into_iter()
        .filter(|(n, c)| *c >= 2 && n.starts_with("86"))
        .max_by_key(|(n, c)| (*c, n.clone()))
        .expect("a repeat caller");
    let other = all
        .iter()
        .find(|r| r.cdr.direction == 1)
        .map(|r| r.cdr.callee.clone())
        .unwrap();
    (format!("+{number}"), other)
}

async fn server() -> TestServer {
    start(RECORDS, ServerConfig::default()).await
}

#[tokio::test]
async fn every_form_answers_like_a_plain_filter() {
    let s = server().await;
    let (customer, other) = busy_customer();
    for form in [Form::Tc3Json, Form::Tc3Get, Form::V1Post, Form::V1Get] {
        for params in [query(7, 10, 0), query(7, 100, 2), {
            let mut q = query(20, 5, 0);
            q["Phones"] = json!([customer.replacen('+', "00", 1), other]);
            q
        }] {
            let reply = s.call(params.clone()).form(form).send().await;
            assert_eq!(reply.code(), "", "{form:?} {params}: {}", reply.message());
            let (total, page) = expected(&params);
            assert!(total > 0, "the query must match something: {params}");
            assert_eq!(reply.total() as usize, total, "{form:?} {params}");
            assert_eq!(reply.sessions(), page, "{form:?} {params}");
        }
    }
}

#[tokio::test]
async fn pages_cover_the_window_exactly_once() {
    let s = server().await;
    let (total, _) = expected(&query(3, 1, 0));
    let mut seen = Vec::new();
    let mut number = 0;
    loop {
        let reply = s.call(query(3, 37, number)).send().await;
        assert_eq!(reply.total() as usize, total);
        let page = reply.sessions();
        if page.is_empty() {
            break;
        }
        seen.extend(page);
        number += 1;
    }
    assert_eq!(seen.len(), total);
    assert_eq!(seen, expected_all(3));
}

fn expected_all(days: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut number = 0;
    loop {
        let (_, page) = expected(&query(days, 100, number));
        if page.is_empty() {
            return out;
        }
        out.extend(page);
        number += 1;
    }
}

#[tokio::test]
async fn session_ids_and_phones_combine_with_and() {
    let s = server().await;
    let all = records();
    let picked: Vec<&ImportedRecord> = all.iter().rev().step_by(97).take(4).collect();
    let mut q = query(20, 100, 0);
    q["SessionIds"] = json!(
        picked
            .iter()
            .map(|r| r.cdr.session_id.clone())
            .collect::<Vec<_>>()
    );
    let reply = s.call(q.clone()).send().await;
    assert_eq!(reply.sessions(), expected(&q).1);
    assert_eq!(reply.total(), 4);
    q["Phones"] = json!([picked[0].cdr.caller.clone()]);
    let reply = s.call(q.clone()).send().await;
    let (total, page) = expected(&q);
    assert_eq!((reply.total() as usize, reply.sessions()), (total, page));
    assert!(total >= 1);
}

#[tokio::test]
async fn envelope_is_what_the_sdks_need() {
    let s = server().await;
    for params in [query(1, 10, 0), json!({})] {
        let reply = s.call(params).send().await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "application/json");
        let id = reply.response()["RequestId"].as_str().expect("RequestId");
        assert_eq!(id.len(), 36, "UUID-shaped RequestId: {id}");
        assert_eq!(reply.headers["x-tc-traceid"], "trace-0001");
        let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Response"]);
    }
    let ok = s.call(query(1, 10, 0)).send().await;
    assert!(ok.response().get("TelCdrList").is_some());
    assert!(
        ok.response().get("TelCdrs").is_none(),
        "design.md: no deprecated TelCdrs"
    );
}

/// Every TelCdrInfo field, always present, with its documented JSON type.
#[tokio::test]
async fn every_field_has_its_exact_type() {
    let s = server().await;
    let reply = s.call(query(20, 100, 0)).send().await;
    let list = reply.response()["TelCdrList"].as_array().unwrap();
    assert_eq!(list.len(), 100);
    use FieldType::*;
    let top: &[(&str, FieldType)] = &[
        ("Caller", Str),
        ("Callee", Str),
        ("Time", Int),
        ("Direction", Int),
        ("CallType", Int),
        ("Duration", Int),
        ("RecordURL", Str),
        ("RecordId", Str),
        ("SeatUser", Obj),
        ("EndStatus", Int),
        ("SkillGroup", Str),
        ("CallerLocation", Str),
        ("IVRDuration", Int),
        ("RingTimestamp", Int),
        ("AcceptTimestamp", Int),
        ("EndedTimestamp", Int),
        ("IVRKeyPressed", StrList),
        ("IVRKeyPressedEx", ObjList),
        ("HungUpSide", Str),
        ("ServeParticipants", ObjList),
        ("SkillGroupId", Int),
        ("EndStatusString", Str),
        ("StartTimestamp", Int),
        ("QueuedTimestamp", Int),
        ("PostIVRKeyPressed", ObjList),
        ("PostIVRKeyPressedEx", ObjList),
        ("QueuedSkillGroupId", Int),
        ("SessionId", Str),
        ("ProtectedCaller", Str),
        ("ProtectedCallee", Str),
        ("Uui", Str),
        ("UUI", Str),
        ("AsrUrl", Str),
        ("AsrStatus", Str),
        ("CustomRecordURL", Str),
        ("Remark", Str),
        ("QueuedSkillGroupName", Str),
        ("VoicemailRecordURL", StrList),
        ("VoicemailAsrURL", StrList),
        ("AIAgentId", Int),
        ("AIAgentName", Str),
        ("SysHangupReason", Int),
        ("SysHangupReasonString", Str),
        ("EndStatusV2", Int),
    ];
    let seat: &[(&str, FieldType)] = &[
        ("Name", Str),
        ("Mail", Str),
        ("StaffNumber", Str),
        ("Phone", Str),
        ("Nick", Str),
        ("UserId", Str),
        ("SkillGroupNameList", StrList),
        ("Role", Int),
        ("ExtensionNumber", Str),
    ];
    let participant: &[(&str, FieldType)] = &[
        ("Mail", Str),
        ("Phone", Str),
        ("RingTimestamp", Int),
        ("AcceptTimestamp", Int),
        ("EndedTimestamp", Int),
        ("RecordId", Str),
        ("Type", Str),
        ("TransferFrom", Str),
        ("TransferFromType", Str),
        ("TransferTo", Str),
        ("TransferToType", Str),
        ("SkillGroupId", Int),
        ("SkillGroupName", Str),
        ("EndStatusString", Str),
        ("RecordURL", Str),
        ("Sequence", Int),
        ("CustomRecordURL", Str),
        ("StartTimestamp", Int),
    ];
    let key: &[(&str, FieldType)] = &[
        ("Key", Str),
        ("Label", Str),
        ("Timestamp", Int),
        ("NodeLabel", Str),
        ("OriginalContent", Str),
        ("TTSPrompt", Str),
    ];
    let (mut participants, mut keys) = (0, 0);
    for record in list {
        check_fields(record, top, "TelCdrInfo");
        check_fields(&record["SeatUser"], seat, "SeatUserInfo");
        for p in record["ServeParticipants"].as_array().unwrap() {
            participants += 1;
            check_fields(p, participant, "ServeParticipant");
        }
        for name in [
            "IVRKeyPressedEx",
            "PostIVRKeyPressed",
            "PostIVRKeyPressedEx",
        ] {
            for k in record[name].as_array().unwrap() {
                keys += 1;
                check_fields(k, key, "IVRKeyPressedElement");
            }
        }
    }
    assert!(
        participants > 0 && keys > 0,
        "the sample must exercise nested types"
    );
}

#[derive(Clone, Copy, Debug)]
enum FieldType {
    Str,
    Int,
    Obj,
    StrList,
    ObjList,
}

#[rustfmt::skip]
fn check_fields(value: &Value, fields: &[(&str, FieldType)], what: &str) {
    let object = value.as_object().unwrap_or_else(|| panic!("{what} is not an object"));
    for (name, ty) in fields {
        let v = object.get(*name).unwrap_or_else(|| panic!("{what}.{name} missing"));
        let ok = match ty {
            FieldType::Str => v.is_string(),
            FieldType::Int => v.is_i64(),
            FieldType::Obj => v.is_object(),
            FieldType::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            FieldType::ObjList => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        };
        assert!(ok, "{what}.{name} should be {ty:?}, got {v}");
    }
    assert_eq!(object.len(), fields.len(), "{what} has extra fields: {:?}", object.keys());
}

/// One request per row of the check order; each must give its code.
#[tokio::test]
async fn each_error_has_its_code_and_says_what_is_allowed() {
    let s = server().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut q = query(1, 10, 0);
        f(&mut q);
        q
    };
    let cases: Vec<(&str, common::Call, &str, &str)> = vec![
        (
            "bad signature",
            s.call(query(1, 10, 0)).tampered(),
            "AuthFailure.SignatureFailure",
            "signature",
        ),
        (
            "expired",
            s.call(query(1, 10, 0)).timestamp(NOW - 301),
            "AuthFailure.SignatureExpire",
            "",
        ),
        (
            "from the future",
            s.call(query(1, 10, 0)).timestamp(NOW + 301),
            "AuthFailure.SignatureExpire",
            "",
        ),
        (
            "unknown key",
            s.call(query(1, 10, 0))
                .secret("AKIDnobodynobodynobodynobodynobody00", "x"),
            "AuthFailure.SecretIdNotFound",
            "",
        ),
        (
            "another tenant's app",
            s.call(with(&|q| q["SdkAppId"] = json!(OTHER_APP))),
            "InvalidParameterValue.InstanceNotExist",
            "1400000099",
        ),
        (
            "an app nobody has",
            s.call(with(&|q| q["SdkAppId"] = json!(42))),
            "InvalidParameterValue.InstanceNotExist",
            "42",
        ),
        (
            "PageSize 101",
            s.call(with(&|q| q["PageSize"] = json!(101))),
            "InvalidParameterValue",
            "between 1 and 100",
        ),
        (
            "PageSize 0",
            s.call(with(&|q| q["PageSize"] = json!(0))),
            "InvalidParameterValue",
            "between 1 and 100",
        ),
        (
            "PageNumber -1",
            s.call(with(&|q| q["PageNumber"] = json!(-1))),
            "InvalidParameterValue",
            "PageNumber",
        ),
        (
            "90-day span",
            s.call(with(&|q| q["StartTimeStamp"] = json!(NOW - 90 * 86_400))),
            "InvalidParameterValue",
            "90 days",
        ),
        (
            "older than 180 days",
            s.call(with(&|q| {
                q["StartTimeStamp"] = json!(NOW - 181 * 86_400);
                q["EndTimeStamp"] = json!(NOW - 180 * 86_400);
            })),
            "InvalidParameterValue",
            "180 days",
        ),
        (
            "end before start",
            s.call(with(&|q| q["EndTimeStamp"] = json!(NOW - 2 * 86_400))),
            "InvalidParameterValue",
            "earlier",
        ),
        (
            "101 phones",
            s.call(with(&|q| {
                q["Phones"] = json!((0..101).map(|i| format!("138{i:08}")).collect::<Vec<_>>())
            })),
            "InvalidParameterValue",
            "at most 100",
        ),
        (
            "missing parameter",
            s.call(with(&|q| {
                q.as_object_mut().unwrap().remove("PageSize");
            })),
            "MissingParameter",
            "PageSize",
        ),
        (
            "unknown parameter",
            s.call(with(&|q| q["Colour"] = json!("blue"))),
            "UnknownParameter",
            "Colour",
        ),
        (
            "wrong type (JSON)",
            s.call(with(&|q| q["PageSize"] = json!("ten"))),
            "InvalidParameter",
            "PageSize",
        ),
        (
            "wrong type (GET)",
            s.call(with(&|q| q["PageSize"] = json!("ten")))
                .form(Form::Tc3Get),
            "InvalidParameter",
            "PageSize",
        ),
        (
            "wrong element type",
            s.call(with(&|q| q["Phones"] = json!([1380000]))),
            "InvalidParameter",
            "Phones",
        ),
        (
            "unknown action",
            s.call(query(1, 10, 0)).action("DescribeEverything"),
            "InvalidAction",
            "DescribeEverything",
        ),
        (
            "wrong version",
            s.call(query(1, 10, 0)).version("2019-01-01"),
            "NoSuchVersion",
            "2020-02-10",
        ),
        (
            "PUT",
            s.call(query(1, 10, 0)).method(http::Method::PUT),
            "UnsupportedProtocol",
            "GET",
        ),
        (
            "v1 bad signature",
            s.call(query(1, 10, 0)).form(Form::V1Post).tampered(),
            "AuthFailure.SignatureFailure",
            "",
        ),
        (
            "v1 expired",
            s.call(query(1, 10, 0))
                .form(Form::V1Get)
                .timestamp(NOW - 400),
            "AuthFailure.SignatureExpire",
            "",
        ),
        // The check order: the first failing check wins.
        (
            "tampered and unknown action",
            s.call(query(1, 10, 0)).tampered().action("Nope"),
            "AuthFailure.SignatureFailure",
            "",
        ),
        (
            "unknown action and wrong version",
            s.call(query(1, 10, 0)).action("Nope").version("1999-01-01"),
            "InvalidAction",
            "",
        ),
        (
            "wrong version and bad parameters",
            s.call(json!({"Colour": 1})).version("1999-01-01"),
            "NoSuchVersion",
            "",
        ),
        (
            "missing before wrong type",
            s.call(json!({"PageSize": "x"})),
            "MissingParameter",
            "",
        ),
        (
            "bad value before tenancy",
            s.call(with(&|q| {
                q["SdkAppId"] = json!(42);
                q["PageSize"] = json!(500);
            })),
            "InvalidParameterValue",
            "PageSize",
        ),
    ];
    for (what, call, code, needle) in cases {
        let reply = call.send().await;
        assert_eq!(reply.status, 200, "{what}");
        assert_eq!(reply.content_type, "application/json", "{what}");
        assert_eq!(reply.code(), code, "{what}: {}", reply.message());
        assert!(
            reply.message().contains(needle),
            "{what}: message {:?} should mention {needle:?}",
            reply.message()
        );
        assert!(reply.response()["RequestId"].is_string(), "{what}");
        assert!(
            reply.response().get("TotalCount").is_none(),
            "{what}: no output next to Error"
        );
    }
}

#[tokio::test]
async fn tenancy_answers_do_not_leak_existence() {
    let s = server().await;
    let mut mine = query(1, 10, 0);
    mine["SdkAppId"] = json!(OTHER_APP);
    let mut nobody = query(1, 10, 0);
    nobody["SdkAppId"] = json!(OTHER_APP + 1);
    let a = s.call(mine.clone()).send().await;
    let b = s.call(nobody).send().await;
    assert_eq!(a.code(), b.code());
    assert_eq!(
        a.message().replace(&OTHER_APP.to_string(), "N"),
        b.message().replace(&(OTHER_APP + 1).to_string(), "N")
    );
    let theirs = s.call(mine).key(&s.other_key).send().await;
    assert_eq!(
        theirs.code(),
        "",
        "the owner reads its own app: {}",
        theirs.message()
    );
}

#[tokio::test]
async fn disabled_key_is_refused() {
    let s = server().await;
    assert_eq!(s.call(query(1, 10, 0)).send().await.code(), "");
    let (store, id) = (s.store.clone(), s.key.id.clone());
    let disabled = tokio::task::spawn_blocking(move || store.set_key_enabled(&id, false))
        .await
        .unwrap();
    assert!(disabled.unwrap());
    let reply = s.call(query(1, 10, 0)).send().await;
    assert_eq!(reply.code(), "AuthFailure.SecretIdNotFound");
}

#[tokio::test]
async fn messages_follow_the_requested_language() {
    let s = server().await;
    let mut q = query(1, 10, 0);
    q["PageSize"] = json!(101);
    let zh = s.call(q.clone()).language("zh-CN").send().await;
    assert_eq!(zh.code(), "InvalidParameterValue");
    assert!(zh.message().contains("取值范围"), "{}", zh.message());
    let v1 = s
        .call(q.clone())
        .form(Form::V1Post)
        .language("zh-CN")
        .send()
        .await;
    assert!(v1.message().contains("取值范围"), "{}", v1.message());
    let en = s.call(q).send().await;
    assert!(
        en.message().contains("between 1 and 100"),
        "{}",
        en.message()
    );
    let sig = s
        .call(query(1, 10, 0))
        .tampered()
        .language("zh-CN")
        .send()
        .await;
    assert_eq!(
        sig.message(),
        "请求签名验证失败，请检查您的签名计算是否正确。"
    );
}

#[tokio::test]
async fn deprecated_parameters_are_accepted_and_ignored() {
    let s = server().await;
    let mut q = query(2, 10, 0);
    q["Limit"] = json!(3);
    q["Offset"] = json!(5);
    q["InstanceId"] = json!(12);
    let reply = s.call(q.clone()).send().await;
    assert_eq!(reply.code(), "", "{}", reply.message());
    assert_eq!(reply.sessions(), expected(&query(2, 10, 0)).1);
}

#[tokio::test]
async fn unsigned_and_oversized_requests() {
    let s = server().await;
    let bare = http::Request::post(format!("http://{}/", s.addr))
        .header("Content-Type", "application/json")
        .header("X-TC-Action", "DescribeTelCdr")
        .header("X-TC-Version", "2020-02-10")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
        .unwrap();
    let reply = s.send(bare).await;
    assert_eq!(reply.code(), "AuthFailure.InvalidAuthorization");
    let no_action = http::Request::post(format!("http://{}/", s.addr))
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
        .unwrap();
    assert_eq!(s.send(no_action).await.code(), "MissingParameter");
    let huge = vec![b' '; 10 * 1024 * 1024 + 1];
    let big = http::Request::post(format!("http://{}/", s.addr))
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(huge)))
        .unwrap();
    let reply = s.send(big).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.code(), "RequestSizeLimitExceeded");
    let long_get = http::Request::get(format!("http://{}/?x={}", s.addr, "a".repeat(33 * 1024)))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(s.send(long_get).await.code(), "RequestSizeLimitExceeded");
}

#[tokio::test]
async fn rate_limit_counts_only_verified_requests_per_account() {
    let s = start(
        50,
        ServerConfig {
            rate_limit_per_second: 3,
            ..ServerConfig::default()
        },
    )
    .await;
    // Forged requests in the victim's name spend nothing.
    for _ in 0..10 {
        let reply = s.call(query(1, 10, 0)).tampered().send().await;
        assert_eq!(reply.code(), "AuthFailure.SignatureFailure");
    }
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(s.call(query(1, 10, 0)).send().await.code().to_owned());
    }
    assert_eq!(&codes[..3], ["", "", ""], "{codes:?}");
    assert!(
        codes[3..].iter().any(|c| c == "RequestLimitExceeded"),
        "{codes:?}"
    );
    let mut other = query(1, 10, 0);
    other["SdkAppId"] = json!(OTHER_APP);
    let reply = s.call(other).key(&s.other_key).send().await;
    assert_eq!(reply.code(), "", "another account has its own bucket");
}
