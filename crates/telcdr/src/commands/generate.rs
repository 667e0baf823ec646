//! `telcdr generate`: realistic synthetic call records as JSON Lines, the
//! same file for the same options (seed and `--until`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use telcdr_model::{GenerateOptions, generate, to_json_line};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Number of records
    #[arg(long)]
    count: u64,
    /// SdkAppId the records belong to
    #[arg(long)]
    sdk_app_id: i64,
    /// Spread the calls over this many days before --until
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Random seed: the same seed and --until give the same file
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// End of the period, Unix seconds [default: today 00:00 UTC]
    #[arg(long)]
    until: Option<i64>,
    /// Write here instead of standard output
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    if args.sdk_app_id <= 0 {
        bail!(
            "--sdk-app-id must be a positive integer (an SdkAppId such as 1400000000), got {}",
            args.sdk_app_id
        );
    }
    if args.days == 0 {
        bail!("--days must be at least 1");
    }
    let now = super::unix_now();
    let options = GenerateOptions {
        count: args.count,
        sdk_app_id: args.sdk_app_id,
        days: args.days,
        seed: args.seed,
        until: args.until.unwrap_or(now - now.rem_euclid(86_400)),
    };
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let result = generate(&options).try_for_each(|record| {
        out.write_all(to_json_line(&record).as_bytes())?;
        out.write_all(b"\n")
    });
    match result.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `telcdr generate ... | head` is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing records"),
    }
}
