//! telcdr's own actions, for the web console, under the same signed
//! protocol as Tencent's (names start with `Telcdr`, so none can be taken
//! for one of CCC's; they change nothing Tencent's actions mean):
//!
//! * `TelcdrIssueTemporaryCredentials`: temporary credentials for the
//!   caller's account, so a browser signs with them and forgets the
//!   long-term SecretKey;
//! * `TelcdrSearchCdrs`: DescribeTelCdr plus filters it lacks (direction,
//!   end status, agent, skill group);
//! * `TelcdrDescribeOverview`: the contact center at a glance for a range.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tcapi::{Field, Ty};
use telcdr_model::end_status_string;
use telcdr_store::ExtraFilters;

use super::describe_tel_cdr;
use super::window::{TIME_STAMP, check_window};
use super::{ActionContext, ActionDef, ActionError, typed};

/// Longest life of temporary credentials, seconds (Tencent's STS: 12 h).
const MAX_CREDENTIAL_SECONDS: i64 = 43_200;
const DEFAULT_CREDENTIAL_SECONDS: i64 = 3_600;
/// Records read per store call by the overview.
const SCAN_BATCH: usize = 2_000;
/// Agents and skill groups listed by the overview.
const TOP: usize = 10;

#[rustfmt::skip]
const CREDENTIAL_FIELDS: &[Field] = &[
    Field { name: "DurationSeconds", ty: Ty::Int, required: false },
];

pub(crate) const ISSUE_CREDENTIALS: ActionDef = ActionDef {
    name: "TelcdrIssueTemporaryCredentials",
    fields: CREDENTIAL_FIELDS,
    run: issue_credentials,
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialRequest {
    duration_seconds: Option<i64>,
}

fn issue_credentials(
    ctx: &ActionContext,
    params: Map<String, Value>,
) -> Result<Vec<u8>, ActionError> {
    let req: CredentialRequest = typed(params)?;
    if ctx.temporary {
        return Err(ActionError::Unauthorized {
            en: "Temporary credentials cannot issue more; sign in with a permanent key.".into(),
            zh: "临时凭证不能再签发临时凭证；请使用永久密钥登录。".into(),
        });
    }
    let seconds = req.duration_seconds.unwrap_or(DEFAULT_CREDENTIAL_SECONDS);
    if !(60..=MAX_CREDENTIAL_SECONDS).contains(&seconds) {
        return Err(ActionError::invalid(
            format!(
                "DurationSeconds must be between 60 and {MAX_CREDENTIAL_SECONDS}, got {seconds}."
            ),
            format!("DurationSeconds 须在 60 到 {MAX_CREDENTIAL_SECONDS} 之间，当前为 {seconds}。"),
        ));
    }
    let issued = ctx
        .temp_credentials
        .issue(ctx.account_id, ctx.now.saturating_add(seconds));
    let apps = ctx.store.apps_of_account(ctx.account_id)?;
    serde_json::to_vec(&json!({
        "Credentials": {
            "TmpSecretId": issued.secret_id,
            "TmpSecretKey": issued.secret_key,
            "Token": issued.token,
        },
        "ExpiredTime": issued.expires,
        "SdkAppIds": apps,
    }))
    .map_err(|e| ActionError::Internal(e.to_string()))
}

#[rustfmt::skip]
const SEARCH_FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "StartTimeStamp", ty: Ty::Int, required: true },
    Field { name: "EndTimeStamp", ty: Ty::Int, required: true },
    Field { name: "PageSize", ty: Ty::Int, required: true },
    Field { name: "PageNumber", ty: Ty::Int, required: true },
    Field { name: "Phones", ty: Ty::List(&Ty::Str), required: false },
    Field { name: "SessionIds", ty: Ty::List(&Ty::Str), required: false },
    Field { name: "Directions", ty: Ty::List(&Ty::Int), required: false },
    Field { name: "EndStatuses", ty: Ty::List(&Ty::Int), required: false },
    Field { name: "SeatMails", ty: Ty::List(&Ty::Str), required: false },
    Field { name: "SkillGroupIds", ty: Ty::List(&Ty::Int), required: false },
];

pub(crate) const SEARCH: ActionDef = ActionDef {
    name: "TelcdrSearchCdrs",
    fields: SEARCH_FIELDS,
    run: search,
};

/// DescribeTelCdr's request and the console's filters.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchRequest {
    #[serde(flatten)]
    cdr: describe_tel_cdr::Request,
    #[serde(default)]
    directions: Vec<i64>,
    #[serde(default)]
    end_statuses: Vec<i64>,
    #[serde(default)]
    seat_mails: Vec<String>,
    #[serde(default)]
    skill_group_ids: Vec<i64>,
}

fn bounded<T>(name: &str, list: &[T]) -> Result<(), ActionError> {
    if list.len() > 100 {
        return Err(ActionError::invalid(
            format!("{name} may hold at most 100 values, got {}.", list.len()),
            format!("{name} 最多 100 个值，当前为 {} 个。", list.len()),
        ));
    }
    Ok(())
}

/// DescribeTelCdr's answer (same checks, order and presentation) with the
/// console's filters applied too.
fn search(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: SearchRequest = typed(params)?;
    bounded("Directions", &req.directions)?;
    bounded("EndStatuses", &req.end_statuses)?;
    bounded("SeatMails", &req.seat_mails)?;
    bounded("SkillGroupIds", &req.skill_group_ids)?;
    if let Some(d) = req.directions.iter().find(|d| !matches!(d, 0 | 1)) {
        return Err(ActionError::invalid(
            format!("Directions holds 0 (inbound) and 1 (outbound) only, got {d}."),
            format!("Directions 只能包含 0（呼入）和 1（呼出），当前有 {d}。"),
        ));
    }
    let extra = ExtraFilters {
        directions: req.directions,
        end_statuses: req.end_statuses,
        seat_mails: req.seat_mails,
        skill_group_ids: req.skill_group_ids,
    };
    describe_tel_cdr::answer(ctx, req.cdr, &extra, false)
}

#[rustfmt::skip]
const OVERVIEW_FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "StartTimeStamp", ty: Ty::Int, required: true },
    Field { name: "EndTimeStamp", ty: Ty::Int, required: true },
    Field { name: "Granularity", ty: Ty::Str, required: false },
];

pub(crate) const OVERVIEW: ActionDef = ActionDef {
    name: "TelcdrDescribeOverview",
    fields: OVERVIEW_FIELDS,
    run: overview,
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OverviewRequest {
    sdk_app_id: i64,
    start_time_stamp: i64,
    end_time_stamp: i64,
    granularity: Option<String>,
}

/// The members of a record the overview reads.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Facts {
    time: i64,
    duration: i64,
    accept_timestamp: i64,
    queued_timestamp: i64,
    end_status: i64,
    end_status_string: String,
    seat_user: Seat,
    skill_group_id: i64,
    skill_group: String,
    queued_skill_group_id: i64,
    queued_skill_group_name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Seat {
    mail: String,
    name: String,
}

fn overview(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: OverviewRequest = typed(params)?;
    check_window(
        req.start_time_stamp,
        req.end_time_stamp,
        ctx.now,
        ctx.query_limits,
        &TIME_STAMP,
    )?;
    let step = match req.granularity.as_deref().unwrap_or("day") {
        "hour" => 3_600,
        "day" => 86_400,
        other => {
            return Err(ActionError::invalid(
                format!("Granularity must be hour or day, got {other:?}."),
                format!("Granularity 只能是 hour 或 day，当前为 {other:?}。"),
            ));
        }
    };
    ctx.app(req.sdk_app_id)?;
    let (start, end) = (req.start_time_stamp, req.end_time_stamp);
    let first = start - start.rem_euclid(step);
    let slots = ((end - first) / step + 1) as usize;
    let mut series = vec![(0u64, 0u64); slots];
    let (mut total, mut answered) = (0u64, 0u64);
    let (mut talk, mut waited, mut wait_calls) = (0i64, 0i64, 0u64);
    let mut statuses: HashMap<(i64, String), u64> = HashMap::new();
    let mut agents: HashMap<String, (String, u64, i64)> = HashMap::new();
    let mut groups: HashMap<i64, (String, u64)> = HashMap::new();

    let mut after: Option<(i64, String)> = None;
    loop {
        let batch =
            ctx.store
                .scan_window(req.sdk_app_id, start, end, after.as_ref(), SCAN_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = Some((last.time, last.session_id.clone()));
        for record in &batch {
            let f: Facts = serde_json::from_slice(&record.body).map_err(|e| {
                ActionError::Internal(format!("a stored record is not a TelCdrInfo: {e}"))
            })?;
            total += 1;
            let slot = ((f.time - first) / step) as usize;
            let answered_call = f.accept_timestamp > 0;
            if let Some(s) = series.get_mut(slot) {
                s.0 += 1;
                s.1 += u64::from(answered_call);
            }
            if answered_call {
                answered += 1;
                talk += f.duration.max(0);
                if f.queued_timestamp > 0 && f.accept_timestamp >= f.queued_timestamp {
                    waited += f.accept_timestamp - f.queued_timestamp;
                    wait_calls += 1;
                }
            }
            *statuses
                .entry((f.end_status, f.end_status_string.clone()))
                .or_default() += 1;
            if !f.seat_user.mail.is_empty() {
                let agent = agents
                    .entry(f.seat_user.mail.clone())
                    .or_insert_with(|| (f.seat_user.name.clone(), 0, 0));
                agent.1 += 1;
                agent.2 += f.duration.max(0);
            }
            let (group, name) = if f.skill_group_id > 0 {
                (f.skill_group_id, &f.skill_group)
            } else {
                (f.queued_skill_group_id, &f.queued_skill_group_name)
            };
            if group > 0 {
                let g = groups.entry(group).or_insert_with(|| (name.clone(), 0));
                g.1 += 1;
            }
        }
        if batch.len() < SCAN_BATCH {
            break;
        }
    }

    let mut statuses: Vec<_> = statuses.into_iter().collect();
    statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.0.cmp(&b.0.0)));
    let mut agents: Vec<_> = agents.into_iter().collect();
    agents.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    let ratio = |a: f64, b: u64| if b == 0 { 0.0 } else { a / b as f64 };
    serde_json::to_vec(&json!({
        "Series": series.iter().enumerate().map(|(i, (calls, ok))| json!({
            "Start": first + i as i64 * step, "Calls": calls, "Answered": ok,
        })).collect::<Vec<_>>(),
        "TotalCalls": total,
        "AnsweredCalls": answered,
        "AnswerRate": ratio(answered as f64, total),
        "AvgHandleSeconds": ratio(talk as f64, answered),
        "AvgWaitSeconds": ratio(waited as f64, wait_calls),
        "EndStatuses": statuses.iter().map(|((code, text), n)| json!({
            "EndStatus": code,
            "EndStatusString": if text.is_empty() { end_status_string(*code).unwrap_or("").to_owned() } else { text.clone() },
            "Count": n,
        })).collect::<Vec<_>>(),
        "TopAgents": agents.iter().take(TOP).map(|(mail, (name, calls, talk))| json!({
            "Mail": mail, "Name": name, "Calls": calls, "TalkSeconds": talk,
        })).collect::<Vec<_>>(),
        "TopSkillGroups": groups.iter().take(TOP).map(|(id, (name, calls))| json!({
            "SkillGroupId": id, "Name": name, "Calls": calls,
        })).collect::<Vec<_>>(),
    }))
    .map_err(|e| ActionError::Internal(e.to_string()))
}
