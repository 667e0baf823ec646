//! Times the CPU half of `telcdr import` over a JSON Lines file, phase by
//! phase: `parse_record_line` alone, then `to_body` of the parsed records:
//! `cargo run --release -p telcdr-model --example parse_lines -- FILE`.

use std::io::{BufRead, BufReader};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_lines FILE");
    let lines: Vec<Vec<u8>> = BufReader::new(std::fs::File::open(path).expect("open"))
        .split(b'\n')
        .map(|l| l.expect("read"))
        .collect();
    let rate = |secs: f64| lines.len() as f64 / secs;

    let started = Instant::now();
    let records: Vec<_> = lines
        .iter()
        .map(|line| telcdr_model::parse_record_line(line).expect("valid line"))
        .collect();
    let parse = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let bytes: usize = records.iter().map(|r| r.cdr.to_body().len()).sum();
    let body = started.elapsed().as_secs_f64();

    println!(
        "{} lines: parse {parse:.2} s ({:.0} lines/s), to_body {body:.2} s ({:.0} lines/s, {bytes} bytes)",
        lines.len(),
        rate(parse),
        rate(body),
    );
}
