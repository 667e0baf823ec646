//! The local-directory backend: one file per object, at the key's path under
//! the store's directory.
//!
//! Writes are atomic and durable the POSIX way: the bytes go to a temporary
//! file in the target's directory, which is fsynced and renamed over the
//! target, and then the directory is fsynced so the rename itself survives a
//! crash. Temporary names contain `#`, which no key may, so they can never
//! collide with an object.
//!
//! Directories are not objects: a key that names a directory reads as
//! missing, like an S3 "folder".

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{MediaError, ObjectKey};

pub(crate) struct LocalStore {
    root: PathBuf,
    /// Makes temporary names unique within the process (the pid does across).
    seq: AtomicU64,
}

impl LocalStore {
    /// Creates `dir` if needed and checks that files can be written in it.
    pub(crate) fn open(dir: &Path) -> Result<LocalStore, MediaError> {
        let io_err =
            |what: &str, e: io::Error| MediaError::Io(format!("{what} {}: {e}", dir.display()));
        let root = std::path::absolute(dir).map_err(|e| io_err("cannot resolve", e))?;
        fs::create_dir_all(&root).map_err(|e| io_err("cannot create media directory", e))?;
        if !fs::metadata(&root)
            .map_err(|e| io_err("cannot read", e))?
            .is_dir()
        {
            return Err(MediaError::Io(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        let store = LocalStore {
            root,
            seq: AtomicU64::new(0),
        };
        let (probe, file) = store
            .temp_file(&store.root)
            .map_err(|e| io_err("cannot write in media directory", e))?;
        drop(file);
        let _ = fs::remove_file(probe);
        Ok(store)
    }

    /// The file of `key`. Keys have no empty, `.` or `..` segment and no
    /// separator but `/`, so this is always strictly inside `root`.
    fn path(&self, key: &ObjectKey) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(key.segments());
        path
    }

    fn err(&self, what: &str, key: &ObjectKey, e: io::Error) -> MediaError {
        MediaError::Io(format!("{what} {key} in {}: {e}", self.root.display()))
    }

    pub(crate) fn put(&self, key: &ObjectKey, bytes: &[u8]) -> Result<(), MediaError> {
        let target = self.path(key);
        let synced = self
            .make_parents(key)
            .map_err(|e| self.err("cannot create the directory of", key, e))?;
        let dir = target.parent().unwrap_or(&self.root);
        let (tmp, mut file) = self
            .temp_file(dir)
            .map_err(|e| self.err("cannot write", key, e))?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| fs::rename(&tmp, &target));
        drop(file);
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.err("cannot write", key, e));
        }
        sync_dirs(std::iter::once(dir).chain(synced.iter().map(PathBuf::as_path)))
            .map_err(|e| self.err("cannot sync the directory of", key, e))
    }

    pub(crate) fn size(&self, key: &ObjectKey) -> Result<Option<u64>, MediaError> {
        match fs::metadata(self.path(key)) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(self.err("cannot stat", key, e)),
        }
    }

    pub(crate) fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, MediaError> {
        let read = || -> io::Result<Option<Vec<u8>>> {
            let mut file = match File::open(self.path(key)) {
                Ok(file) => file,
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(e),
            };
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Ok(None);
            }
            let start = start.min(meta.len());
            let len = len.min(meta.len() - start);
            file.seek(SeekFrom::Start(start))?;
            // Capacity from the clamped length: a huge `len` costs nothing.
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.take(len).read_to_end(&mut buf)?;
            Ok(Some(buf))
        };
        read().map_err(|e| self.err("cannot read", key, e))
    }

    pub(crate) fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory => Ok(()),
            Err(e) => Err(self.err("cannot delete", key, e)),
        }
    }

    pub(crate) fn rename(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), MediaError> {
        let source = self.path(from);
        // rename(2) would happily move a whole directory; only objects move.
        match fs::symlink_metadata(&source) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(MediaError::NotFound(from.to_string())),
            Err(e) if is_missing(&e) => return Err(MediaError::NotFound(from.to_string())),
            Err(e) => return Err(self.err("cannot stat", from, e)),
        }
        if from == to {
            return Ok(());
        }
        let target = self.path(to);
        let synced = self
            .make_parents(to)
            .map_err(|e| self.err("cannot create the directory of", to, e))?;
        fs::rename(&source, &target)
            .map_err(|e| self.err(&format!("cannot rename {from} to"), to, e))?;
        let dirs = [source.parent(), target.parent()];
        sync_dirs(
            dirs.into_iter()
                .flatten()
                .chain(synced.iter().map(PathBuf::as_path)),
        )
        .map_err(|e| self.err("cannot sync the directory of", to, e))
    }

    /// Creates the missing directories above `key`'s file, root first, and
    /// returns the directories whose listing changed (to fsync after).
    fn make_parents(&self, key: &ObjectKey) -> io::Result<Vec<PathBuf>> {
        let mut changed = Vec::new();
        let mut dir = self.root.clone();
        let segments: Vec<&str> = key.segments().collect();
        for seg in &segments[..segments.len().saturating_sub(1)] {
            let parent = dir.clone();
            dir.push(seg);
            match fs::create_dir(&dir) {
                Ok(()) => changed.push(parent),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(changed)
    }

    /// A new, empty temporary file in `dir`, named so no key can match it.
    fn temp_file(&self, dir: &Path) -> io::Result<(PathBuf, File)> {
        loop {
            let n = self.seq.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".#tmp.{}.{n}", std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((path, file)),
                // Left behind by an earlier process with the same pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// A missing file, or a path through a file where a directory should be
/// (key `a/b` when `a` is an object): both mean "no such object".
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// fsyncs directories so the entries created or renamed in them are durable.
fn sync_dirs<'a>(dirs: impl Iterator<Item = &'a Path>) -> io::Result<()> {
    let mut done: Vec<&Path> = Vec::new();
    for dir in dirs {
        if !done.contains(&dir) {
            File::open(dir)?.sync_all()?;
            done.push(dir);
        }
    }
    Ok(())
}
