//! The demo: seeds a fresh data dir with a few weeks of realistic calls for
//! SdkAppId 1400000000 and a key for it, and prints how to query them with
//! the Python SDK and tccli. The most recent answered calls come with a
//! recording (a WAV in which each sentence is a tone burst, agent and
//! customer at different pitches) and a transcript timed to it. Running
//! `serve --demo` again on the same data dir reuses the data and prints the
//! same key.

use std::net::SocketAddr;
use std::path::Path;

use std::collections::VecDeque;

use anyhow::{Result, anyhow, bail};
use telcdr_media::MediaStore;
use telcdr_model::{GenerateOptions, TelCdrInfo, demo_recording_wav, demo_transcript, generate};
use telcdr_store::{NewRecord, Store};

use crate::commands::media::{Owner, check, store_for_record};

/// The demo's SdkAppId (Tencent's own examples use 1400000000).
pub const DEMO_SDK_APP_ID: i64 = 1_400_000_000;
const DEMO_CALLS: u64 = 6_000;
const DEMO_DAYS: u32 = 21;
// The API version as a number: 2020-02-10.
const DEMO_SEED: u64 = 20_200_210;
const SETTING: &str = "demo.secret_id";
/// The most recent answered calls that get a recording and a transcript
/// (each recording is at most 45 s of 8 kHz audio, ~0.7 MB).
const DEMO_RECORDINGS: usize = 60;

/// The demo's key and data.
pub struct DemoKey {
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: i64,
    pub calls: u64,
    pub fresh: bool,
}

/// Seeds the store (only when it is fresh) and returns the demo key.
pub fn seed(store: &dyn Store, media: &MediaStore, data_dir: &Path, now: i64) -> Result<DemoKey> {
    if let Some(secret_id) = store.setting(SETTING)? {
        if let Some(key) = store.find_key(&secret_id)?.filter(|k| k.enabled) {
            return Ok(DemoKey {
                secret_id: key.secret_id,
                secret_key: key.secret_key,
                sdk_app_id: DEMO_SDK_APP_ID,
                calls: store.record_count()?,
                fresh: false,
            });
        }
        bail!(
            "the demo key {secret_id} of {} was disabled or removed; start without --demo, or use a fresh --data-dir",
            data_dir.display()
        );
    }
    let existing = store.record_count()?;
    if existing > 0 {
        bail!(
            "--demo seeds a fresh data dir, but {} already holds {existing} records; start without --demo, or use another --data-dir",
            data_dir.display()
        );
    }
    let options = GenerateOptions {
        count: DEMO_CALLS,
        sdk_app_id: DEMO_SDK_APP_ID,
        days: DEMO_DAYS,
        seed: DEMO_SEED,
        until: now,
    };
    let mut batch = Vec::with_capacity(1000);
    let mut recorded: VecDeque<TelCdrInfo> = VecDeque::with_capacity(DEMO_RECORDINGS);
    for record in generate(&options) {
        batch.push(NewRecord::from_imported(&record));
        if record.cdr.accept_timestamp > 0
            && record.cdr.duration > 0
            && !record.cdr.record_id.is_empty()
        {
            if recorded.len() == DEMO_RECORDINGS {
                recorded.pop_front();
            }
            recorded.push_back(record.cdr);
        }
        if batch.len() == 1000 {
            store.put_records(std::mem::take(&mut batch))?;
        }
    }
    if !batch.is_empty() {
        store.put_records(batch)?;
    }
    for cdr in &recorded {
        seed_media(store, media, cdr)?;
    }
    let pair = telcdr_server::keys::generate_key_pair();
    store.create_key(&[DEMO_SDK_APP_ID], &pair.secret_id, &pair.secret_key, now)?;
    store.set_setting(SETTING, &pair.secret_id)?;
    Ok(DemoKey {
        secret_id: pair.secret_id,
        secret_key: pair.secret_key,
        sdk_app_id: DEMO_SDK_APP_ID,
        calls: DEMO_CALLS,
        fresh: true,
    })
}

/// Stores a call's demo recording and transcript, checked like imported
/// files.
fn seed_media(store: &dyn Store, media: &MediaStore, cdr: &TelCdrInfo) -> Result<()> {
    let owner = Owner {
        sdk_app_id: DEMO_SDK_APP_ID,
        session_id: cdr.session_id.clone(),
        time: cdr.time,
    };
    let transcript = serde_json::to_vec(&demo_transcript(cdr))?;
    for (name, bytes) in [
        (format!("{}.wav", cdr.record_id), demo_recording_wav(cdr)),
        (format!("{}.asr.json", cdr.session_id), transcript),
    ] {
        let file = check(&name, bytes).map_err(|why| anyhow!("demo media {name}: {why}"))?;
        store_for_record(store, media, file, &owner)?;
    }
    Ok(())
}

/// Prints the key and ready-to-paste client snippets for `addr`.
pub fn print_instructions(key: &DemoKey, addr: SocketAddr) {
    let what = if key.fresh { "Seeded" } else { "Serving" };
    println!(
        "{what} demo data: {} calls of the last {DEMO_DAYS} days for SdkAppId {}.",
        key.calls, key.sdk_app_id
    );
    println!();
    println!("Console: http://{addr}/console/ (sign in with the key below)");
    println!();
    println!("Demo credentials (the SDK snippet and tccli read them from the environment):");
    println!();
    println!("  export TENCENTCLOUD_SECRET_ID={}", key.secret_id);
    println!("  export TENCENTCLOUD_SECRET_KEY={}", key.secret_key);
    println!();
    println!("Python SDK (pip install tencentcloud-sdk-python-ccc), save as demo.py and run it:");
    println!();
    for line in python_snippet(addr, key.sdk_app_id).lines() {
        println!("  {line}");
    }
    println!();
    println!("tccli (pip install tccli):");
    println!();
    println!(
        "  tccli ccc DescribeTelCdr --endpoint http://{addr} --region ap-guangzhou \\\n    --SdkAppId {} --StartTimeStamp $(( $(date +%s) - 86400 )) --EndTimeStamp $(date +%s) --PageSize 5 --PageNumber 0",
        key.sdk_app_id
    );
    println!();
}

/// The Python SDK snippet the README shows, for this address.
pub fn python_snippet(addr: SocketAddr, sdk_app_id: i64) -> String {
    format!(
        r#"import json, time
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ccc.v20200210 import ccc_client, models

cred = credential.EnvironmentVariableCredential().get_credential()
profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint="{addr}"))
client = ccc_client.CccClient(cred, "", profile)
now = int(time.time())
req = models.DescribeTelCdrRequest()
req.from_json_string(json.dumps({{"SdkAppId": {sdk_app_id}, "StartTimeStamp": now - 86400,
                                 "EndTimeStamp": now, "PageSize": 5, "PageNumber": 0}}))
resp = client.DescribeTelCdr(req)
print("calls in the last 24 h:", resp.TotalCount)
for cdr in resp.TelCdrList:
    print(cdr.SessionId, cdr.Caller, "->", cdr.Callee, cdr.EndStatusString, cdr.Duration, "s")"#
    )
}
