//! What the web console stands on, over HTTP: the embedded files, the
//! redirect for a browser, temporary credentials (issued, used, expired,
//! refused when altered), and the `Telcdr*` extension actions compared with
//! a plain filter and count over the generated records.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::{Value, json};
use telcdr_model::ImportedRecord;
use telcdr_server::ServerConfig;

const RECORDS: u64 = 1200;
const DAY: i64 = 86_400;

fn config() -> ServerConfig {
    ServerConfig {
        rate_limit_per_second: 0,
        ..ServerConfig::default()
    }
}

async fn temporary(server: &TestServer, seconds: Option<i64>) -> (String, String, String, i64) {
    let params = match seconds {
        Some(s) => json!({ "DurationSeconds": s }),
        None => json!({}),
    };
    let reply = server
        .call(params)
        .action("TelcdrIssueTemporaryCredentials")
        .send()
        .await;
    assert_eq!(reply.code(), "", "{}", reply.body);
    let r = reply.response();
    assert_eq!(r["SdkAppIds"], json!([APP]));
    let c = &r["Credentials"];
    (
        c["TmpSecretId"].as_str().unwrap().to_owned(),
        c["TmpSecretKey"].as_str().unwrap().to_owned(),
        c["Token"].as_str().unwrap().to_owned(),
        r["ExpiredTime"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn the_console_is_served_and_browsers_are_sent_to_it() {
    let server = start(10, config()).await;
    let base = format!("http://{}", server.addr);
    let index = server.fetch(&format!("{base}/console/"), None).await;
    assert_eq!(index.status, 200);
    assert!(index.header("content-type").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&index.bytes).contains("<html"));
    for (file, kind) in [
        ("app.js", "text/javascript"),
        ("tc3.js", "text/javascript"),
        ("style.css", "text/css"),
    ] {
        let got = server.fetch(&format!("{base}/console/{file}"), None).await;
        assert_eq!(got.status, 200, "{file}");
        assert!(got.header("content-type").starts_with(kind), "{file}");
        assert!(
            got.header("content-security-policy")
                .contains("default-src 'self'")
        );
    }
    assert_eq!(
        server
            .fetch(&format!("{base}/console/../Cargo.toml"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        server
            .fetch(&format!("{base}/console/nope.js"), None)
            .await
            .status,
        404
    );
    let request = http::Request::get(format!("{base}/"))
        .header("Accept", "text/html,application/xhtml+xml")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let reply = server.send_raw(request).await;
    assert_eq!(reply.status, 302);
    assert_eq!(reply.header("location"), "/console/");
}

#[tokio::test]
async fn temporary_credentials_sign_until_they_expire() {
    let server = start(50, config()).await;
    let (id, key, token, expires) = temporary(&server, Some(600)).await;
    assert_eq!(expires, NOW + 600);
    assert!(id.starts_with("AKIDtmp"));

    let ok = server
        .call(query(1, 5, 0))
        .secret(&id, &key)
        .token(&token)
        .send()
        .await;
    assert_eq!(ok.code(), "", "{}", ok.body);

    let without = server.call(query(1, 5, 0)).secret(&id, &key).send().await;
    assert_eq!(without.code(), "AuthFailure.TokenFailure");
    let wrong = server
        .call(query(1, 5, 0))
        .secret(&id, &key)
        .token(&token.replace('a', "b"))
        .send()
        .await;
    assert_eq!(wrong.code(), "AuthFailure.TokenFailure");
    // An altered id (another account) derives another key: no signature.
    let forged_id = id.replacen("AKIDtmp1", "AKIDtmp2", 1);
    let forged = server
        .call(query(1, 5, 0))
        .secret(&forged_id, &key)
        .token(&token)
        .send()
        .await;
    assert_eq!(forged.code(), "AuthFailure.SignatureFailure");
    // A permanent key with a Token is refused too.
    let stray = server.call(query(1, 5, 0)).token(&token).send().await;
    assert_eq!(stray.code(), "AuthFailure.TokenFailure");
    // Temporary credentials issue no more.
    let chained = server
        .call(json!({}))
        .action("TelcdrIssueTemporaryCredentials")
        .secret(&id, &key)
        .token(&token)
        .send()
        .await;
    assert_eq!(chained.code(), "UnauthorizedOperation");
    // Tenancy still holds.
    let mut other = query(1, 5, 0);
    other["SdkAppId"] = json!(OTHER_APP);
    let foreign = server
        .call(other)
        .secret(&id, &key)
        .token(&token)
        .send()
        .await;
    assert_eq!(foreign.code(), "InvalidParameterValue.InstanceNotExist");

    server.clock.set(NOW + 601);
    let expired = server
        .call(query(1, 5, 0))
        .secret(&id, &key)
        .token(&token)
        .timestamp(NOW + 601)
        .send()
        .await;
    assert_eq!(expired.code(), "AuthFailure.TokenFailure");
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );

    for bad in [59, 43_201] {
        let reply = server
            .call(json!({ "DurationSeconds": bad }))
            .action("TelcdrIssueTemporaryCredentials")
            .timestamp(NOW + 601)
            .send()
            .await;
        assert_eq!(reply.code(), "InvalidParameterValue", "{bad}");
    }
}

fn in_window(r: &ImportedRecord, start: i64, end: i64) -> bool {
    (start..=end).contains(&r.cdr.time)
}

#[tokio::test]
async fn search_filters_by_what_describe_tel_cdr_cannot() {
    let server = start(RECORDS, config()).await;
    let records = generated(RECORDS);
    let (start, end) = (NOW - 10 * DAY, NOW);
    let busiest_agent = {
        let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
        for r in records.iter().filter(|r| in_window(r, start, end)) {
            *calls.entry(r.cdr.seat_user.mail.as_str()).or_default() += 1;
        }
        calls
            .into_iter()
            .filter(|(m, _)| !m.is_empty())
            .max_by_key(|(_, n)| *n)
            .unwrap()
            .0
            .to_owned()
    };
    let group = records
        .iter()
        .find(|r| r.cdr.skill_group_id > 0)
        .unwrap()
        .cdr
        .skill_group_id;
    let cases = [
        (
            json!({"Directions": [1]}),
            Box::new(|r: &ImportedRecord| r.cdr.direction == 1)
                as Box<dyn Fn(&ImportedRecord) -> bool>,
        ),
        (
            json!({"EndStatuses": [1, 102]}),
            Box::new(|r: &ImportedRecord| matches!(r.cdr.end_status, 1 | 102)),
        ),
        (
            json!({"SeatMails": [busiest_agent.clone()]}),
            Box::new({
                let a = busiest_agent.clone();
                move |r: &ImportedRecord| r.cdr.seat_user.mail == a
            }),
        ),
        (
            json!({"SkillGroupIds": [group], "Directions": [0]}),
            Box::new(move |r: &ImportedRecord| {
                r.cdr.skill_group_id == group && r.cdr.direction == 0
            }),
        ),
    ];
    for (filters, keep) in cases {
        let mut want: Vec<&ImportedRecord> = records
            .iter()
            .filter(|r| in_window(r, start, end) && keep(r))
            .collect();
        want.sort_by(|a, b| {
            b.cdr
                .time
                .cmp(&a.cdr.time)
                .then(a.cdr.session_id.cmp(&b.cdr.session_id))
        });
        assert!(!want.is_empty(), "{filters}");
        let mut params = json!({"SdkAppId": APP, "StartTimeStamp": start, "EndTimeStamp": end,
                                "PageSize": 20, "PageNumber": 1});
        for (k, v) in filters.as_object().unwrap() {
            params[k] = v.clone();
        }
        let reply = server.call(params).action("TelcdrSearchCdrs").send().await;
        assert_eq!(reply.code(), "", "{}", reply.body);
        assert_eq!(reply.total() as usize, want.len(), "{filters}");
        let page: Vec<String> = want
            .iter()
            .skip(20)
            .take(20)
            .map(|r| r.cdr.session_id.clone())
            .collect();
        assert_eq!(reply.sessions(), page, "{filters}");
    }
    let bad = server
        .call(
            json!({"SdkAppId": APP, "StartTimeStamp": start, "EndTimeStamp": end,
                     "PageSize": 20, "PageNumber": 0, "Directions": [2]}),
        )
        .action("TelcdrSearchCdrs")
        .send()
        .await;
    assert_eq!(bad.code(), "InvalidParameterValue");
    // With no extra filter it answers exactly as DescribeTelCdr.
    let plain = server.call(query(5, 50, 0)).send().await;
    let same = server
        .call(query(5, 50, 0))
        .action("TelcdrSearchCdrs")
        .send()
        .await;
    assert_eq!(
        plain.response()["TelCdrList"],
        same.response()["TelCdrList"]
    );
    assert_eq!(plain.total(), same.total());
}

#[tokio::test]
async fn the_overview_adds_up_to_the_records() {
    let server = start(RECORDS, config()).await;
    let records = generated(RECORDS);
    let (start, end) = (NOW - 7 * DAY, NOW - 1);
    let reply = server
        .call(json!({"SdkAppId": APP, "StartTimeStamp": start, "EndTimeStamp": end, "Granularity": "day"}))
        .action("TelcdrDescribeOverview")
        .send()
        .await;
    assert_eq!(reply.code(), "", "{}", reply.body);
    let r: &Value = reply.response();
    let window: Vec<&ImportedRecord> = records
        .iter()
        .filter(|x| in_window(x, start, end))
        .collect();
    let answered: Vec<&&ImportedRecord> = window
        .iter()
        .filter(|x| x.cdr.accept_timestamp > 0)
        .collect();
    assert_eq!(r["TotalCalls"], window.len());
    assert_eq!(r["AnsweredCalls"], answered.len());
    let talk: i64 = answered.iter().map(|x| x.cdr.duration.max(0)).sum();
    let avg = r["AvgHandleSeconds"].as_f64().unwrap();
    assert!((avg - talk as f64 / answered.len() as f64).abs() < 1e-6);
    let series = r["Series"].as_array().unwrap();
    assert_eq!(series.len(), 8, "the days the range touches");
    let per_slot: i64 = series.iter().map(|s| s["Calls"].as_i64().unwrap()).sum();
    assert_eq!(per_slot as usize, window.len());
    let statuses: i64 = r["EndStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Count"].as_i64().unwrap())
        .sum();
    assert_eq!(statuses as usize, window.len());
    let top = &r["TopAgents"][0];
    let top_mail = top["Mail"].as_str().unwrap();
    let top_calls = window
        .iter()
        .filter(|x| x.cdr.seat_user.mail == top_mail)
        .count();
    assert_eq!(top["Calls"], top_calls);
    let most = {
        let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
        for x in &window {
            if !x.cdr.seat_user.mail.is_empty() {
                *calls.entry(&x.cdr.seat_user.mail).or_default() += 1;
            }
        }
        calls.values().copied().max().unwrap()
    };
    assert_eq!(top_calls, most, "the busiest agent comes first");
    let mails: BTreeSet<&str> = r["TopAgents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Mail"].as_str().unwrap())
        .collect();
    assert!(mails.len() <= 10);
    let hourly = server
        .call(json!({"SdkAppId": APP, "StartTimeStamp": NOW - DAY, "EndTimeStamp": NOW - 1, "Granularity": "hour"}))
        .action("TelcdrDescribeOverview")
        .send()
        .await;
    assert_eq!(hourly.response()["Series"].as_array().unwrap().len(), 25);
    let bad = server
        .call(json!({"SdkAppId": APP, "StartTimeStamp": start, "EndTimeStamp": end, "Granularity": "week"}))
        .action("TelcdrDescribeOverview")
        .send()
        .await;
    assert_eq!(bad.code(), "InvalidParameterValue");
}
