//! Media files in, media objects out: what `import --media`, the demo,
//! `erase` and retention share.
//!
//! A file is checked before anything is written (audio is audio, a
//! transcript is an AsrData list), then the object is stored, then its row:
//! a crash in between leaves at most an object without a row, which nothing
//! serves and the next import of the same file overwrites.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::Deserialize;
use telcdr_media::{MediaStore, ObjectKey, check_audio};
use telcdr_model::media_name::MediaName;
use telcdr_model::{parse_transcript, transcript_ms};
use telcdr_store::{MediaObject, NewRecord, PendingMedia, Store};

/// The record a media file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub sdk_app_id: i64,
    pub session_id: String,
    /// The record's Time, which dates the object's key.
    pub time: i64,
}

/// A media file that passed its checks.
pub struct CheckedMedia {
    pub name: String,
    pub bytes: Vec<u8>,
    /// Transcribed span of a transcript, ms; 0 for audio.
    pub duration_ms: i64,
}

/// Checks that a file is what its name says; the error is the reason to
/// print.
pub fn check(name: &str, bytes: Vec<u8>) -> Result<CheckedMedia, String> {
    let parsed = MediaName::parse(name)?;
    let duration_ms = if parsed.is_transcript() {
        let list = parse_transcript(&bytes).map_err(|e| format!("not a transcript: {e}"))?;
        transcript_ms(&list)
    } else {
        let ext = parsed.audio_ext().unwrap_or("");
        check_audio(ext, &bytes)?;
        0
    };
    Ok(CheckedMedia {
        name: name.to_owned(),
        bytes,
        duration_ms,
    })
}

/// Stores a checked file as its record's media.
pub fn store_for_record(
    store: &dyn Store,
    media: &MediaStore,
    file: CheckedMedia,
    owner: &Owner,
) -> Result<()> {
    let key = ObjectKey::for_media(owner.sdk_app_id, owner.time, &file.name)?;
    let size = file.bytes.len() as u64;
    media
        .put(&key, file.bytes)
        .with_context(|| format!("storing {}", file.name))?;
    store.put_media(vec![MediaObject {
        sdk_app_id: owner.sdk_app_id,
        name: file.name,
        session_id: owner.session_id.clone(),
        object_key: key.as_str().to_owned(),
        size,
        duration_ms: file.duration_ms,
        time: owner.time,
    }])?;
    Ok(())
}

/// Keeps a checked file until its record arrives.
pub fn store_pending(
    store: &dyn Store,
    media: &MediaStore,
    file: CheckedMedia,
    now: i64,
) -> Result<()> {
    let key = ObjectKey::pending(&file.name)?;
    let size = file.bytes.len() as u64;
    media
        .put(&key, file.bytes)
        .with_context(|| format!("storing {}", file.name))?;
    store.put_pending_media(PendingMedia {
        name: file.name,
        object_key: key.as_str().to_owned(),
        size,
        duration_ms: file.duration_ms,
        created_at: now,
    })?;
    Ok(())
}

/// Where to find the record of a media file by its id: the records of this
/// import run (by SessionId and by RecordId), then the store.
#[derive(Default)]
pub struct Owners {
    by_id: HashMap<String, Owner>,
}

impl Owners {
    /// Remembers the ids of records just written.
    pub fn learn(&mut self, records: &[NewRecord]) {
        for r in records {
            let owner = Owner {
                sdk_app_id: r.sdk_app_id,
                session_id: r.session_id.clone(),
                time: r.time,
            };
            for id in std::iter::once(&r.session_id).chain(&r.media_refs) {
                self.by_id.insert(id.clone(), owner.clone());
            }
        }
    }

    /// The owner of `name`, looking in the store when this run did not
    /// write it: a SessionId is probed in every app; a RecordId needs the
    /// scan of [`Owners::scan_for_record_ids`].
    pub fn find(&self, store: &dyn Store, apps: &[i64], name: &MediaName) -> Result<Option<Owner>> {
        let id = name.id();
        if let Some(owner) = self.by_id.get(id) {
            return Ok(Some(owner.clone()));
        }
        if matches!(name, MediaName::Recording { .. }) {
            return Ok(None);
        }
        for &app in apps {
            if let Some(record) = store.find_record(app, id)? {
                return Ok(Some(Owner {
                    sdk_app_id: app,
                    session_id: id.to_owned(),
                    time: record.time,
                }));
            }
        }
        Ok(None)
    }

    /// Finds the records holding some RecordIds by reading every stored
    /// record once (RecordIds are not indexed: only media imported apart
    /// from their records need this).
    pub fn scan_for_record_ids(&mut self, store: &dyn Store, wanted: &[String]) -> Result<()> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct Ids {
            record_id: String,
            serve_participants: Vec<LegId>,
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct LegId {
            record_id: String,
        }
        let mut missing: std::collections::HashSet<&str> =
            wanted.iter().map(String::as_str).collect();
        let mut after = None;
        while !missing.is_empty() {
            let batch = store.scan_records(after.as_ref(), 5_000)?;
            let Some(last) = batch.last() else { break };
            after = Some((last.sdk_app_id, last.session_id.clone()));
            for r in &batch {
                let Ok(ids) = serde_json::from_slice::<Ids>(&r.body) else {
                    continue;
                };
                let refs = std::iter::once(ids.record_id)
                    .chain(ids.serve_participants.into_iter().map(|l| l.record_id));
                for id in refs {
                    if missing.remove(id.as_str()) {
                        self.by_id.insert(
                            id,
                            Owner {
                                sdk_app_id: r.sdk_app_id,
                                session_id: r.session_id.clone(),
                                time: r.time,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Deletes media objects, then forgets their rows; returns how many.
pub fn delete_objects(
    store: &dyn Store,
    media: &MediaStore,
    objects: &[MediaObject],
) -> Result<u64> {
    let mut by_app: HashMap<i64, Vec<String>> = HashMap::new();
    for m in objects {
        let key = ObjectKey::parse(&m.object_key)?;
        media
            .delete(&key)
            .with_context(|| format!("deleting media object {}", m.object_key))?;
        by_app.entry(m.sdk_app_id).or_default().push(m.name.clone());
    }
    let mut n = 0;
    for (app, names) in by_app {
        n += store.delete_media(app, names)?;
    }
    Ok(n)
}

/// Deletes records of one app with their media objects (objects first, so
/// an interrupted run leaves rows that a second run removes, never objects
/// nobody knows of). Returns (records, media objects) removed.
pub fn delete_records(
    store: &dyn Store,
    media: &MediaStore,
    sdk_app_id: i64,
    session_ids: &[String],
) -> Result<(u64, u64)> {
    let mut records = 0;
    let mut objects = 0;
    for chunk in session_ids.chunks(1_000) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let held = store.media_for_sessions(sdk_app_id, &ids)?;
        for m in &held {
            media
                .delete(&ObjectKey::parse(&m.object_key)?)
                .with_context(|| format!("deleting media object {}", m.object_key))?;
        }
        objects += held.len() as u64;
        records += store.delete_records(sdk_app_id, chunk.to_vec())?;
    }
    Ok((records, objects))
}
