//! DescribeTelRecordAsr: a call's transcript (spec 6.5), read from the
//! media store where `import --media` put `<SessionId>.asr.json`.

use serde_json::{Map, Value};
use telcdr_media::ObjectKey;
use telcdr_model::parse_transcript;

use super::records::{SESSION_FIELDS, SessionRequest};
use super::{ActionContext, ActionDef, ActionError, typed};

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeTelRecordAsr",
    fields: SESSION_FIELDS,
    run,
};

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: SessionRequest = typed(params)?;
    let view = ctx.app(req.sdk_app_id)?;
    let session = &req.session_id;
    let not_found = |en: String, zh: String| ActionError::NotFound { en, zh };
    if ctx.store.find_record(req.sdk_app_id, session)?.is_none() {
        return Err(not_found(
            format!(
                "Session {session} has no call record in SdkAppId {}.",
                req.sdk_app_id
            ),
            format!("SdkAppId {} 中没有会话 {session} 的话单。", req.sdk_app_id),
        ));
    }
    let name = format!("{session}.asr.json");
    let held = if view.has_media {
        ctx.store.media_for_sessions(req.sdk_app_id, &[session])?
    } else {
        Vec::new()
    };
    let no_transcript = || {
        not_found(
            format!("Session {session} has no transcript."),
            format!("会话 {session} 没有录音转写文本。"),
        )
    };
    let object = held
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(no_transcript)?;
    let key = ObjectKey::parse(&object.object_key)?;
    let bytes = ctx.media.read(&key)?.ok_or_else(no_transcript)?;
    let list = parse_transcript(&bytes)
        .map_err(|e| ActionError::Internal(format!("stored transcript {name}: {e}")))?;
    let mut out = b"{\"AsrDataList\":".to_vec();
    serde_json::to_writer(&mut out, &list).map_err(|e| ActionError::Internal(e.to_string()))?;
    out.push(b'}');
    Ok(out)
}
