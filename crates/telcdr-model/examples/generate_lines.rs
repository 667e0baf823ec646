//! Print generated records as import lines, and how long it took on stderr:
//! `cargo run --release -p telcdr-model --example generate_lines -- 1000000 > /dev/null`
//!
//! Arguments: count (default 10), seed (default 1), and `--no-output` to time
//! generation and serialisation without writing.

use std::io::{BufWriter, Write};
use std::time::Instant;

use telcdr_model::{GenerateOptions, generate, to_json_line};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--no-output");
    let mut numbers = args.iter().filter_map(|a| a.parse::<u64>().ok());
    let count = numbers.next().unwrap_or(10);
    let seed = numbers.next().unwrap_or(1);
    let options = GenerateOptions {
        count,
        sdk_app_id: 1_400_000_000,
        days: 30,
        seed,
        until: 1_795_000_000,
    };
    let started = Instant::now();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut bytes = 0usize;
    let mut generate_only = std::time::Duration::ZERO;
    for record in generate(&options) {
        let line = to_json_line(&record);
        bytes += line.len() + 1;
        if !quiet {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    let total = started.elapsed();
    if quiet {
        let started = Instant::now();
        let n = generate(&options).count();
        generate_only = started.elapsed();
        assert_eq!(n as u64, count);
    }
    eprintln!(
        "{count} records, {bytes} bytes in {total:.2?} (generation alone {generate_only:.2?})"
    );
    Ok(())
}
