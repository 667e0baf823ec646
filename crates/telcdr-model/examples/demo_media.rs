//! Write the demo recording and transcript of a few generated calls, to
//! listen to them, and time the WAV synthesis:
//! `cargo run --release -p telcdr-model --example demo_media -- DIR [COUNT]`
//! writes `DIR/<SessionId>.wav` and `DIR/<SessionId>.asr.json` for the first
//! COUNT (default 5) answered calls.

use std::time::Instant;

use telcdr_model::{GenerateOptions, demo_recording_wav, demo_transcript, generate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: demo_media DIR [COUNT]"));
    let count: usize = args.next().map_or(5, |c| c.parse().expect("COUNT"));
    std::fs::create_dir_all(&dir)?;
    let options = GenerateOptions {
        count: 10_000,
        sdk_app_id: 1_400_000_000,
        days: 30,
        seed: 1,
        until: 1_795_000_000,
    };
    let calls: Vec<_> = generate(&options)
        .filter(|r| r.cdr.accept_timestamp > 0)
        .take(count)
        .collect();
    for r in &calls {
        let cdr = &r.cdr;
        let started = Instant::now();
        let wav = demo_recording_wav(cdr);
        let took = started.elapsed();
        let transcript = demo_transcript(cdr);
        std::fs::write(dir.join(format!("{}.wav", cdr.session_id)), &wav)?;
        let json = serde_json::to_vec_pretty(&transcript).expect("serialises");
        std::fs::write(dir.join(format!("{}.asr.json", cdr.session_id)), json)?;
        println!(
            "{} {:>4} s talk, {:>6} WAV bytes in {took:.2?}, {} sentences, first: {}",
            cdr.session_id,
            cdr.duration,
            wav.len(),
            transcript.len(),
            transcript.first().map_or("", |s| s.message.as_str())
        );
    }
    // Throughput over many calls (the synthesis only).
    let started = Instant::now();
    let mut bytes = 0;
    let mut n = 0;
    for r in generate(&options)
        .filter(|r| r.cdr.accept_timestamp > 0)
        .take(500)
    {
        bytes += demo_recording_wav(&r.cdr).len();
        n += 1;
    }
    let took = started.elapsed();
    println!(
        "{n} recordings, {bytes} bytes in {took:.2?} ({:.2?} per recording)",
        took / n.max(1)
    );
    Ok(())
}
