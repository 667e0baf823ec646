//! Generator tests: determinism, validity, order, and that the mix of calls
//! looks like a call centre.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::end_status::end_status_string;
use crate::phone::normalize_phone;
use crate::record::{parse_record_line, to_json_line};

const UNTIL: i64 = 1_795_000_000;

fn options(count: u64, seed: u64) -> GenerateOptions {
    GenerateOptions {
        count,
        sdk_app_id: 1_400_000_000,
        days: 30,
        seed,
        until: UNTIL,
    }
}

#[test]
fn deterministic() {
    let a: Vec<_> = generate(&options(500, 7)).collect();
    let b: Vec<_> = generate(&options(500, 7)).collect();
    assert_eq!(a, b);
    let c: Vec<_> = generate(&options(500, 8)).collect();
    assert_ne!(a, c);
    let other_app: Vec<_> = generate(&GenerateOptions {
        sdk_app_id: 1_400_000_001,
        ..options(500, 7)
    })
    .collect();
    assert_ne!(a[0].cdr.session_id, other_app[0].cdr.session_id);
    assert!(other_app.iter().all(|r| r.sdk_app_id == 1_400_000_001));
}

#[test]
fn generator_outlives_options_and_knows_its_length() {
    let g = {
        let o = options(42, 1);
        generate(&o)
    };
    assert_eq!(g.len(), 42);
    assert_eq!(g.count(), 42);
    assert_eq!(generate(&options(0, 1)).count(), 0);
}

#[test]
fn every_record_validates_and_round_trips() {
    for r in generate(&options(5_000, 11)) {
        let line = to_json_line(&r);
        let back = parse_record_line(line.as_bytes()).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(back, r);
        // The pieces validation does not check, but the generator promises.
        let c = &r.cdr;
        assert_eq!(
            end_status_string(c.end_status),
            Some(c.end_status_string.as_str())
        );
        assert!(c.ended_timestamp >= c.start_timestamp);
        if c.accept_timestamp > 0 {
            assert_eq!(c.duration, c.ended_timestamp - c.accept_timestamp);
            assert!(
                c.duration >= 10 && c.duration <= 1800 + 100,
                "{}",
                c.duration
            );
            assert!(c.record_url.contains(&c.record_id) && !c.record_id.is_empty());
            assert!(c.ring_timestamp > 0 && c.ring_timestamp <= c.accept_timestamp);
        } else {
            assert_eq!(c.duration, 0);
            assert!(c.record_url.is_empty() && c.record_id.is_empty());
        }
        for (i, p) in c.serve_participants.iter().enumerate() {
            assert_eq!(p.sequence, i as i64);
        }
        assert!(["seat", "user", "system"].contains(&c.hung_up_side.as_str()));
    }
}

#[test]
fn times_in_window_ascending_and_ids_unique() {
    let o = options(20_000, 3);
    let start = o.until - i64::from(o.days) * 86_400;
    let mut prev = start;
    let mut ids = HashSet::new();
    for r in generate(&o) {
        assert!(r.cdr.time >= prev && r.cdr.time < o.until);
        prev = r.cdr.time;
        assert!(ids.insert(r.cdr.session_id));
    }
}

#[test]
fn degenerate_windows() {
    // days 0 means one day.
    let o = GenerateOptions {
        days: 0,
        ..options(100, 1)
    };
    assert!(generate(&o).all(|r| r.cdr.time >= UNTIL - 86_400 && r.cdr.time < UNTIL));
    // A window before the epoch is clamped; an empty one yields nothing.
    let o = GenerateOptions {
        until: 1_000,
        ..options(100, 1)
    };
    assert!(generate(&o).all(|r| r.cdr.time >= 1 && r.cdr.time < 1_000));
    let o = GenerateOptions {
        until: 1,
        ..options(100, 1)
    };
    assert_eq!(generate(&o).count(), 0);
}

#[test]
fn proportions_look_like_a_call_centre() {
    let n = 40_000;
    let records: Vec<_> = generate(&options(n, 5)).collect();
    let share = |f: &dyn Fn(&TelCdrInfoRef) -> bool| {
        records.iter().filter(|r| f(&r.cdr)).count() as f64 / records.len() as f64
    };
    let inbound = share(&|c| c.call_type == 2);
    let outbound = share(&|c| c.call_type == 1);
    let internal = share(&|c| c.call_type == 6);
    assert!((0.62..0.68).contains(&inbound), "{inbound}");
    assert!((0.27..0.33).contains(&outbound), "{outbound}");
    assert!((0.04..0.06).contains(&internal), "{internal}");
    assert!(records.iter().all(|r| {
        let c = &r.cdr;
        (c.call_type == 2) == (c.direction == 0)
    }));

    let ok_rate = |ct: i64| {
        let of: Vec<_> = records.iter().filter(|r| r.cdr.call_type == ct).collect();
        of.iter().filter(|r| r.cdr.end_status == 1).count() as f64 / of.len() as f64
    };
    let (ok_in, ok_out) = (ok_rate(2), ok_rate(1));
    assert!((0.6..0.85).contains(&ok_in), "inbound ok {ok_in}");
    assert!((0.5..0.6).contains(&ok_out), "outbound ok {ok_out}");

    // Answered inbound calls are transferred about 8% of the time.
    let answered_in: Vec<_> = records
        .iter()
        .filter(|r| r.cdr.call_type == 2 && r.cdr.end_status == 1)
        .collect();
    let transferred = answered_in
        .iter()
        .filter(|r| r.cdr.serve_participants.len() > 1)
        .count() as f64
        / answered_in.len() as f64;
    assert!((0.06..0.10).contains(&transferred), "{transferred}");
    assert!(
        answered_in
            .iter()
            .all(|r| r.cdr.serve_participants.len() <= 3)
    );
    let forwarded = answered_in
        .iter()
        .find(|r| r.cdr.serve_participants.len() > 1)
        .unwrap();
    let legs = &forwarded.cdr.serve_participants;
    assert_eq!(legs[0].end_status_string, "seatForward");
    assert_eq!(legs[0].transfer_to, legs[1].mail);
    assert_eq!(legs[1].transfer_from, legs[0].mail);
    assert_eq!(forwarded.cdr.seat_user.mail, legs.last().unwrap().mail);

    // Surveys, with some noInput; IVR keys on inbound calls.
    assert!(share(&|c| !c.post_ivr_key_pressed_ex.is_empty()) > 0.1);
    assert!(
        share(&|c| c
            .post_ivr_key_pressed_ex
            .first()
            .is_some_and(|k| k.key == "noInput"))
            > 0.01
    );
    assert!(share(&|c| !c.ivr_key_pressed_ex.is_empty()) > 0.4);
    assert!(records.iter().all(|r| {
        r.cdr.ivr_key_pressed
            == r.cdr
                .ivr_key_pressed_ex
                .iter()
                .map(|k| k.key.clone())
                .collect::<Vec<_>>()
    }));

    // Variety of end statuses.
    let statuses: HashSet<_> = records.iter().map(|r| r.cdr.end_status).collect();
    for code in [1, 102, 103, 104, 105, 106, 202, 203, 204, 205, 206] {
        assert!(statuses.contains(&code), "no {code}");
    }

    // Repeat callers: some customer numbers appear many times, most few.
    let mut calls_per_number: HashMap<String, u32> = HashMap::new();
    for r in records.iter().filter(|r| r.cdr.call_type == 2) {
        *calls_per_number
            .entry(normalize_phone(&r.cdr.caller))
            .or_default() += 1;
    }
    let max = calls_per_number.values().max().copied().unwrap();
    assert!(max >= 20, "max calls from one number {max}");
    assert!(calls_per_number.len() > 3_000, "{}", calls_per_number.len());

    // Mixed number formats.
    let callers: Vec<&str> = records.iter().map(|r| r.cdr.caller.as_str()).collect();
    for prefix in ["0086", "+86", "+1", "00", "13"] {
        assert!(callers.iter().any(|c| c.starts_with(prefix)), "{prefix}");
    }

    // Business hours: more calls at 10:00 than at 03:00 local, weekdays busier.
    let mut by_hour = [0u32; 24];
    let (mut weekday, mut weekend) = (0u32, 0u32);
    for r in &records {
        let (h, we) = clock::local_hour_and_weekend(r.cdr.time);
        by_hour[h] += 1;
        if we {
            weekend += 1;
        } else {
            weekday += 1;
        }
    }
    assert!(by_hour[10] > 10 * by_hour[3], "{by_hour:?}");
    // 5 weekdays vs 2 weekend days at 0.35: per-day ratio ≈ 0.35.
    let per_day = (f64::from(weekend) / 2.0) / (f64::from(weekday) / 5.0);
    assert!((0.25..0.45).contains(&per_day), "{per_day}");
}

type TelCdrInfoRef = crate::cdr::TelCdrInfo;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_lines_round_trip(
        seed in any::<u64>(),
        sdk_app_id in 1i64..=i64::MAX,
        days in 0u32..400,
        until in 100_000_000i64..4_000_000_000,
        count in 0u64..40,
    ) {
        let o = GenerateOptions { count, sdk_app_id, days, seed, until };
        let records: Vec<_> = generate(&o).collect();
        prop_assert_eq!(records.len() as u64, count);
        let again: Vec<_> = generate(&o).collect();
        prop_assert_eq!(&records, &again);
        for r in records {
            let line = to_json_line(&r);
            prop_assert!(!line.contains('\n'));
            let back = parse_record_line(line.as_bytes());
            prop_assert_eq!(back.as_ref(), Ok(&r), "{}", line);
        }
    }
}

#[test]
fn every_record_id_is_unique_across_calls_and_legs() {
    let records: Vec<_> = generate(&GenerateOptions {
        count: 5_000,
        sdk_app_id: 1_400_000_000,
        days: 10,
        seed: 3,
        until: 1_795_000_000,
    })
    .collect();
    let mut seen = std::collections::HashSet::new();
    let mut transferred = 0;
    for r in &records {
        let ids = std::iter::once(&r.cdr.record_id)
            .chain(r.cdr.serve_participants.iter().map(|p| &p.record_id));
        for id in ids.filter(|id| !id.is_empty()) {
            assert!(seen.insert(id.clone()), "RecordId {id} appears twice");
        }
        transferred += usize::from(r.cdr.serve_participants.len() > 1);
    }
    assert!(transferred > 50, "the sample has calls with several legs");
}
