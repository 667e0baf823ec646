//! Times `parse_record_line` + `to_body` over a JSON Lines file, the CPU
//! half of `telcdr import`: `cargo run --release -p telcdr-model --example
//! parse_lines -- FILE`.

use std::io::{BufRead, BufReader};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_lines FILE");
    let lines: Vec<Vec<u8>> = BufReader::new(std::fs::File::open(path).expect("open"))
        .split(b'\n')
        .map(|l| l.expect("read"))
        .collect();
    let started = Instant::now();
    let mut bytes = 0;
    for line in &lines {
        let record = telcdr_model::parse_record_line(line).expect("valid line");
        bytes += record.cdr.to_body().len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} lines in {secs:.2} s: {:.0} lines/s ({bytes} body bytes)",
        lines.len(),
        lines.len() as f64 / secs
    );
}
