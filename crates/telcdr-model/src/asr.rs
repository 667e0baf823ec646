//! Transcripts (spec 6.5, DescribeTelRecordAsr): the [`AsrData`] sentence,
//! the transcript file a user puts beside the recordings
//! ([`parse_transcript`]), and the transcribed span that ASR minutes are
//! counted from ([`transcript_ms`]).
//!
//! ```
//! use telcdr_model::{parse_transcript, transcript_ms};
//!
//! let list = parse_transcript(br#"{"AsrDataList":[
//!     {"User":"bob@example.com","Message":"How can I help?","Start":1729756308000,"End":1729756309500},
//!     {"User":"user","Message":"My parcel is late.","Start":1729756310200,"End":1729756312000}]}"#)
//!     .unwrap();
//! assert_eq!(list[1].timestamp, 1_729_756_310_200); // deprecated, filled from Start
//! assert_eq!(transcript_ms(&list), 4_000);
//!
//! let e = parse_transcript(br#"[{"Message":"hi","Start":1729756308,"End":1729756309}]"#);
//! assert_eq!(
//!     e.unwrap_err().to_string(),
//!     "sentence 0: Start (1729756308) looks like seconds, milliseconds expected"
//! );
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::{describe, json_type};

/// One transcribed sentence (spec 6.5, "AsrData"). Every member is always
/// serialised, `Timestamp` included although Tencent deprecated it: typed SDKs
/// still declare it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct AsrData {
    /// The speaker: the agent's email for the agent, `user` for the customer
    /// (Tencent's example uses the email; any string is accepted).
    #[serde(rename = "User")]
    pub user: String,
    /// The sentence.
    #[serde(rename = "Message")]
    pub message: String,
    /// Deprecated; its unit is undocumented. [`parse_transcript`] fills it
    /// with `start` when a file leaves it out (the same instant, in the same
    /// unit as the other times of the sentence).
    #[serde(rename = "Timestamp")]
    pub timestamp: i64,
    /// Start of the sentence, Unix **milliseconds**.
    #[serde(rename = "Start")]
    pub start: i64,
    /// End of the sentence, Unix **milliseconds**; not before `start`.
    #[serde(rename = "End")]
    pub end: i64,
}

/// Smallest `Start`/`End` accepted: 10^11 ms is March 1973, while a current
/// time in seconds is about 1.7 × 10^9, so anything below is seconds (or an
/// offset into the recording), not a Unix time in milliseconds.
pub const MIN_TRANSCRIPT_MS: i64 = 100_000_000_000;

/// Largest `Start`/`End` accepted: 10^14 ms is the year 5138, while a current
/// time in microseconds is about 1.7 × 10^15.
pub const MAX_TRANSCRIPT_MS: i64 = 100_000_000_000_000;

/// Why a transcript file was rejected. Sentences are numbered from 0, as in
/// the file's array (`jq '.[3]'` or `.AsrDataList[3]` shows sentence 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// The bytes are not JSON at all.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON is neither an array nor an object with `AsrDataList`.
    #[error(
        "a transcript must be a JSON array of AsrData sentences or an object with an AsrDataList array, got {0}"
    )]
    NotATranscript(&'static str),
    /// `AsrDataList` is there but not an array.
    #[error("AsrDataList must be an array, got {0}")]
    ListNotArray(String),
    /// An element of the list is not an object.
    #[error("sentence {index} must be an object, got {got}")]
    SentenceNotObject {
        /// Position in the list, from 0.
        index: usize,
        /// A short rendering of what was found.
        got: String,
    },
    /// A required member (`Message`, `Start`, `End`) is absent or `null`.
    #[error("sentence {index}: {field} is missing")]
    Missing {
        /// Position in the list, from 0.
        index: usize,
        /// The member.
        field: &'static str,
    },
    /// A member has the wrong JSON type.
    #[error("sentence {index}: {field} must be {expected}, got {got}")]
    WrongType {
        /// Position in the list, from 0.
        index: usize,
        /// The member.
        field: &'static str,
        /// What is allowed, e.g. "an integer".
        expected: &'static str,
        /// A short rendering of what was found.
        got: String,
    },
    /// A time is negative.
    #[error("sentence {index}: {field} must not be negative, got {got}")]
    Negative {
        /// Position in the list, from 0.
        index: usize,
        /// The member.
        field: &'static str,
        /// The value found.
        got: i64,
    },
    /// `Start`/`End` below [`MIN_TRANSCRIPT_MS`].
    #[error("sentence {index}: {field} ({got}) looks like seconds, milliseconds expected")]
    Seconds {
        /// Position in the list, from 0.
        index: usize,
        /// `Start` or `End`.
        field: &'static str,
        /// The value found.
        got: i64,
    },
    /// `Start`/`End` above [`MAX_TRANSCRIPT_MS`].
    #[error("sentence {index}: {field} ({got}) looks like microseconds, milliseconds expected")]
    Microseconds {
        /// Position in the list, from 0.
        index: usize,
        /// `Start` or `End`.
        field: &'static str,
        /// The value found.
        got: i64,
    },
    /// The sentence ends before it starts.
    #[error("sentence {index}: End ({end}) is before Start ({start})")]
    EndBeforeStart {
        /// Position in the list, from 0.
        index: usize,
        /// `Start` found.
        start: i64,
        /// `End` found.
        end: i64,
    },
}

/// Parse and validate a transcript file (`<SessionId>.asr.json`).
///
/// Accepted shapes, after an optional UTF-8 byte-order mark:
///
/// * a JSON array of AsrData objects;
/// * `{"AsrDataList":[...]}` — DescribeTelRecordAsr's output as `tccli`
///   prints it (other members such as `RequestId` are ignored), and the full
///   API answer `{"Response":{"AsrDataList":[...],...}}`, so an answer saved
///   to a file imports back. `"AsrDataList":null` is an empty transcript.
///
/// Rules for each sentence (`null` members count as absent, unknown members
/// are ignored):
///
/// * `Message` is required, a string;
/// * `User` is a string, `""` when absent;
/// * `Start` and `End` are required integers, Unix **milliseconds**: not
///   negative, not below [`MIN_TRANSCRIPT_MS`] (seconds), not above
///   [`MAX_TRANSCRIPT_MS`] (microseconds); `End` is not before `Start`;
/// * `Timestamp` (deprecated, unit undocumented) is a non-negative integer;
///   when absent it is set to `Start`.
///
/// An empty list is a valid (empty) transcript. The first problem found is
/// returned; sentences are checked in order.
pub fn parse_transcript(bytes: &[u8]) -> Result<Vec<AsrData>, TranscriptError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| TranscriptError::InvalidJson(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut obj) => match list_member(&mut obj) {
            Some(list) => list?,
            None => match obj.remove("Response") {
                Some(Value::Object(mut response)) => list_member(&mut response).unwrap_or(Err(
                    TranscriptError::NotATranscript("an object whose Response has no AsrDataList"),
                ))?,
                _ => {
                    return Err(TranscriptError::NotATranscript(
                        "an object without AsrDataList",
                    ));
                }
            },
        },
        other => return Err(TranscriptError::NotATranscript(json_type(&other))),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(obj) => sentence(index, obj),
            other => Err(TranscriptError::SentenceNotObject {
                index,
                got: describe(other),
            }),
        })
        .collect()
}

/// `obj.AsrDataList` as a list: `None` when the member is absent.
fn list_member(obj: &mut Map<String, Value>) -> Option<Result<Vec<Value>, TranscriptError>> {
    Some(match obj.remove("AsrDataList")? {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(TranscriptError::ListNotArray(describe(&other))),
    })
}

fn sentence(index: usize, obj: &Map<String, Value>) -> Result<AsrData, TranscriptError> {
    // `null` is absent, as on import lines.
    let get = |field: &str| obj.get(field).filter(|v| !v.is_null());
    let string = |field: &'static str| -> Result<Option<String>, TranscriptError> {
        match get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(index, field, "a string", other)),
        }
    };
    let integer = |field: &'static str| -> Result<Option<i64>, TranscriptError> {
        match get(field) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if n < 0 => Err(TranscriptError::Negative {
                    index,
                    field,
                    got: n,
                }),
                Some(n) => Ok(Some(n)),
                None => Err(wrong_type(index, field, "an integer", v)),
            },
        }
    };
    let milliseconds = |field: &'static str| -> Result<i64, TranscriptError> {
        let got = integer(field)?.ok_or(TranscriptError::Missing { index, field })?;
        if got < MIN_TRANSCRIPT_MS {
            Err(TranscriptError::Seconds { index, field, got })
        } else if got > MAX_TRANSCRIPT_MS {
            Err(TranscriptError::Microseconds { index, field, got })
        } else {
            Ok(got)
        }
    };

    let user = string("User")?.unwrap_or_default();
    let message = string("Message")?.ok_or(TranscriptError::Missing {
        index,
        field: "Message",
    })?;
    let timestamp = integer("Timestamp")?;
    let start = milliseconds("Start")?;
    let end = milliseconds("End")?;
    if end < start {
        return Err(TranscriptError::EndBeforeStart { index, start, end });
    }
    Ok(AsrData {
        user,
        message,
        timestamp: timestamp.unwrap_or(start),
        start,
        end,
    })
}

fn wrong_type(
    index: usize,
    field: &'static str,
    expected: &'static str,
    got: &Value,
) -> TranscriptError {
    TranscriptError::WrongType {
        index,
        field,
        expected,
        got: describe(got),
    }
}

/// The transcribed span of a transcript in milliseconds: from the earliest
/// sentence `Start` to the latest sentence `End`, pauses between sentences
/// included (speech recognition runs over the recording, silences and all).
/// 0 for an empty transcript.
///
/// It is the measure DescribeTelCallInfo's ASR minutes are computed from: a
/// self-hosted server has no billing of its own, so "minutes of ASR" is the
/// span of recording that was transcribed; the caller rounds (per session or
/// per total) as it documents. Sentences need not be in order.
pub fn transcript_ms(list: &[AsrData]) -> i64 {
    let Some(first) = list.iter().map(|s| s.start).min() else {
        return 0;
    };
    let last = list.iter().map(|s| s.end).max().unwrap_or(first);
    last.saturating_sub(first).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(text: &str) -> String {
        parse_transcript(text.as_bytes()).unwrap_err().to_string()
    }

    fn ok(text: &str) -> Vec<AsrData> {
        parse_transcript(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Tencent's example answer (DescribeTelRecordAsr, example 1).
    const SPEC_ANSWER: &str = r#"{
    "Response": {
        "RequestId": "6bb56a09-2787-40bc-80c5-dc6dab783eff",
        "AsrDataList": [
            {
                "User": "foo@tencent.com",
                "Message": "测试会话",
                "Start": 1729697242236,
                "End": 1729697245426
            }
        ]
    }
}"#;

    fn spec_sentence() -> AsrData {
        AsrData {
            user: "foo@tencent.com".into(),
            message: "测试会话".into(),
            timestamp: 1_729_697_242_236,
            start: 1_729_697_242_236,
            end: 1_729_697_245_426,
        }
    }

    #[test]
    fn serialises_every_member_always() {
        assert_eq!(
            serde_json::to_string(&AsrData::default()).unwrap(),
            r#"{"User":"","Message":"","Timestamp":0,"Start":0,"End":0}"#
        );
        assert_eq!(
            serde_json::to_string(&spec_sentence()).unwrap(),
            r#"{"User":"foo@tencent.com","Message":"测试会话","Timestamp":1729697242236,"Start":1729697242236,"End":1729697245426}"#
        );
    }

    #[test]
    fn the_three_shapes() {
        let want = vec![spec_sentence()];
        // The full API answer.
        assert_eq!(ok(SPEC_ANSWER), want);
        // What tccli prints (the Response unwrapped).
        let inner = serde_json::to_string(&serde_json::json!({
            "AsrDataList": [serde_json::to_value(spec_sentence()).unwrap()],
            "RequestId": "x",
        }))
        .unwrap();
        assert_eq!(ok(&inner), want);
        // A bare array.
        assert_eq!(ok(&serde_json::to_string(&want).unwrap()), want);
    }

    #[test]
    fn empty_transcripts() {
        assert_eq!(ok("[]"), vec![]);
        assert_eq!(ok(r#"{"AsrDataList":[]}"#), vec![]);
        assert_eq!(ok(r#"{"AsrDataList":null,"RequestId":"r"}"#), vec![]);
        assert_eq!(ok(r#"{"Response":{"AsrDataList":[]}}"#), vec![]);
        assert_eq!(transcript_ms(&[]), 0);
    }

    #[test]
    fn bom_whitespace_defaults_and_unknown_members() {
        let list = ok(
            "\u{feff}\r\n [{\"Message\":\"hi\",\"Start\":1729756300000,\"End\":1729756300000,\"Speaker\":1,\"User\":null}]\n",
        );
        assert_eq!(
            list,
            vec![AsrData {
                user: String::new(),
                message: "hi".into(),
                timestamp: 1_729_756_300_000,
                start: 1_729_756_300_000,
                end: 1_729_756_300_000,
            }]
        );
        // An explicit Timestamp is kept whatever its unit.
        let list = ok(
            r#"[{"Message":"","Timestamp":1729756300,"Start":1729756300000,"End":1729756301000}]"#,
        );
        assert_eq!(list[0].timestamp, 1_729_756_300);
        assert_eq!(list[0].message, "");
    }

    #[test]
    fn shape_errors() {
        assert!(err("").starts_with("not valid JSON: "));
        assert!(err("[{]").starts_with("not valid JSON: "));
        assert_eq!(
            err("\"hello\""),
            "a transcript must be a JSON array of AsrData sentences or an object with an AsrDataList array, got a string"
        );
        assert_eq!(
            err(r#"{"Sentences":[]}"#),
            "a transcript must be a JSON array of AsrData sentences or an object with an AsrDataList array, got an object without AsrDataList"
        );
        assert_eq!(
            err(r#"{"Response":{"Error":{"Code":"ResourceNotFound"}}}"#),
            "a transcript must be a JSON array of AsrData sentences or an object with an AsrDataList array, got an object whose Response has no AsrDataList"
        );
        assert_eq!(
            err(r#"{"AsrDataList":{"User":"a"}}"#),
            "AsrDataList must be an array, got an object"
        );
        assert_eq!(
            err(r#"[{"Message":"a","Start":100000000000,"End":100000000000},"b"]"#),
            "sentence 1 must be an object, got string \"b\""
        );
    }

    #[test]
    fn sentence_errors_name_the_sentence_and_member() {
        let good = r#"{"Message":"ok","Start":1729756300000,"End":1729756301000}"#;
        let cases = [
            (
                r#"{"Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: Message is missing",
            ),
            (
                r#"{"Message":null,"Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: Message is missing",
            ),
            (
                r#"{"Message":5,"Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: Message must be a string, got number 5",
            ),
            (
                r#"{"User":["a"],"Message":"m","Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: User must be a string, got an array",
            ),
            (
                r#"{"Message":"m","End":1729756301000}"#,
                "sentence 3: Start is missing",
            ),
            (
                r#"{"Message":"m","Start":1729756300000}"#,
                "sentence 3: End is missing",
            ),
            (
                r#"{"Message":"m","Start":"1729756300000","End":1729756301000}"#,
                "sentence 3: Start must be an integer, got string \"1729756300000\"",
            ),
            (
                r#"{"Message":"m","Start":1729756300000.5,"End":1729756301000}"#,
                "sentence 3: Start must be an integer, got number 1729756300000.5",
            ),
            (
                r#"{"Message":"m","Start":1729756300000,"End":true}"#,
                "sentence 3: End must be an integer, got boolean true",
            ),
            (
                r#"{"Message":"m","Start":-1,"End":1729756301000}"#,
                "sentence 3: Start must not be negative, got -1",
            ),
            (
                r#"{"Message":"m","Start":1729756300,"End":1729756301}"#,
                "sentence 3: Start (1729756300) looks like seconds, milliseconds expected",
            ),
            (
                r#"{"Message":"m","Start":1729756300000,"End":1729756301}"#,
                "sentence 3: End (1729756301) looks like seconds, milliseconds expected",
            ),
            (
                r#"{"Message":"m","Start":0,"End":0}"#,
                "sentence 3: Start (0) looks like seconds, milliseconds expected",
            ),
            (
                r#"{"Message":"m","Start":1729756300000000,"End":1729756301000000}"#,
                "sentence 3: Start (1729756300000000) looks like microseconds, milliseconds expected",
            ),
            (
                r#"{"Message":"m","Start":1729756301000,"End":1729756300000}"#,
                "sentence 3: End (1729756300000) is before Start (1729756301000)",
            ),
            (
                r#"{"Message":"m","Timestamp":"x","Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: Timestamp must be an integer, got string \"x\"",
            ),
            (
                r#"{"Message":"m","Timestamp":-2,"Start":1729756300000,"End":1729756301000}"#,
                "sentence 3: Timestamp must not be negative, got -2",
            ),
        ];
        for (bad, want) in cases {
            let text = format!("[{good},{good},{good},{bad},{good}]");
            assert_eq!(err(&text), want, "{bad}");
            let wrapped = format!("{{\"AsrDataList\":[{good},{good},{good},{bad}]}}");
            assert_eq!(err(&wrapped), want, "{bad}");
        }
        // Limits are inclusive.
        ok(&format!(
            "[{{\"Message\":\"m\",\"Start\":{MIN_TRANSCRIPT_MS},\"End\":{MAX_TRANSCRIPT_MS}}}]"
        ));
    }

    #[test]
    fn transcript_ms_is_the_span() {
        let s = |start: i64, end: i64| AsrData {
            start,
            end,
            ..Default::default()
        };
        assert_eq!(
            transcript_ms(&[s(1_000_000_000_000, 1_000_000_001_500)]),
            1_500
        );
        // Pauses count, order does not matter, overlaps are not counted twice.
        let list = [
            s(1_000_000_010_000, 1_000_000_012_000),
            s(1_000_000_000_000, 1_000_000_004_000),
            s(1_000_000_003_000, 1_000_000_005_000),
        ];
        assert_eq!(transcript_ms(&list), 12_000);
    }

    fn sentence_strategy() -> impl Strategy<Value = AsrData> {
        (
            "\\PC*",
            ".*",
            0i64..=i64::MAX,
            MIN_TRANSCRIPT_MS..=MAX_TRANSCRIPT_MS,
            0i64..=10_000_000,
        )
            .prop_map(|(user, message, timestamp, start, len)| AsrData {
                user,
                message,
                timestamp,
                start,
                end: (start + len).min(MAX_TRANSCRIPT_MS),
            })
    }

    proptest! {
        /// What is served (a list, or DescribeTelRecordAsr's answer) parses
        /// back to the same sentences.
        #[test]
        fn serialise_parse_round_trips(list in proptest::collection::vec(sentence_strategy(), 0..8)) {
            let bare = serde_json::to_vec(&list).unwrap();
            prop_assert_eq!(parse_transcript(&bare), Ok(list.clone()));
            let answer = serde_json::to_vec(&serde_json::json!({
                "Response": {"AsrDataList": list, "RequestId": "r"}
            })).unwrap();
            prop_assert_eq!(parse_transcript(&answer), Ok(list.clone()));
            let span = transcript_ms(&list);
            prop_assert!(span >= 0);
            prop_assert!(list.iter().all(|s| s.end - s.start <= span));
        }

        /// Any bytes give a transcript or a reason, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_transcript(&bytes);
        }
    }
}
