"""The world the conformance tests run against: data, keys and telcdr servers.

Used two ways:

* by ``conftest.py`` (a session fixture builds a World when the environment
  does not already name one), and
* as a command, ``python telcdr_world.py exec BINARY -- CMD...``: build the
  world, write its description to ``world.json``, run CMD with
  ``CONFORMANCE_WORLD=/path/to/world.json`` in its environment, then stop every
  server it started (also on failure, Ctrl-C or SIGTERM) and return CMD's exit
  code. ``conformance/run`` runs pytest and ``node --test`` this way, so both
  share one data set and one pair of servers.

What a World holds (all on loopback, in a fresh temporary directory):

* ``main``: a data dir with ~3000 generated records for tenant A
  (SdkAppId 1400000000, the last 20 days up to now) and ~300 for tenant B
  (1400000099, another seed), one key per tenant, and ``telcdr serve`` on a
  free port with the rate limit OFF.
* media in ``main`` (see ``build_media``): after the records are imported,
  a handful of answered tenant-A records (picked from the generated JSONL)
  get small WAV/MP3 recordings, a participant leg's recording, transcripts
  and a voicemail, stored with ``import --media DIR``; one record is
  re-imported from a separate JSONL with ``Events``. Tenant C (SdkAppId
  1400000777) has ~60 records whose media were imported before them (kept
  pending, linked when the records arrived); its number protection is
  switched on and off by the tests. Its account also owns tenant D
  (1400000778, 30 records); ``key_c`` reaches both.
* ``rl``: a second data dir (its own store, so its keys and records stay
  apart) with a few records for A, a key for A, and ``telcdr serve`` with
  ``TELCDR_RATE_LIMIT__PER_SECOND=3``.

With ``CONF_POSTGRES_ADMIN`` set to a PostgreSQL admin URL, each data dir's
store is instead a fresh PostgreSQL database on that server (every command
gets ``--store URL``; tests use ``store_args``), so the same suites prove
the PostgreSQL backend.

Expected answers are never stored here: tests compute them from the JSONL
files the binary generated (see ``expect.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from pathlib import Path

SDK_APP_A = 1400000000
SDK_APP_B = 1400000099
SDK_APP_C = 1400000777  # media imported before its records; number protection tests
SDK_APP_D = 1400000778  # a second app of C's account (DescribeTelCallInfo sums over apps)
DAY = 86400
LISTEN_RE = re.compile(r"telcdr listening on (http://[^\s/]+)/?")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# TELCDR_* variables that belong to the scripts, not to the binary (which
# rejects unknown TELCDR_* settings).
NOT_SETTINGS = ("TELCDR_CACHE",)


def binary_env(overrides: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in NOT_SETTINGS}
    env.update(overrides or {})
    return env


# data dir -> PostgreSQL URL of its store, when the world runs on PostgreSQL.
STORES: dict[str, str] = {}


def store_args(data_dir) -> list[str]:
    """The arguments that point a telcdr command at a data dir's store."""
    args = ["--data-dir", str(data_dir)]
    if str(data_dir) in STORES:
        args += ["--store", STORES[str(data_dir)]]
    return args


def postgres_database(admin_url: str, name: str) -> str:
    """Create database `name` on the server of `admin_url`; return its URL."""
    subprocess.run(["psql", admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True, text=True, timeout=60)
    base, _, query = admin_url.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


def run_cli(binary: str, data_dir: Path, *args: str) -> str:
    """Run one telcdr subcommand; return stdout; raise with its output on failure."""
    cmd = [binary, *store_args(data_dir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=binary_env(), timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc.stdout


def create_key(binary: str, data_dir: Path, sdk_app_id: int) -> dict:
    out = run_cli(binary, data_dir, "keys", "create", "--sdk-app-id", str(sdk_app_id), "--json")
    lines = [l for l in out.splitlines() if l.strip()]
    key = json.loads(lines[-1])
    assert key["SecretId"] and key["SecretKey"], key
    return {"SecretId": key["SecretId"], "SecretKey": key["SecretKey"]}


class Server:
    """One ``telcdr serve`` process. Stdout and stderr go to files (no pipe
    that could fill up or break when the parent goes away); the address is
    parsed from the first stdout line."""

    def __init__(self, binary: str, data_dir: Path, log_dir: Path, name: str,
                 extra_args=(), env_overrides: dict | None = None, port: int | None = None):
        self.name = name
        self.port = port or free_port()
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        env = binary_env({"TELCDR_LOG": os.environ.get("TELCDR_LOG", "warn"), **(env_overrides or {})})
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.cmd = [binary, *store_args(data_dir), "serve", *extra_args,
                    "--listen", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=env)
        self.url = None
        self.endpoint = None

    def wait_ready(self, timeout: float = 60.0) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout_path.read_text(errors="replace")
            first = text.split("\n", 1)[0] if "\n" in text else None
            if first is not None:
                m = LISTEN_RE.search(first)
                if not m:
                    raise RuntimeError(f"{self.name}: unexpected first stdout line {first!r}")
                self.url = m.group(1) + "/"
                self.endpoint = m.group(1)[len("http://"):]
                self._wait_port()
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: {' '.join(self.cmd)} exited {self.proc.returncode}\n"
                                   f"stdout:\n{text}\nstderr:\n{self.stderr_path.read_text(errors='replace')}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no 'telcdr listening on' line within {timeout}s")

    def _wait_port(self):
        host, port = self.endpoint.rsplit(":", 1)
        for _ in range(200):
            try:
                with socket.create_connection((host, int(port)), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name}: {self.endpoint} does not accept connections")

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for f in (self._out, self._err):
            try:
                f.close()
            except Exception:
                pass


# --------------------------------------------------------------------------- media


def write_wav(path: Path, seed: int, seconds: float = 0.25) -> None:
    """A small, real RIFF/WAVE file (8 kHz mono 16-bit), different per seed."""
    rate = 8000
    period = 8 + seed % 23
    frames = bytearray()
    for i in range(int(rate * seconds)):
        v = ((i % period) * 2 * 6000 // period) - 6000
        frames += int(v).to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def write_mp3(path: Path, seed: int) -> None:
    """An ID3v2 tag followed by three silent MPEG-1 Layer III frames
    (128 kbit/s, 44.1 kHz: 417 bytes each)."""
    tag = b"ID3\x03\x00\x00" + b"\x00\x00\x00\x00"
    frame = b"\xff\xfb\x90\x64" + bytes([seed % 256]) * 413
    path.write_bytes(tag + frame * 3)


def transcript(record: dict, seed: int, start_s: int, end_s: int, sentences: int = 4) -> list[dict]:
    """AsrData sentences (Start/End in Unix ms) spread over [start_s, end_s]
    of a call, alternating agent and customer."""
    agent = (record.get("SeatUser") or {}).get("Mail") or "agent@example.com"
    span_ms = max(1000, (end_s - start_s) * 1000 - 200)
    step = span_ms // sentences
    out = []
    for i in range(sentences):
        s0 = start_s * 1000 + 100 + i * step + (seed * 7 + i * 13) % 50
        e0 = min(s0 + max(200, step - 150), start_s * 1000 + 100 + span_ms)
        out.append({"User": agent if i % 2 == 0 else "user",
                    "Message": f"sentence {i} of call {record['SessionId'][:8]}",
                    "Timestamp": s0, "Start": s0, "End": e0})
    return out


def record_id_counts(*record_lists) -> Counter:
    """How many times each RecordId (a record's own or a leg's) occurs."""
    c = Counter()
    for records in record_lists:
        for r in records:
            if r.get("RecordId"):
                c[r["RecordId"]] += 1
            for p in r.get("ServeParticipants") or []:
                if p.get("RecordId"):
                    c[p["RecordId"]] += 1
    return c


def _ids_unique(r: dict, counts: Counter) -> bool:
    ids = [r["RecordId"]] + [p["RecordId"] for p in r["ServeParticipants"] if p.get("RecordId")]
    return all(counts[i] == 1 for i in ids)


def _load(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def build_media(b: str, main_dir: Path, root: Path, now: int, a_jsonl: Path, b_jsonl: Path) -> dict:
    """Media for the main data dir; returns what world.json records about it.

    Tenant A: records are picked from the generated JSONL, only answered
    ones older than 19 days (tests of other files compare every served
    non-URL field of the last 19 days with the JSONL, and a held transcript
    turns AsrStatus into Complete), only those whose RecordIds occur once.
    Tenant C: generated here with a few CallTypes rewritten (so every rule of
    DescribeTelCallInfo meets data); one of its records' recording and
    transcript are imported before the records (pending until they arrive).
    Tenant D: generated, imported with C; C's key reaches both.
    """
    media_dir = root / "media-in"
    media_dir.mkdir()
    recs_a = _load(a_jsonl)
    counts = record_id_counts(recs_a, _load(b_jsonl))
    old = sorted((r for r in recs_a if r["AcceptTimestamp"] > 0 and r["Duration"] >= 20 and r["RecordId"]
                  and r["Time"] < now - 19 * DAY and _ids_unique(r, counts)),
                 key=lambda r: (r["Time"], r["SessionId"]))
    assert len(old) >= 6, f"only {len(old)} answered tenant-A records older than 19 days"
    files: list[dict] = []

    def add(name: str, record: dict, kind: str, app: int, **extra) -> Path:
        path = media_dir / name
        files.append({"name": name, "path": str(path), "kind": kind, "sdk_app_id": app,
                      "session_id": record["SessionId"], **extra})
        return path

    def add_transcript(record: dict, app: int, seed: int, name: str | None = None,
                       kind: str = "transcript", start_s: int | None = None, end_s: int | None = None,
                       **extra):
        start_s = record["AcceptTimestamp"] if start_s is None else start_s
        end_s = record["EndedTimestamp"] if end_s is None else end_s
        sents = transcript(record, seed, start_s, end_s)
        path = add(name or f"{record['SessionId']}.asr.json", record, kind, app, **extra)
        path.write_text(json.dumps(sents, ensure_ascii=False), encoding="utf-8")

    # main: the record's recording, its last leg's recording, a transcript;
    # re-imported with Events below
    multi = [r for r in old if len(r["ServeParticipants"]) >= 2]
    main = (multi or [r for r in old if r["ServeParticipants"]])[0]
    rest = [r for r in old if r is not main]
    leg = main["ServeParticipants"][-1]
    write_wav(add(f"{main['RecordId']}.wav", main, "recording", SDK_APP_A, record_id=main["RecordId"]), 1)
    write_wav(add(f"{leg['RecordId']}.wav", main, "leg", SDK_APP_A, record_id=leg["RecordId"]), 2, 0.4)
    add_transcript(main, SDK_APP_A, 1)
    # mp3: an MPEG recording and a transcript
    mp3 = rest[0]
    write_mp3(add(f"{mp3['RecordId']}.mp3", mp3, "recording", SDK_APP_A, record_id=mp3["RecordId"]), 3)
    add_transcript(mp3, SDK_APP_A, 3)
    # asr_only: a transcript, no recording
    asr_only = rest[1]
    add_transcript(asr_only, SDK_APP_A, 4)
    # gone: a recording whose stored object a test deletes (404)
    gone = rest[2]
    write_wav(add(f"{gone['RecordId']}.wav", gone, "recording", SDK_APP_A, record_id=gone["RecordId"]), 5)
    # voicemail: a call that left one (prefer an old one that came with a
    # voicemail URL: voicemails change no non-URL field, so any age would do)
    used = {main["SessionId"], mp3["SessionId"], asr_only["SessionId"], gone["SessionId"]}
    with_vm = sorted((r for r in recs_a if r["VoicemailRecordURL"] and r["SessionId"] not in used),
                     key=lambda r: (r["Time"] >= now - 19 * DAY, r["Time"], r["SessionId"]))
    vm = with_vm[0] if with_vm else rest[3]
    write_wav(add(f"{vm['SessionId']}.voicemail.0.wav", vm, "voicemail", SDK_APP_A, index=0), 6, 0.5)
    vm_start = vm["AcceptTimestamp"] or vm["QueuedTimestamp"] or vm["StartTimestamp"]
    add_transcript(vm, SDK_APP_A, 6, f"{vm['SessionId']}.voicemail.0.asr.json", "voicemail_transcript",
                   start_s=vm_start, end_s=max(vm["EndedTimestamp"], vm_start + 1), index=0)

    # tenant C: its own records, some CallTypes rewritten
    c_gen = root / "tenant-c.generated.jsonl"
    c_jsonl = root / "tenant-c.jsonl"
    run_cli(b, main_dir, "generate", "--count", "60", "--sdk-app-id", str(SDK_APP_C),
            "--days", "3", "--seed", "41", "--until", str(now), "-o", str(c_gen))
    recs_c = _load(c_gen)
    # one customer called both A and C: the same number must get a different
    # protected id in each SdkAppId
    latest_a = max(recs_a, key=lambda r: (r["Time"], r["SessionId"]))
    shared_number = latest_a["Caller"] or latest_a["Callee"]
    recs_c[0]["Caller"] = shared_number
    answered = 0
    for r in recs_c:
        if r["AcceptTimestamp"] <= 0:
            continue
        answered += 1
        turn = answered % 5
        if turn == 1:
            r["CallType"] = 3 if r["Direction"] == 0 else 5   # VoIP inbound / predictive outbound
        elif turn == 2:
            r.pop("CallType", None)                            # absent: falls back to Direction
        elif turn == 3:
            r["CallType"] = 0                                  # zero: falls back to Direction
    with open(c_jsonl, "w", encoding="utf-8") as f:
        for r in recs_c:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    d_jsonl = root / "tenant-d.jsonl"
    run_cli(b, main_dir, "generate", "--count", "30", "--sdk-app-id", str(SDK_APP_D),
            "--days", "3", "--seed", "43", "--until", str(now), "-o", str(d_jsonl))
    counts_c = record_id_counts(recs_a, _load(b_jsonl), recs_c, _load(d_jsonl))
    pend = [r for r in recs_c if r["AcceptTimestamp"] > 0 and r["RecordId"] and r["Duration"] >= 20
            and _ids_unique(r, counts_c)]
    assert pend, "tenant C has no answered record"
    pending = pend[0]
    write_wav(add(f"{pending['RecordId']}.wav", pending, "recording", SDK_APP_C,
                  record_id=pending["RecordId"]), 7)
    add_transcript(pending, SDK_APP_C, 7)

    # media first (tenant C's are kept pending), then C's records and the
    # Events line, which link them
    run_cli(b, main_dir, "import", "--media", str(media_dir))
    events_jsonl = root / "events.jsonl"
    seat = main["SeatUser"]
    staff = [{"Mail": seat["Mail"], "StaffNumber": seat["StaffNumber"]}]
    t = main["AcceptTimestamp"]
    events = [
        {"Timestamp": t + 3, "EventType": "StaffHold", "StaffEventDetail": {"Staffs": staff}},
        {"Timestamp": t + 9, "EventType": "StaffUnhold", "StaffEventDetail": {"Staffs": staff}},
        {"Timestamp": t + 12, "EventType": "StaffMute", "StaffEventDetail": {"Staffs": staff}},
    ]
    events_jsonl.write_text(json.dumps(dict(main, Events=events), ensure_ascii=False) + "\n", encoding="utf-8")
    run_cli(b, main_dir, "import", str(c_jsonl), str(d_jsonl), str(events_jsonl))
    # one account owning C and D
    out = run_cli(b, main_dir, "keys", "create", "--sdk-app-id", str(SDK_APP_C), "--sdk-app-id",
                  str(SDK_APP_D), "--json")
    key_c = json.loads([l for l in out.splitlines() if l.strip()][-1])
    key_c = {"SecretId": key_c["SecretId"], "SecretKey": key_c["SecretKey"]}

    return {
        "sdk_app_c": SDK_APP_C,
        "jsonl_c": str(c_jsonl),
        "sdk_app_d": SDK_APP_D,
        "jsonl_d": str(d_jsonl),
        "key_c": key_c,
        "media": {
            "dir": str(media_dir),
            "store_dir": str(main_dir / "media"),
            "files": files,
            # session ids: A's main/mp3/asr_only/gone/voicemail, C's pending
            "picks": {"main": main["SessionId"], "mp3": mp3["SessionId"], "asr_only": asr_only["SessionId"],
                      "gone": gone["SessionId"], "voicemail": vm["SessionId"], "pending": pending["SessionId"]},
            "leg_record_id": leg["RecordId"],
            "shared_number": shared_number,
            "events_jsonl": str(events_jsonl),
            "events_session": main["SessionId"],
            "events": events,
        },
    }


class World:
    def __init__(self, binary: str, root: Path | None = None, keep: bool = False):
        self.binary = str(Path(binary).resolve())
        self.own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="telcdr-conformance-"))
        self.keep = keep or bool(os.environ.get("CONFORMANCE_KEEP"))
        self.servers: list[Server] = []
        self.info: dict = {}

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> dict:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> dict:
        b = self.binary
        now = int(time.time())
        main_dir = self.root / "data-main"
        rl_dir = self.root / "data-rl"
        logs = self.root / "logs"
        for d in (main_dir, rl_dir, logs):
            d.mkdir(parents=True, exist_ok=True)
        admin = os.environ.get("CONF_POSTGRES_ADMIN")
        if admin:
            tag = f"{os.getpid()}_{now}"
            STORES[str(main_dir)] = postgres_database(admin, f"conf_main_{tag}")
            STORES[str(rl_dir)] = postgres_database(admin, f"conf_rl_{tag}")
        a_jsonl = self.root / "tenant-a.jsonl"
        b_jsonl = self.root / "tenant-b.jsonl"
        rl_jsonl = self.root / "rl.jsonl"

        run_cli(b, main_dir, "generate", "--count", "3000", "--sdk-app-id", str(SDK_APP_A),
                "--days", "20", "--seed", "11", "--until", str(now), "-o", str(a_jsonl))
        run_cli(b, main_dir, "generate", "--count", "300", "--sdk-app-id", str(SDK_APP_B),
                "--days", "20", "--seed", "29", "--until", str(now), "-o", str(b_jsonl))
        run_cli(b, main_dir, "import", str(a_jsonl), str(b_jsonl))
        key_a = create_key(b, main_dir, SDK_APP_A)
        key_b = create_key(b, main_dir, SDK_APP_B)
        media_info = build_media(b, main_dir, self.root, now, a_jsonl, b_jsonl)

        run_cli(b, rl_dir, "generate", "--count", "50", "--sdk-app-id", str(SDK_APP_A),
                "--days", "2", "--seed", "7", "--until", str(now), "-o", str(rl_jsonl))
        run_cli(b, rl_dir, "import", str(rl_jsonl))
        key_rl = create_key(b, rl_dir, SDK_APP_A)

        main = Server(b, main_dir, logs, "main", env_overrides={"TELCDR_RATE_LIMIT__PER_SECOND": "0"})
        self.servers.append(main)
        rl = Server(b, rl_dir, logs, "ratelimited", env_overrides={"TELCDR_RATE_LIMIT__PER_SECOND": "3"})
        self.servers.append(rl)
        main.wait_ready()
        rl.wait_ready()

        self.info = {
            "binary": b,
            "root": str(self.root),
            "now": now,
            "sdk_app_a": SDK_APP_A,
            "sdk_app_b": SDK_APP_B,
            "jsonl_a": str(a_jsonl),
            "jsonl_b": str(b_jsonl),
            "main": {"url": main.url, "endpoint": main.endpoint, "pid": main.proc.pid,
                     "data_dir": str(main_dir), "stderr": str(main.stderr_path),
                     "store_args": store_args(main_dir)},
            "backend": "postgres" if admin else "sqlite",
            "rl": {"url": rl.url, "endpoint": rl.endpoint, "pid": rl.proc.pid, "per_second": 3,
                   "data_dir": str(rl_dir), "stderr": str(rl.stderr_path), "jsonl": str(rl_jsonl)},
            "key_a": key_a,
            "key_b": key_b,
            "key_rl": key_rl,
            **media_info,
        }
        (self.root / "world.json").write_text(json.dumps(self.info, indent=2))
        return self.info

    def stop(self):
        for s in reversed(self.servers):
            s.stop()
        self.servers.clear()
        if self.own_root and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def world_file(self) -> Path:
        return self.root / "world.json"


def _exec(argv: list[str]) -> int:
    if len(argv) < 3 or "--" not in argv:
        print("usage: telcdr_world.py exec BINARY -- CMD...", file=sys.stderr)
        return 2
    sep = argv.index("--")
    binary = argv[1]
    cmd = argv[sep + 1:]

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    world = World(binary)
    child = None
    try:
        print(f"telcdr_world: building data and starting servers in {world.root}", flush=True)
        world.start()
        print(f"telcdr_world: main {world.info['main']['url']}, rate-limited {world.info['rl']['url']}", flush=True)
        env = os.environ.copy()
        env["CONFORMANCE_WORLD"] = str(world.world_file)
        child = subprocess.Popen(cmd, env=env)
        return child.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        world.stop()


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "exec":
        sys.exit(_exec(sys.argv[1:]))
    print("usage: telcdr_world.py exec BINARY -- CMD...", file=sys.stderr)
    sys.exit(2)
