//! What the record-returning actions share: turning stored bodies into the
//! bodies of one answer (links to held media, masked numbers), and reading
//! one record as a JSON object.

use serde::Deserialize;
use serde_json::{Map, Value};
use tcapi::{Field, Ty};
use telcdr_store::AppView;

use super::{ActionContext, ActionError};
use crate::present::by_session;

/// Parameters of the actions that read one session by its id.
#[rustfmt::skip]
pub(crate) const SESSION_FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "SessionId", ty: Ty::Str, required: true },
];

/// A request for one session.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SessionRequest {
    pub sdk_app_id: i64,
    pub session_id: String,
}

/// The bodies of a page as this request must see them. Bodies go out as
/// stored, undecoded, when the app never had media and numbers are not
/// masked.
pub(crate) fn present_bodies(
    ctx: &ActionContext,
    sdk_app_id: i64,
    view: &AppView,
    protect: bool,
    bodies: Vec<Vec<u8>>,
) -> Result<Vec<Vec<u8>>, ActionError> {
    if !view.has_media && !protect {
        return Ok(bodies);
    }
    let mut objects = bodies
        .iter()
        .map(|b| body_object(b))
        .collect::<Result<Vec<_>, _>>()?;
    let media = if view.has_media {
        let sessions: Vec<&str> = objects
            .iter()
            .filter_map(|o| o.get("SessionId").and_then(Value::as_str))
            .collect();
        ctx.store.media_for_sessions(sdk_app_id, &sessions)?
    } else {
        Vec::new()
    };
    let media = by_session(&media);
    let presenter = ctx.presenter(sdk_app_id, protect);
    objects
        .iter_mut()
        .map(|object| {
            let session = object
                .get("SessionId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let held = media
                .get(session.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            presenter.cdr(object, held);
            serde_json::to_vec(object).map_err(|e| ActionError::Internal(e.to_string()))
        })
        .collect()
}

/// A stored body as a JSON object.
pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, ActionError> {
    serde_json::from_slice(body)
        .map_err(|e| ActionError::Internal(format!("a stored record is not a JSON object: {e}")))
}

/// Reads a record and shows it as this request must see it, with the media
/// held for it; None when there is no such record.
pub(crate) fn presented_record(
    ctx: &ActionContext,
    sdk_app_id: i64,
    view: &AppView,
    protect: bool,
    session_id: &str,
) -> Result<Option<PresentedRecord>, ActionError> {
    let Some(stored) = ctx.store.find_record(sdk_app_id, session_id)? else {
        return Ok(None);
    };
    let mut record = body_object(&stored.body)?;
    let media = if view.has_media {
        ctx.store.media_for_sessions(sdk_app_id, &[session_id])?
    } else {
        Vec::new()
    };
    let held: Vec<_> = media.iter().collect();
    ctx.presenter(sdk_app_id, protect).cdr(&mut record, &held);
    let events = match stored.events {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ActionError::Internal(format!("stored events are not JSON: {e}")))?,
        None => Value::Array(Vec::new()),
    };
    Ok(Some(PresentedRecord {
        time: stored.time,
        record,
        events,
    }))
}

/// One record ready for a single-session answer.
pub(crate) struct PresentedRecord {
    pub time: i64,
    /// The TelCdrInfo object, links minted and numbers masked as needed.
    pub record: Map<String, Value>,
    /// `Events` (an array, empty when the record came without).
    pub events: Value,
}

/// Field accessors that never fail: stored records always carry every
/// member, but a missing one reads as the type's empty value.
pub(crate) fn str_of(object: &Map<String, Value>, name: &str) -> String {
    object
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

pub(crate) fn int_of(object: &Map<String, Value>, name: &str) -> i64 {
    object.get(name).and_then(Value::as_i64).unwrap_or(0)
}

/// A member as it is, or `default` when absent.
pub(crate) fn value_of(object: &Map<String, Value>, name: &str, default: Value) -> Value {
    object.get(name).cloned().unwrap_or(default)
}
