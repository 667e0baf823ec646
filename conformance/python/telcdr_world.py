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
from pathlib import Path

SDK_APP_A = 1400000000
SDK_APP_B = 1400000099
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
