//! Media that arrived before their record were stored under `pending/`;
//! once the record is there, they move to their dated key
//! (`<sdk_app_id>/<yyyy>/<mm>/<dd>/<name>`, design.md §5), so the media
//! store reads the same whichever came first.
//!
//! Copy, then repoint the row, then delete the old object: an interruption
//! at any step leaves a row that points at a stored object (at worst an
//! unreferenced copy), never a link to nothing.

use telcdr_media::{MediaStore, ObjectKey};
use telcdr_store::Store;

/// Moves up to `limit` linked media out of `pending/`; returns how many
/// moved.
pub fn relocate_linked_media(
    store: &dyn Store,
    media: &MediaStore,
    limit: usize,
) -> Result<u64, String> {
    let mut moved = 0;
    for m in store
        .media_under_pending(limit)
        .map_err(|e| e.to_string())?
    {
        let from = ObjectKey::parse(&m.object_key).map_err(|e| e.to_string())?;
        let to = ObjectKey::for_media(m.sdk_app_id, m.time, &m.name).map_err(|e| e.to_string())?;
        let Some(bytes) = media.read(&from).map_err(|e| e.to_string())? else {
            // Nothing to move; the link answers 404 as it did.
            continue;
        };
        media.put(&to, bytes).map_err(|e| e.to_string())?;
        if store
            .move_media_key(m.sdk_app_id, &m.name, from.as_str(), to.as_str())
            .map_err(|e| e.to_string())?
        {
            media.delete(&from).map_err(|e| e.to_string())?;
            moved += 1;
        }
    }
    Ok(moved)
}
