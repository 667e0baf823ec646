//! How stored records are shown to one request: every URL field of an
//! object telcdr holds becomes a fresh signed link to its `/media` route
//! (the stored URL, long expired on CCC's side, stays for objects telcdr
//! does not hold), `AsrStatus` says `Complete` when telcdr holds the
//! transcript, and with number protection the caller and callee are masked.
//!
//! Stored bodies are served as they are when none of this applies (an app
//! that never had media and does not protect numbers), which keeps the hot
//! path free of JSON decoding.

use std::collections::HashMap;

use serde_json::{Map, Value};
use telcdr_media::LinkSigner;
use telcdr_model::media_name::MediaName;
use telcdr_store::MediaObject;

use crate::protect::NumberProtector;

/// Mints `/media` links valid until one expiry, against one base URL.
pub struct LinkMinter<'a> {
    pub signer: &'a LinkSigner,
    /// Scheme and authority the client reached us on, e.g.
    /// `http://127.0.0.1:8900` (no trailing slash).
    pub base: &'a str,
    /// Unix seconds.
    pub expires: i64,
}

impl LinkMinter<'_> {
    /// A signed link to the media object `name` of `sdk_app_id`. Links name
    /// the object, not where the store keeps it, so moving it (out of
    /// `pending/`) never breaks a link already handed out.
    pub fn link(&self, sdk_app_id: i64, name: &str) -> String {
        let path = format!("/media/{sdk_app_id}/{name}");
        let query = self.signer.sign(&path, self.expires);
        format!("{}{path}?{query}", self.base)
    }
}

/// Presentation of records for one request and one SdkAppId.
pub struct Presenter<'a> {
    pub links: LinkMinter<'a>,
    /// Set when numbers are masked.
    pub protector: Option<&'a NumberProtector>,
    pub sdk_app_id: i64,
}

/// Media of a page, by session id.
pub type MediaBySession<'m> = HashMap<&'m str, Vec<&'m MediaObject>>;

/// Groups media rows by their session.
pub fn by_session(media: &[MediaObject]) -> MediaBySession<'_> {
    let mut out: MediaBySession = HashMap::new();
    for m in media {
        out.entry(m.session_id.as_str()).or_default().push(m);
    }
    out
}

impl Presenter<'_> {
    /// Rewrites one TelCdrInfo object in place.
    pub fn cdr(&self, record: &mut Map<String, Value>, media: &[&MediaObject]) {
        for m in media {
            let Ok(name) = MediaName::parse(&m.name) else {
                continue;
            };
            let link = self.links.link(m.sdk_app_id, &m.name);
            match name {
                MediaName::Recording { record_id, .. } => {
                    if str_field(record, "RecordId") == record_id {
                        record.insert("RecordURL".into(), Value::String(link.clone()));
                    }
                    if let Some(Value::Array(legs)) = record.get_mut("ServeParticipants") {
                        for leg in legs.iter_mut().filter_map(Value::as_object_mut) {
                            if str_field(leg, "RecordId") == record_id {
                                leg.insert("RecordURL".into(), Value::String(link.clone()));
                            }
                        }
                    }
                }
                MediaName::Transcript { .. } => {
                    record.insert("AsrUrl".into(), Value::String(link));
                    record.insert("AsrStatus".into(), Value::String("Complete".into()));
                }
                MediaName::Voicemail { index, .. } => {
                    set_nth(record, "VoicemailRecordURL", index, link);
                }
                MediaName::VoicemailTranscript { index, .. } => {
                    set_nth(record, "VoicemailAsrURL", index, link);
                }
            }
        }
        if let Some(protector) = self.protector {
            for (plain, masked) in [("Caller", "ProtectedCaller"), ("Callee", "ProtectedCallee")] {
                let id = protector.protect(self.sdk_app_id, str_field(record, plain));
                record.insert(plain.into(), Value::String(String::new()));
                record.insert(masked.into(), Value::String(id));
            }
        }
    }
}

fn str_field<'v>(object: &'v Map<String, Value>, name: &str) -> &'v str {
    object.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Sets element `index` of a string array field, growing it with "" so a
/// link lands at the voicemail's own position.
fn set_nth(record: &mut Map<String, Value>, field: &str, index: usize, link: String) {
    let entry = record
        .entry(field)
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(list) = entry {
        while list.len() <= index {
            list.push(Value::String(String::new()));
        }
        list[index] = Value::String(link);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn media(name: &str, key: &str) -> MediaObject {
        MediaObject {
            sdk_app_id: 7,
            name: name.into(),
            session_id: "s1".into(),
            object_key: key.into(),
            size: 1,
            duration_ms: 0,
            time: 0,
        }
    }

    #[test]
    fn held_media_get_links_and_numbers_get_masked() {
        let signer = LinkSigner::new(b"secret");
        let protector = NumberProtector::new(b"p");
        let presenter = Presenter {
            links: LinkMinter {
                signer: &signer,
                base: "http://h:1",
                expires: 100,
            },
            protector: Some(&protector),
            sdk_app_id: 7,
        };
        let mut record = json!({
            "Caller": "+8613000000001", "Callee": "4000", "RecordId": "r1",
            "RecordURL": "https://ccc/expired.mp3", "AsrUrl": "", "AsrStatus": "NotExists",
            "ServeParticipants": [{"RecordId": "r2", "RecordURL": "old"}, {"RecordId": "r9", "RecordURL": "keep"}],
            "VoicemailRecordURL": [], "ProtectedCaller": "", "ProtectedCallee": ""
        });
        let objects = [
            media("r1.mp3", "7/2026/01/01/r1.mp3"),
            media("r2.wav", "7/2026/01/01/r2.wav"),
            media("s1.asr.json", "7/2026/01/01/s1.asr.json"),
            media("s1.voicemail.1.mp3", "pending/s1.voicemail.1.mp3"),
        ];
        let refs: Vec<&MediaObject> = objects.iter().collect();
        presenter.cdr(record.as_object_mut().unwrap(), &refs);
        let link = |name: &str| {
            let path = format!("/media/7/{name}");
            format!("http://h:1{path}?{}", signer.sign(&path, 100))
        };
        assert_eq!(record["RecordURL"], link("r1.mp3"));
        assert_eq!(record["ServeParticipants"][0]["RecordURL"], link("r2.wav"));
        assert_eq!(record["ServeParticipants"][1]["RecordURL"], "keep");
        assert_eq!(record["AsrUrl"], link("s1.asr.json"));
        assert_eq!(record["AsrStatus"], "Complete");
        assert_eq!(
            record["VoicemailRecordURL"],
            json!(["", link("s1.voicemail.1.mp3")])
        );
        assert_eq!(record["Caller"], "");
        assert_eq!(record["Callee"], "");
        assert_eq!(
            record["ProtectedCaller"],
            protector.protect(7, "+8613000000001")
        );
        assert_eq!(record["ProtectedCallee"], protector.protect(7, "4000"));
    }

    #[test]
    fn nothing_held_and_no_protection_changes_nothing() {
        let signer = LinkSigner::new(b"secret");
        let presenter = Presenter {
            links: LinkMinter {
                signer: &signer,
                base: "http://h:1",
                expires: 100,
            },
            protector: None,
            sdk_app_id: 7,
        };
        let original = json!({"Caller": "1", "RecordId": "r1", "RecordURL": "https://x/y.mp3"});
        let mut record = original.clone();
        presenter.cdr(record.as_object_mut().unwrap(), &[]);
        assert_eq!(record, original);
    }
}
