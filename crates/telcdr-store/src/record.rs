//! [`NewRecord`]: one call record as the store takes it — the columns the hot
//! path and the console filter on, plus the body bytes that will be served.

use telcdr_model::{ImportedRecord, TelCdrInfo, normalize_phone};

/// A call record ready to be written: its identity (sdk_app_id, session_id),
/// the indexed columns, and the exact JSON body to serve.
///
/// `caller` and `callee` are normalised (see `telcdr_model::normalize_phone`)
/// so that a phone filter compares like with like; the body keeps the numbers
/// as they were sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub sdk_app_id: i64,
    pub session_id: String,
    /// Call initiation time, Unix seconds (the field the window applies to).
    pub time: i64,
    pub caller: String,
    pub callee: String,
    pub direction: i64,
    pub end_status: i64,
    pub seat_mail: String,
    pub skill_group_id: i64,
    /// The TelCdrInfo JSON object, as served.
    pub body: Vec<u8>,
    /// The record's `Events` (a JSON array) when it came with any; kept
    /// beside the body because DescribeTelCdr does not serve them.
    pub events: Option<Vec<u8>>,
    /// The RecordIds of the record and its legs: media named after one of
    /// them (or after the SessionId) that arrived first is linked on write.
    pub media_refs: Vec<String>,
}

impl NewRecord {
    /// Builds the stored form of a validated TelCdrInfo of `sdk_app_id`.
    pub fn from_cdr(sdk_app_id: i64, cdr: &TelCdrInfo) -> NewRecord {
        NewRecord {
            sdk_app_id,
            session_id: cdr.session_id.clone(),
            time: cdr.time,
            caller: normalize_phone(&cdr.caller),
            callee: normalize_phone(&cdr.callee),
            direction: cdr.direction,
            end_status: cdr.end_status,
            seat_mail: cdr.seat_user.mail.clone(),
            skill_group_id: cdr.skill_group_id,
            body: cdr.to_body(),
            events: None,
            media_refs: media_refs(cdr),
        }
    }

    /// Builds the stored form of an imported record, with its `Events`.
    pub fn from_imported(record: &ImportedRecord) -> NewRecord {
        let mut stored = NewRecord::from_cdr(record.sdk_app_id, &record.cdr);
        if !record.events.is_empty() {
            stored.events = serde_json::to_vec(&record.events).ok();
        }
        stored
    }
}

/// The non-empty RecordIds of a record and its legs, without repeats.
fn media_refs(cdr: &TelCdrInfo) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    let ids =
        std::iter::once(&cdr.record_id).chain(cdr.serve_participants.iter().map(|p| &p.record_id));
    for id in ids {
        if !id.is_empty() && !refs.contains(id) {
            refs.push(id.clone());
        }
    }
    refs
}
