//! telcdr's model of Tencent Cloud CCC call records.
//!
//! * [`cdr`] — wire types of DescribeTelCdr with Tencent's exact member names.
//! * [`session_event`] — DescribeSessionDetail's `Events` (hold, mute, ...),
//!   carried by import lines beside the record.
//! * [`asr`] — transcripts (DescribeTelRecordAsr's `AsrData`): the transcript
//!   file's parser and the transcribed span behind ASR minutes.
//! * [`end_status`] — the EndStatus / EndStatusString table.
//! * [`phone`] — phone number normalisation used for matching.
//! * [`record`] — import lines: parsing and validation, and the line writer.
//! * [`push`] — CCC data-push bodies of recordings and voicemails.
//! * [`media_name`] — the names of media files and the URL field each answers.
//! * [`generate`](mod@generate) — a deterministic generator of realistic records for demos,
//!   tests and benchmarks, and the demo's recordings and transcripts
//!   ([`demo_recording_wav`], [`demo_transcript`]).
//!
//! The crate knows nothing of HTTP, SQL or signatures: everything here is a
//! pure function or plain data, so it is tested directly (unit and property
//! tests) and reused by the store, the server and the command line.
//!
//! ```
//! use telcdr_model::{normalize_phone, parse_record_line, to_json_line};
//!
//! let r = parse_record_line(br#"{"SdkAppId":1400000000,"SessionId":"s1",
//!     "Time":1729756291,"Caller":"+8613012345678","EndStatusString":"busy"}"#)
//!     .unwrap();
//! assert_eq!(r.cdr.end_status, 206); // filled in from the table
//! assert_eq!(normalize_phone(&r.cdr.caller), "8613012345678");
//! assert_eq!(parse_record_line(to_json_line(&r).as_bytes()), Ok(r));
//!
//! let e = parse_record_line(br#"{"SdkAppId":1,"SessionId":"s","Time":1,"Direction":7}"#);
//! assert_eq!(e.unwrap_err().to_string(), "Direction must be 0 (inbound) or 1 (outbound), got 7");
//! ```

pub mod asr;
pub mod cdr;
pub mod end_status;
pub mod generate;
mod line;
pub mod media_name;
pub mod phone;
pub mod push;
pub mod record;
mod rng;
pub mod session_event;
mod strict;

pub use asr::{AsrData, TranscriptError, parse_transcript, transcript_ms};

pub use cdr::{
    IVRKeyPressedElement, IvrKeyPressedElement, SeatUserInfo, ServeParticipant, TelCdrInfo,
};
pub use end_status::{END_STATUS_TABLE, end_status_code, end_status_string};
pub use generate::{
    GenerateOptions, Generator, demo_recording_wav, demo_transcript, generate, recording_secs,
};
pub use phone::normalize_phone;
pub use record::{
    ImportedRecord, MAX_SESSION_ID_CHARS, RecordError, parse_record_line, to_json_line,
};
pub use session_event::{EventStaffDetail, EventStaffElement, SESSION_EVENT_TYPES, SessionEvent};
