//! The names of media files, as `telcdr import --media DIR` reads them and
//! as telcdr keeps them: which record a file belongs to and which URL field
//! of that record it answers.
//!
//! * `<RecordId>.mp3` / `.wav` — the recording with that RecordId (the
//!   record's own or one of its legs'): `RecordURL`;
//! * `<SessionId>.asr.json` — the call's transcript: `AsrUrl`;
//! * `<SessionId>.voicemail.<n>.<mp3|wav>` — the n-th voicemail (from 0):
//!   `VoicemailRecordURL[n]`;
//! * `<SessionId>.voicemail.<n>.asr.json` — its transcript:
//!   `VoicemailAsrURL[n]`.

/// Longest id (RecordId or SessionId) in a media name.
const MAX_ID_CHARS: usize = 128;
/// Most voicemails per call a name may address.
const MAX_VOICEMAILS: usize = 1000;

/// Audio formats a recording or voicemail may have.
pub const AUDIO_EXTENSIONS: &[&str] = &["mp3", "wav"];

/// What a media file is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaName<'a> {
    Recording {
        record_id: &'a str,
        ext: &'a str,
    },
    Transcript {
        session_id: &'a str,
    },
    Voicemail {
        session_id: &'a str,
        index: usize,
        ext: &'a str,
    },
    VoicemailTranscript {
        session_id: &'a str,
        index: usize,
    },
}

impl<'a> MediaName<'a> {
    /// Reads a file name; the error says what the name should look like.
    pub fn parse(name: &'a str) -> Result<MediaName<'a>, String> {
        let expected = "expected <RecordId>.mp3|wav, <SessionId>.asr.json, \
                        <SessionId>.voicemail.<n>.mp3|wav or <SessionId>.voicemail.<n>.asr.json";
        let (stem, ext) = match name.strip_suffix(".asr.json") {
            Some(stem) => (stem, None),
            None => match name.rsplit_once('.') {
                Some((stem, ext)) if AUDIO_EXTENSIONS.contains(&ext) => (stem, Some(ext)),
                _ => return Err(format!("{name:?} is not a media file name: {expected}")),
            },
        };
        let parsed = match stem.split_once(".voicemail.") {
            Some((session_id, n)) => {
                let index = n
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < MAX_VOICEMAILS && n == i.to_string())
                    .ok_or_else(|| {
                        format!(
                            "{name:?}: the voicemail number {n:?} must be 0 to {}",
                            MAX_VOICEMAILS - 1
                        )
                    })?;
                match ext {
                    Some(ext) => MediaName::Voicemail {
                        session_id,
                        index,
                        ext,
                    },
                    None => MediaName::VoicemailTranscript { session_id, index },
                }
            }
            None => match ext {
                Some(ext) => MediaName::Recording {
                    record_id: stem,
                    ext,
                },
                None => MediaName::Transcript { session_id: stem },
            },
        };
        let id = parsed.id();
        let id_ok = !id.is_empty()
            && id.chars().count() <= MAX_ID_CHARS
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!(
                "{name:?}: the id {id:?} must be 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'"
            ));
        }
        Ok(parsed)
    }

    /// The RecordId or SessionId the file belongs to.
    pub fn id(&self) -> &'a str {
        match *self {
            MediaName::Recording { record_id, .. } => record_id,
            MediaName::Transcript { session_id }
            | MediaName::Voicemail { session_id, .. }
            | MediaName::VoicemailTranscript { session_id, .. } => session_id,
        }
    }

    /// Whether the file is a transcript (JSON) rather than audio.
    pub fn is_transcript(&self) -> bool {
        matches!(
            self,
            MediaName::Transcript { .. } | MediaName::VoicemailTranscript { .. }
        )
    }

    /// The audio extension, for audio files.
    pub fn audio_ext(&self) -> Option<&'a str> {
        match *self {
            MediaName::Recording { ext, .. } | MediaName::Voicemail { ext, .. } => Some(ext),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_layout() {
        assert_eq!(
            MediaName::parse("e9fdbff5-2e35.mp3"),
            Ok(MediaName::Recording {
                record_id: "e9fdbff5-2e35",
                ext: "mp3"
            })
        );
        assert_eq!(
            MediaName::parse("s-1.asr.json"),
            Ok(MediaName::Transcript { session_id: "s-1" })
        );
        assert_eq!(
            MediaName::parse("s-1.voicemail.2.wav"),
            Ok(MediaName::Voicemail {
                session_id: "s-1",
                index: 2,
                ext: "wav"
            })
        );
        assert_eq!(
            MediaName::parse("s-1.voicemail.0.asr.json"),
            Ok(MediaName::VoicemailTranscript {
                session_id: "s-1",
                index: 0
            })
        );
        assert!(MediaName::parse("s-1.asr.json").unwrap().is_transcript());
        assert_eq!(MediaName::parse("r.wav").unwrap().audio_ext(), Some("wav"));
    }

    #[test]
    fn other_names_are_refused_with_the_layout() {
        for bad in [
            "notes.txt",
            "x.json",
            ".mp3",
            "a.b.mp3",
            "../x.mp3",
            "s.voicemail.x.mp3",
            "s.voicemail.01.mp3",
            "s.voicemail.-1.mp3",
            ".asr.json",
            "a b.wav",
        ] {
            assert!(MediaName::parse(bad).is_err(), "{bad} was accepted");
        }
        assert!(
            MediaName::parse("notes.txt")
                .unwrap_err()
                .contains("<RecordId>.mp3|wav")
        );
    }
}
