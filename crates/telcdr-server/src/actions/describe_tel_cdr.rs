//! DescribeTelCdr: a tenant's call records in a time window, newest first,
//! optionally filtered by phone numbers and session ids, one page at a time
//! with an exact total (spec 6.1, design.md §3).

use serde::Deserialize;
use serde_json::{Map, Value};
use tcapi::{Field, Ty};
use telcdr_model::normalize_phone;
use telcdr_store::{CdrQuery, ExtraFilters};

use super::records::present_bodies;
use super::window::{TIME_STAMP, check_page, check_window};
use super::{ActionContext, ActionDef, ActionError, typed};

/// Most entries accepted in `Phones` and in `SessionIds`.
pub(crate) const MAX_FILTER_ENTRIES: usize = 100;

#[rustfmt::skip]
const FIELDS: &[Field] = &[
    Field { name: "StartTimeStamp", ty: Ty::Int, required: true },
    Field { name: "EndTimeStamp", ty: Ty::Int, required: true },
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "PageSize", ty: Ty::Int, required: true },
    Field { name: "PageNumber", ty: Ty::Int, required: true },
    // Deprecated: accepted and ignored, as the SDKs can still send them.
    Field { name: "InstanceId", ty: Ty::Int, required: false },
    Field { name: "Limit", ty: Ty::Int, required: false },
    Field { name: "Offset", ty: Ty::Int, required: false },
    Field { name: "Phones", ty: Ty::List(&Ty::Str), required: false },
    Field { name: "SessionIds", ty: Ty::List(&Ty::Str), required: false },
];

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeTelCdr",
    fields: FIELDS,
    run,
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Request {
    start_time_stamp: i64,
    end_time_stamp: i64,
    sdk_app_id: i64,
    page_size: i64,
    page_number: i64,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    session_ids: Vec<String>,
}

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    answer(ctx, typed(params)?, &ExtraFilters::default(), false)
}

/// A page of records with its total; numbers masked when the app asks for
/// it or `always_protect` (DescribeProtectedTelCdr) says so. `extra` holds
/// the console's filters (TelcdrSearchCdrs), empty for Tencent's actions.
pub(crate) fn answer(
    ctx: &ActionContext,
    req: Request,
    extra: &ExtraFilters,
    always_protect: bool,
) -> Result<Vec<u8>, ActionError> {
    let (offset, limit) = check_page(req.page_size, req.page_number)?;
    check_window(
        req.start_time_stamp,
        req.end_time_stamp,
        ctx.now,
        ctx.query_limits,
        &TIME_STAMP,
    )?;
    let phones = normalized_phones(&req.phones)?;
    check_session_ids(&req.session_ids)?;
    let view = ctx.app(req.sdk_app_id)?;

    let query = CdrQuery {
        sdk_app_id: req.sdk_app_id,
        start: req.start_time_stamp,
        end: req.end_time_stamp,
        phones,
        session_ids: req.session_ids,
        offset,
        limit,
    };
    let page = ctx.store.search_cdrs(&query, extra)?;
    let protect = always_protect || view.settings.number_protection;
    let records = present_bodies(ctx, req.sdk_app_id, &view, protect, page.records)?;
    Ok(cdr_list_object(page.total, &records))
}

/// `{"TotalCount":N,"TelCdrList":[...]}` spliced from stored bodies, which
/// are already the JSON that is served.
pub(crate) fn cdr_list_object(total: u64, records: &[Vec<u8>]) -> Vec<u8> {
    let size = records.iter().map(|r| r.len() + 1).sum::<usize>() + 48;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"TotalCount\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"TelCdrList\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record);
    }
    out.extend_from_slice(b"]}");
    out
}

fn normalized_phones(phones: &[String]) -> Result<Vec<String>, ActionError> {
    if phones.len() > MAX_FILTER_ENTRIES {
        return Err(ActionError::invalid(
            format!(
                "Phones may hold at most {MAX_FILTER_ENTRIES} numbers, got {}.",
                phones.len()
            ),
            format!(
                "Phones 最多 {MAX_FILTER_ENTRIES} 个号码，当前为 {} 个。",
                phones.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(phones.len());
    for (i, phone) in phones.iter().enumerate() {
        let normalized = normalize_phone(phone);
        if normalized.is_empty() {
            return Err(ActionError::invalid(
                format!("Phones.{i} ({phone:?}) is not a phone number: it has no digits."),
                format!("Phones.{i}（{phone:?}）不是有效的电话号码：不含数字。"),
            ));
        }
        out.push(normalized);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn check_session_ids(ids: &[String]) -> Result<(), ActionError> {
    if ids.len() > MAX_FILTER_ENTRIES {
        return Err(ActionError::invalid(
            format!(
                "SessionIds may hold at most {MAX_FILTER_ENTRIES} ids, got {}.",
                ids.len()
            ),
            format!(
                "SessionIds 最多 {MAX_FILTER_ENTRIES} 个，当前为 {} 个。",
                ids.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_object_splices_bodies() {
        let out = cdr_list_object(3, &[b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"TotalCount":3,"TelCdrList":[{"a":1},{"b":2}]}"#
        );
        assert_eq!(
            cdr_list_object(0, &[]),
            br#"{"TotalCount":0,"TelCdrList":[]}"#
        );
    }

    #[test]
    fn phones_are_normalised_deduplicated_and_bounded() {
        let got = normalized_phones(&[
            "+8613012345678".into(),
            "008613012345678".into(),
            "13900000000".into(),
        ])
        .unwrap();
        assert_eq!(got, vec!["13900000000", "8613012345678"]);
        assert!(normalized_phones(&["abc".into()]).is_err());
        let many: Vec<String> = (0..101).map(|i| format!("138{i:08}")).collect();
        assert!(
            normalized_phones(&many)
                .unwrap_err()
                .to_string()
                .contains("at most 100")
        );
    }
}
