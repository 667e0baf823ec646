//! The recordings, voicemails and transcripts of synced records, fetched
//! while their links are valid (CCC's expire in 24 hours, spec 7.5) and
//! stored as the records' media under the import layout's names
//! (`telcdr_model::media_name`):
//!
//! - `RecordURL` of the record and of each leg: `<RecordId>.mp3|wav`, the
//!   extension from the URL's path, else from the bytes, else mp3;
//! - `VoicemailRecordURL[n]`: `<SessionId>.voicemail.<n>.mp3|wav`;
//! - `VoicemailAsrURL[n]`: `<SessionId>.voicemail.<n>.asr.json`;
//! - `AsrStatus` `Complete`: DescribeTelRecordAsr's `AsrDataList`, as
//!   `<SessionId>.asr.json`.
//!
//! Every file is checked like an imported one (`commands/media.rs`) before
//! it is stored. Media already held are not fetched again. A file that
//! cannot be fetched (after retries) or fails its check is reported and
//! counted, never fatal: the record is kept either way.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use telcdr_media::MediaStore;
use telcdr_model::ImportedRecord;
use telcdr_model::media_name::MediaName;
use telcdr_store::Store;

use super::client::{ApiClient, CallError, error_chain};
use crate::commands::media::{Owner, check, store_for_record};

/// Attempts of one download (network errors, 5xx and 429 are retried).
const DOWNLOAD_ATTEMPTS: u32 = 4;

/// What a media file is to its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// `RecordURL` of the record or of a leg with this RecordId.
    Recording { record_id: String },
    /// `VoicemailRecordURL[index]`.
    Voicemail { index: usize },
    /// `VoicemailAsrURL[index]`.
    VoicemailTranscript { index: usize },
    /// The call's transcript, from DescribeTelRecordAsr.
    Transcript,
}

/// One file to fetch for one record.
#[derive(Debug, Clone)]
pub struct Job {
    pub owner: Owner,
    pub what: What,
    /// Where to fetch it; empty for a transcript (an API call).
    pub url: String,
}

/// Identifies a file whatever its extension: (kind, id, index).
type HeldKey = (u8, String, usize);

impl Job {
    fn key(&self) -> HeldKey {
        let session = || self.owner.session_id.clone();
        match &self.what {
            What::Recording { record_id } => (b'r', record_id.clone(), 0),
            What::Voicemail { index } => (b'v', session(), *index),
            What::VoicemailTranscript { index } => (b'w', session(), *index),
            What::Transcript => (b't', session(), 0),
        }
    }

    /// What it is, for messages: `RecordURL of RecordId r1`, ...
    fn describe(&self) -> String {
        let url = self.url.split('?').next().unwrap_or("");
        match &self.what {
            What::Recording { record_id } => format!("recording {record_id} ({url})"),
            What::Voicemail { index } => format!("VoicemailRecordURL[{index}] ({url})"),
            What::VoicemailTranscript { index } => format!("VoicemailAsrURL[{index}] ({url})"),
            What::Transcript => "transcript (DescribeTelRecordAsr)".to_owned(),
        }
    }
}

fn held_key(name: &str) -> Option<HeldKey> {
    Some(match MediaName::parse(name).ok()? {
        MediaName::Recording { record_id, .. } => (b'r', record_id.to_owned(), 0),
        MediaName::Voicemail {
            session_id, index, ..
        } => (b'v', session_id.to_owned(), index),
        MediaName::VoicemailTranscript { session_id, index } => {
            (b'w', session_id.to_owned(), index)
        }
        MediaName::Transcript { session_id } => (b't', session_id.to_owned(), 0),
    })
}

/// The files a record names, each once.
pub fn jobs_for(record: &ImportedRecord, out: &mut Vec<Job>) {
    let cdr = &record.cdr;
    let owner = Owner {
        sdk_app_id: record.sdk_app_id,
        session_id: cdr.session_id.clone(),
        time: cdr.time,
    };
    let first = out.len();
    let mut push = |what: What, url: &str| {
        let job = Job {
            owner: owner.clone(),
            what,
            url: url.to_owned(),
        };
        if !out[first..].iter().any(|j| j.key() == job.key()) {
            out.push(job);
        }
    };
    let recordings = std::iter::once((&cdr.record_id, &cdr.record_url)).chain(
        cdr.serve_participants
            .iter()
            .map(|leg| (&leg.record_id, &leg.record_url)),
    );
    for (record_id, url) in recordings {
        if !url.is_empty() {
            let record_id = record_id.clone();
            push(What::Recording { record_id }, url);
        }
    }
    for (index, url) in cdr.voicemail_record_url.iter().enumerate() {
        if !url.is_empty() {
            push(What::Voicemail { index }, url);
        }
    }
    for (index, url) in cdr.voicemail_asr_url.iter().enumerate() {
        if !url.is_empty() {
            push(What::VoicemailTranscript { index }, url);
        }
    }
    if cdr.asr_status == "Complete" {
        push(What::Transcript, "");
    }
}

/// Drops the jobs whose file the store already holds.
pub fn not_held(store: &dyn Store, sdk_app_id: i64, jobs: Vec<Job>) -> Result<Vec<Job>> {
    if jobs.is_empty() {
        return Ok(jobs);
    }
    let mut sessions: Vec<&str> = jobs.iter().map(|j| j.owner.session_id.as_str()).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let mut held: HashSet<HeldKey> = HashSet::new();
    for chunk in sessions.chunks(500) {
        for m in store.media_for_sessions(sdk_app_id, chunk)? {
            held.extend(held_key(&m.name));
        }
    }
    Ok(jobs
        .into_iter()
        .filter(|j| !held.contains(&j.key()))
        .collect())
}

/// What became of a batch of jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub stored: u64,
    pub failed: u64,
    /// Ctrl-C arrived before every job ran.
    pub stopped: bool,
}

/// Fetches, checks and stores jobs on `workers` threads. A failed file is
/// passed to `report`; an error of the store is returned.
pub fn run_jobs(
    client: &ApiClient,
    store: &dyn Store,
    media: &MediaStore,
    jobs: Vec<Job>,
    workers: usize,
    report: &(dyn Fn(&str) + Sync),
) -> Result<Tally> {
    let queue = Mutex::new(jobs.into_iter());
    let tally = Mutex::new(Tally::default());
    let fatal: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some(job) = next else { break };
                    if client.stopped() {
                        tally.lock().unwrap_or_else(|e| e.into_inner()).stopped = true;
                        break;
                    }
                    let outcome = fetch_one(client, store, media, &job);
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match outcome {
                        Ok(Fetched::Stored) => t.stored += 1,
                        Ok(Fetched::Failed(why)) => {
                            t.failed += 1;
                            drop(t);
                            report(&format!(
                                "SessionId {}: {}: not stored: {why}",
                                job.owner.session_id,
                                job.describe()
                            ));
                        }
                        Ok(Fetched::Stopped) => t.stopped = true,
                        Err(e) => {
                            drop(t);
                            fatal
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(tally.into_inner().unwrap_or_else(|e| e.into_inner()))
}

enum Fetched {
    Stored,
    Failed(String),
    Stopped,
}

/// One job: Ok(Failed) for a file that could not be had, Err for the
/// store failing.
fn fetch_one(
    client: &ApiClient,
    store: &dyn Store,
    media: &MediaStore,
    job: &Job,
) -> Result<Fetched> {
    let session = &job.owner.session_id;
    let fetched = match &job.what {
        What::Transcript => match client.describe_tel_record_asr(job.owner.sdk_app_id, session) {
            Ok(list) => Ok((file_name(job, &list), list)),
            Err(CallError::Stopped) => return Ok(Fetched::Stopped),
            Err(e) => Err(e.to_string()),
        },
        _ => download(client, &job.url).map(|bytes| (file_name(job, &bytes), bytes)),
    };
    let (name, bytes) = match fetched {
        Ok(file) => file,
        Err(_) if client.stopped() => return Ok(Fetched::Stopped),
        Err(why) => return Ok(Fetched::Failed(why)),
    };
    let file = match check(&name, bytes) {
        Ok(file) => file,
        Err(why) => return Ok(Fetched::Failed(format!("{name}: {why}"))),
    };
    store_for_record(store, media, file, &job.owner)?;
    Ok(Fetched::Stored)
}

/// The name a fetched file is stored under.
fn file_name(job: &Job, bytes: &[u8]) -> String {
    let session = &job.owner.session_id;
    match &job.what {
        What::Recording { record_id } => format!("{record_id}.{}", audio_ext(&job.url, bytes)),
        What::Voicemail { index } => {
            format!("{session}.voicemail.{index}.{}", audio_ext(&job.url, bytes))
        }
        What::VoicemailTranscript { index } => format!("{session}.voicemail.{index}.asr.json"),
        What::Transcript => format!("{session}.asr.json"),
    }
}

/// GETs a URL, retrying network errors, 5xx and 429.
fn download(client: &ApiClient, url: &str) -> Result<Vec<u8>, String> {
    let mut backoff = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 1..=DOWNLOAD_ATTEMPTS {
        if attempt > 1 && !client.sleep(backoff) {
            return Err("interrupted".into());
        }
        backoff *= 2;
        match client.http().get(url).send() {
            Err(e) => last = error_chain(&e),
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    match response.bytes() {
                        Ok(bytes) => return Ok(bytes.to_vec()),
                        Err(e) => last = format!("reading it: {}", error_chain(&e)),
                    }
                } else if status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                {
                    last = format!("HTTP {status}");
                } else {
                    return Err(format!("HTTP {status}"));
                }
            }
        }
    }
    Err(format!("{last} (after {DOWNLOAD_ATTEMPTS} attempts)"))
}

/// `mp3` or `wav`: the URL path's extension when it is one of them, else
/// what the bytes look like, else mp3.
fn audio_ext(url: &str, bytes: &[u8]) -> &'static str {
    let path = reqwest::Url::parse(url)
        .map(|u| u.path().to_ascii_lowercase())
        .unwrap_or_default();
    if path.ends_with(".wav") {
        "wav"
    } else if path.ends_with(".mp3") {
        "mp3"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        "wav"
    } else {
        "mp3"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telcdr_model::parse_record_line;

    #[test]
    fn a_record_names_its_files_once() {
        let line = br#"{"SdkAppId":7,"SessionId":"s1","Time":1700000000,"RecordId":"r1",
            "RecordURL":"https://x/r1.wav?sig=1","AsrStatus":"Complete",
            "ServeParticipants":[{"RecordId":"r1","RecordURL":"https://x/r1.wav"},
                                 {"RecordId":"r2","RecordURL":"https://x/r2"},
                                 {"RecordId":"r3","RecordURL":""}],
            "VoicemailRecordURL":["","https://x/v1.mp3"],"VoicemailAsrURL":["https://x/a0"]}"#;
        let record = parse_record_line(line).unwrap();
        let mut jobs = Vec::new();
        jobs_for(&record, &mut jobs);
        let whats: Vec<&What> = jobs.iter().map(|j| &j.what).collect();
        assert_eq!(
            whats,
            vec![
                &What::Recording {
                    record_id: "r1".into()
                },
                &What::Recording {
                    record_id: "r2".into()
                },
                &What::Voicemail { index: 1 },
                &What::VoicemailTranscript { index: 0 },
                &What::Transcript,
            ]
        );
        assert_eq!(jobs[0].owner.time, 1_700_000_000);
        assert_eq!(held_key("r2.mp3"), Some(jobs[1].key()));
        assert_eq!(held_key("s1.voicemail.1.wav"), Some(jobs[2].key()));
        assert_eq!(held_key("s1.voicemail.0.asr.json"), Some(jobs[3].key()));
        assert_eq!(held_key("s1.asr.json"), Some(jobs[4].key()));
    }

    #[test]
    fn extensions_from_the_path_then_the_bytes() {
        assert_eq!(audio_ext("http://h/media/7/r.wav?Expires=1", b""), "wav");
        assert_eq!(audio_ext("https://h/r.MP3", b"RIFF....WAVE"), "mp3");
        assert_eq!(
            audio_ext("https://h/get?id=r", b"RIFF\0\0\0\0WAVEfmt "),
            "wav"
        );
        assert_eq!(audio_ext("https://h/get?id=r", b"ID3"), "mp3");
    }
}
