//! DescribeTelSession: one PSTN session (spec 6.3). telcdr only knows
//! finished calls, so `SessionStatus` is always `finished`; the numbers
//! follow the app's number protection.

use serde_json::{Map, Value, json};

use super::records::{SESSION_FIELDS, SessionRequest, int_of, presented_record, str_of};
use super::{ActionContext, ActionDef, ActionError, typed};

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeTelSession",
    fields: SESSION_FIELDS,
    run,
};

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: SessionRequest = typed(params)?;
    let view = ctx.app(req.sdk_app_id)?;
    let protect = view.settings.number_protection;
    let found = presented_record(ctx, req.sdk_app_id, &view, protect, &req.session_id)?.ok_or(
        ActionError::SessionNotExists {
            session_id: req.session_id.clone(),
        },
    )?;
    let r = &found.record;
    let seat = r.get("SeatUser").and_then(Value::as_object);
    let seat_str = |name: &str| seat.map(|s| str_of(s, name)).unwrap_or_default();
    let session = json!({
        "SessionID": str_of(r, "SessionId"),
        "RoomID": "",
        "Caller": str_of(r, "Caller"),
        "Callee": str_of(r, "Callee"),
        "StartTimestamp": int_of(r, "StartTimestamp"),
        "RingTimestamp": int_of(r, "RingTimestamp"),
        "AcceptTimestamp": int_of(r, "AcceptTimestamp"),
        "StaffEmail": seat_str("Mail"),
        "StaffNumber": seat_str("StaffNumber"),
        "SessionStatus": "finished",
        "Direction": int_of(r, "Direction"),
        "OutBoundCaller": "",
        "OutBoundCallee": "",
        "ProtectedCaller": str_of(r, "ProtectedCaller"),
        "ProtectedCallee": str_of(r, "ProtectedCallee"),
    });
    serde_json::to_vec(&json!({ "Session": session }))
        .map_err(|e| ActionError::Internal(e.to_string()))
}
