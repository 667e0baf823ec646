//! Parsing JSON Lines on every core while keeping the input's order.
//!
//! Parsing and validating a record costs more than writing it, so one parser
//! thread left the import waiting on it. Here the input is cut at line ends
//! into numbered chunks; parser threads take chunks in turn, and
//! [`ParsedChunks`] hands the results back in input order. Order matters: a
//! later line with the same SessionId replaces an earlier one, and rejected
//! lines are reported by number.
//!
//! At most [`IN_FLIGHT`] chunks are read but not yet taken by the consumer,
//! so memory stays bounded however far the parsers could run ahead of a
//! slow store.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, ScopedJoinHandle};

use indicatif::ProgressBar;
use telcdr_model::parse_record_line;
use telcdr_store::NewRecord;

/// Bytes per chunk: a few hundred records, small enough that the last chunk
/// of a file does not leave one parser working alone for long.
const CHUNK_BYTES: usize = 1 << 20;

/// Chunks read ahead of the consumer: enough to keep every parser busy while
/// the consumer takes chunks in order.
const IN_FLIGHT: usize = 16;

/// What the parsers made of one chunk.
pub struct ParsedChunk {
    /// Lines in the chunk (blank ones included), for numbering.
    pub lines: u64,
    /// The chunk's good records, in input order.
    pub records: Vec<NewRecord>,
    /// Rejected lines: their number within the chunk (from 1) and why.
    pub rejected: Vec<(u64, String)>,
}

/// The parsed chunks of one input, in input order.
pub struct ParsedChunks<'scope> {
    results: Option<Receiver<(u64, io::Result<ParsedChunk>)>>,
    permits: Option<SyncSender<()>>,
    waiting: BTreeMap<u64, io::Result<ParsedChunk>>,
    next: u64,
    parsers: Vec<ScopedJoinHandle<'scope, ()>>,
}

/// The input and the permits to read from it, shared by the parsers.
struct Source {
    input: Box<dyn Read + Send>,
    /// Bytes read after the last line end of the previous chunk.
    carry: Vec<u8>,
    next_seq: u64,
    done: bool,
    permits: Receiver<()>,
}

impl<'scope> ParsedChunks<'scope> {
    /// Starts `parsers` threads on `input` inside `scope`.
    pub fn start<'env>(
        scope: &'scope thread::Scope<'scope, 'env>,
        input: Box<dyn Read + Send>,
        parsers: usize,
        progress: &ProgressBar,
    ) -> ParsedChunks<'scope> {
        let (permit_tx, permit_rx) = mpsc::sync_channel(IN_FLIGHT);
        for _ in 0..IN_FLIGHT {
            // Cannot fail: the channel has room and its receiver is alive.
            let _ = permit_tx.send(());
        }
        let source = Arc::new(Mutex::new(Source {
            input,
            carry: Vec::new(),
            next_seq: 0,
            done: false,
            permits: permit_rx,
        }));
        let (result_tx, result_rx) = mpsc::channel();
        let parsers = (0..parsers.max(1))
            .map(|i| {
                let source = Arc::clone(&source);
                let results = result_tx.clone();
                let progress = progress.clone();
                thread::Builder::new()
                    .name(format!("telcdr-parse-{i}"))
                    .spawn_scoped(scope, move || parse_chunks(&source, &results, &progress))
                    .expect("spawning a parser thread")
            })
            .collect();
        ParsedChunks {
            results: Some(result_rx),
            permits: Some(permit_tx),
            waiting: BTreeMap::new(),
            next: 0,
            parsers,
        }
    }

    /// The next chunk in input order; `None` at the end of the input. A read
    /// error ends the sequence at the chunk where it happened.
    pub fn next_chunk(&mut self) -> Option<io::Result<ParsedChunk>> {
        loop {
            if let Some(chunk) = self.waiting.remove(&self.next) {
                self.next += 1;
                if let Some(permits) = &self.permits {
                    // The parsers may be gone (a read error): nothing waits.
                    let _ = permits.send(());
                }
                return Some(chunk);
            }
            let (seq, chunk) = self.results.as_ref()?.recv().ok()?;
            self.waiting.insert(seq, chunk);
        }
    }

    /// Stops the parsers (at their next chunk) and waits for them.
    pub fn stop(mut self) -> Result<(), String> {
        self.permits = None;
        self.results = None;
        for parser in self.parsers.drain(..) {
            parser
                .join()
                .map_err(|_| "a parser thread panicked".to_owned())?;
        }
        Ok(())
    }
}

/// One parser: takes chunks until the input ends or nobody listens.
fn parse_chunks(
    source: &Mutex<Source>,
    results: &mpsc::Sender<(u64, io::Result<ParsedChunk>)>,
    progress: &ProgressBar,
) {
    loop {
        let (seq, bytes) = {
            let Ok(mut source) = source.lock() else {
                return;
            };
            if source.done || source.permits.recv().is_err() {
                return;
            }
            let seq = source.next_seq;
            source.next_seq += 1;
            match source.read_chunk() {
                Ok(Some(bytes)) => (seq, bytes),
                Ok(None) => return,
                Err(e) => {
                    source.done = true;
                    let _ = results.send((seq, Err(e)));
                    return;
                }
            }
        };
        progress.inc(bytes.len() as u64);
        // A chunk that never arrived would leave the consumer waiting for
        // it while the chunks after it hold every permit: a panic (a bug)
        // comes back as that chunk's error instead, ending the input there.
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_chunk(&bytes)))
            .map_err(|_| io::Error::other("parsing a chunk of lines panicked"));
        if results.send((seq, parsed)).is_err() {
            return;
        }
    }
}

impl Source {
    /// Reads up to the last line end within about [`CHUNK_BYTES`] (further
    /// when one line is longer); the final chunk may lack a line end.
    fn read_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            let start = buf.len();
            // Appends without zero-filling the buffer first.
            let read = (&mut self.input)
                .take(CHUNK_BYTES as u64)
                .read_to_end(&mut buf)?;
            if read == 0 {
                // End of input: whatever is left is the last chunk.
                self.done = true;
                return Ok((!buf.is_empty()).then_some(buf));
            }
            if let Some(end) = buf[start..].iter().rposition(|&b| b == b'\n') {
                self.carry = buf[start + end + 1..].to_vec();
                buf.truncate(start + end + 1);
                return Ok(Some(buf));
            }
        }
    }
}

/// Parses the lines of one chunk.
fn parse_chunk(bytes: &[u8]) -> ParsedChunk {
    let mut parsed = ParsedChunk {
        lines: 0,
        records: Vec::with_capacity(bytes.len() / 2048 + 1),
        rejected: Vec::new(),
    };
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return parsed;
    }
    for line in body.split(|&b| b == b'\n') {
        parsed.lines += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match parse_record_line(text) {
            Ok(record) => parsed.records.push(NewRecord::from_imported(&record)),
            Err(reason) => parsed.rejected.push((parsed.lines, reason.to_string())),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call, to cut lines
    /// across reads.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn source(data: &[u8], step: usize) -> Source {
        let (_tx, permits) = mpsc::sync_channel(1);
        Source {
            input: Box::new(Trickle {
                data: data.to_vec(),
                at: 0,
                step,
            }),
            carry: Vec::new(),
            next_seq: 0,
            done: false,
            permits,
        }
    }

    #[test]
    fn chunks_end_at_line_ends_and_keep_every_byte() {
        let line = format!("{{\"x\":\"{}\"}}\n", "a".repeat(300_000));
        let data: Vec<u8> = line.repeat(7).into_bytes();
        for step in [1 << 20, 4096, 777_777] {
            let mut source = source(&data, step);
            let mut joined = Vec::new();
            while let Some(chunk) = source.read_chunk().unwrap() {
                assert_eq!(chunk.last(), Some(&b'\n'));
                joined.extend_from_slice(&chunk);
            }
            assert_eq!(joined, data);
        }
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole_and_a_last_line_needs_no_newline() {
        let long = "b".repeat(CHUNK_BYTES * 2 + 5);
        let data = format!("{long}\nshort");
        let mut source = source(data.as_bytes(), 1 << 16);
        assert_eq!(
            source.read_chunk().unwrap().unwrap(),
            format!("{long}\n").into_bytes()
        );
        assert_eq!(source.read_chunk().unwrap().unwrap(), b"short".to_vec());
        assert_eq!(source.read_chunk().unwrap(), None);
    }

    #[test]
    fn lines_are_numbered_within_the_chunk_blank_ones_included() {
        let parsed = parse_chunk(b"\n{}\n  \r\nnot json\n");
        assert_eq!(parsed.lines, 4);
        let numbers: Vec<u64> = parsed.rejected.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![2, 4]);
        assert!(parsed.records.is_empty());
        assert_eq!(parse_chunk(b"").lines, 0);
    }

    #[test]
    fn chunks_come_back_in_input_order_from_several_parsers() {
        let records: Vec<_> = telcdr_model::generate(&telcdr_model::GenerateOptions {
            count: 6000,
            sdk_app_id: 1_400_000_000,
            days: 3,
            seed: 7,
            until: 1_795_000_000,
        })
        .collect();
        let mut data = String::new();
        for (i, record) in records.iter().enumerate() {
            data.push_str(&telcdr_model::to_json_line(record));
            // Every 1000th line is bad, to check the numbering too.
            data.push_str(if i % 1000 == 999 {
                "\nnot json\n"
            } else {
                "\n"
            });
        }
        let progress = ProgressBar::hidden();
        let (sessions, rejected, lines, chunks_seen) = thread::scope(|scope| {
            let input = Box::new(Trickle {
                data: data.into_bytes(),
                at: 0,
                step: 100_000,
            });
            let mut chunks = ParsedChunks::start(scope, input, 3, &progress);
            let (mut sessions, mut rejected, mut lines, mut seen) = (Vec::new(), Vec::new(), 0, 0);
            while let Some(chunk) = chunks.next_chunk() {
                let chunk = chunk.unwrap();
                sessions.extend(chunk.records.into_iter().map(|r| r.session_id));
                rejected.extend(chunk.rejected.iter().map(|(n, _)| lines + n));
                lines += chunk.lines;
                seen += 1;
            }
            chunks.stop().unwrap();
            (sessions, rejected, lines, seen)
        });
        assert!(chunks_seen > 3, "the input spans several chunks");
        let expected: Vec<String> = records.iter().map(|r| r.cdr.session_id.clone()).collect();
        assert_eq!(sessions, expected);
        assert_eq!(lines, 6006);
        let expected_rejected: Vec<u64> = (1..=6).map(|k| k * 1001).collect();
        assert_eq!(rejected, expected_rejected);
    }

    #[test]
    fn stopping_early_ends_the_parsers() {
        let data = "x\n".repeat(CHUNK_BYTES * 3);
        let progress = ProgressBar::hidden();
        thread::scope(|scope| {
            let input = Box::new(Trickle {
                data: data.into_bytes(),
                at: 0,
                step: 1 << 16,
            });
            let mut chunks = ParsedChunks::start(scope, input, 2, &progress);
            assert!(chunks.next_chunk().is_some());
            chunks.stop().unwrap();
        });
    }
}
