//! DescribeTelCallInfo: package consumption computed from the stored
//! records (spec 6.6), summed over `SdkAppIdList`.
//!
//! * Per answered call (`AcceptTimestamp` > 0), talk minutes rounded up,
//!   split by `CallType`: 1 and 5 outbound (`TelCallOutCount`), 2 inbound
//!   (`TelCallInCount`), 3 and 6 audio — VoIP and agent-to-agent calls use
//!   no phone line — (`VOIPCallInCount` and its deprecated twin
//!   `VoipCallInCount`). A record without a CallType falls back to its
//!   Direction.
//! * `SeatUsedCount`: distinct agents (mail) who served any call in range.
//! * `AsrOfflineCount`: minutes of the transcripts telcdr holds for those
//!   calls, each rounded up; telcdr does no real-time ASR, so
//!   `AsrRealtimeCount` is 0.
//!
//! Day granularity: callers pass the first and last second of their days
//! (00:00:00 and 23:59:59); a call counts when its `Time` lies in that
//! inclusive range. The range must be under `query.max_span_days`.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tcapi::{Field, Ty};

use super::window::{TIME_STAMP, check_span};
use super::{ActionContext, ActionDef, ActionError, typed};

#[rustfmt::skip]
const FIELDS: &[Field] = &[
    Field { name: "StartTimeStamp", ty: Ty::Int, required: true },
    Field { name: "EndTimeStamp", ty: Ty::Int, required: true },
    Field { name: "SdkAppIdList", ty: Ty::List(&Ty::Int), required: true },
];

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeTelCallInfo",
    fields: FIELDS,
    run,
};

/// Most SdkAppIds in one request.
const MAX_APPS: usize = 100;
/// Records read per store call.
const SCAN_BATCH: usize = 2_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    start_time_stamp: i64,
    end_time_stamp: i64,
    sdk_app_id_list: Vec<i64>,
}

/// The members of a record the statistics read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CallFacts {
    session_id: String,
    call_type: i64,
    direction: i64,
    duration: i64,
    accept_timestamp: i64,
    seat_user: Seat,
    serve_participants: Vec<Seat>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Seat {
    mail: String,
}

#[derive(Default)]
struct Totals {
    out_minutes: i64,
    in_minutes: i64,
    audio_minutes: i64,
    asr_minutes: i64,
    seats: HashSet<String>,
}

fn minutes(ms_or_s: i64, unit: i64) -> i64 {
    if ms_or_s <= 0 {
        0
    } else {
        (ms_or_s + unit - 1) / unit
    }
}

impl Totals {
    fn add(&mut self, call: &CallFacts) {
        for seat in std::iter::once(&call.seat_user).chain(&call.serve_participants) {
            if !seat.mail.is_empty() && !self.seats.contains(&seat.mail) {
                self.seats.insert(seat.mail.clone());
            }
        }
        if call.accept_timestamp <= 0 {
            return;
        }
        let talk = minutes(call.duration, 60);
        match (call.call_type, call.direction) {
            (1 | 5, _) | (0, 1) => self.out_minutes += talk,
            (3 | 6, _) => self.audio_minutes += talk,
            _ => self.in_minutes += talk,
        }
    }
}

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: Request = typed(params)?;
    check_span(
        req.start_time_stamp,
        req.end_time_stamp,
        ctx.query_limits,
        &TIME_STAMP,
    )?;
    if req.sdk_app_id_list.is_empty() || req.sdk_app_id_list.len() > MAX_APPS {
        return Err(ActionError::invalid(
            format!(
                "SdkAppIdList must hold 1 to {MAX_APPS} SdkAppIds, got {}.",
                req.sdk_app_id_list.len()
            ),
            format!(
                "SdkAppIdList 须包含 1 到 {MAX_APPS} 个 SdkAppId，当前为 {} 个。",
                req.sdk_app_id_list.len()
            ),
        ));
    }
    let mut apps = req.sdk_app_id_list.clone();
    apps.sort_unstable();
    apps.dedup();
    let views = apps
        .iter()
        .map(|&app| ctx.app(app).map(|view| (app, view)))
        .collect::<Result<Vec<_>, _>>()?;

    let mut totals = Totals::default();
    for (app, view) in views {
        let mut after: Option<(i64, String)> = None;
        loop {
            let batch = ctx.store.scan_window(
                app,
                req.start_time_stamp,
                req.end_time_stamp,
                after.as_ref(),
                SCAN_BATCH,
            )?;
            let Some(last) = batch.last() else { break };
            after = Some((last.time, last.session_id.clone()));
            let mut sessions = Vec::with_capacity(batch.len());
            for record in &batch {
                let call: CallFacts = serde_json::from_slice(&record.body).map_err(|e| {
                    ActionError::Internal(format!("a stored record is not a TelCdrInfo: {e}"))
                })?;
                totals.add(&call);
                sessions.push(record.session_id.as_str());
            }
            if view.has_media {
                for m in ctx.store.media_for_sessions(app, &sessions)? {
                    if m.name.ends_with(".asr.json") {
                        totals.asr_minutes += minutes(m.duration_ms, 60_000);
                    }
                }
            }
            if batch.len() < SCAN_BATCH {
                break;
            }
        }
    }

    let audio = totals.audio_minutes;
    serde_json::to_vec(&json!({
        "TelCallOutCount": totals.out_minutes,
        "TelCallInCount": totals.in_minutes,
        "SeatUsedCount": totals.seats.len() as i64,
        "VoipCallInCount": audio,
        "VOIPCallInCount": audio,
        "AsrOfflineCount": totals.asr_minutes,
        "AsrRealtimeCount": 0,
    }))
    .map_err(|e| ActionError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        call_type: i64,
        direction: i64,
        duration: i64,
        accepted: bool,
        mail: &str,
    ) -> CallFacts {
        CallFacts {
            call_type,
            direction,
            duration,
            accept_timestamp: if accepted { 1 } else { 0 },
            seat_user: Seat { mail: mail.into() },
            ..CallFacts::default()
        }
    }

    #[test]
    fn minutes_round_up_per_call_and_split_by_call_type() {
        let mut t = Totals::default();
        t.add(&call(2, 0, 61, true, "a@x")); // 2 in
        t.add(&call(2, 0, 60, true, "b@x")); // 1 in
        t.add(&call(1, 1, 1, true, "a@x")); // 1 out
        t.add(&call(5, 1, 125, true, "")); // 3 out
        t.add(&call(3, 0, 59, true, "c@x")); // 1 audio
        t.add(&call(0, 1, 30, true, "")); // no CallType, outbound: 1 out
        t.add(&call(2, 0, 300, false, "d@x")); // never answered: 0, but d served
        t.add(&call(2, 0, 0, true, "")); // answered, no talk: 0
        assert_eq!((t.in_minutes, t.out_minutes, t.audio_minutes), (3, 5, 1));
        assert_eq!(t.seats.len(), 4);
    }
}
