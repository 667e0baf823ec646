"""The README's quick-start snippets work as printed.

Starts `telcdr serve --demo` on a fresh data dir at 127.0.0.1:8900 (the
address the snippets hard-code; if that port is busy, another free port is
used and substituted into the snippet text), takes the two `export` lines it
prints, and runs the Python, tccli and recording-playing snippets with them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from telcdr_world import Server, free_port, port_is_free

README = Path(__file__).resolve().parents[2] / "README.md"
EXPORT_RE = re.compile(r"^\s*export\s+(TENCENTCLOUD_[A-Z_]+)=(\S+)\s*$", re.M)
LISTEN_RE = re.compile(r"telcdr listening on (http://[^\s/]+)/?")


def snippet(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"<!-- snippet:{name} -->(.*?)<!-- /snippet:{name} -->", text, re.S)
    assert m, f"README.md has no <!-- snippet:{name} --> block"
    body = m.group(1)
    fence = re.search(r"```[a-z]*\n(.*?)```", body, re.S)
    assert fence, f"the {name} snippet has no fenced code block"
    return fence.group(1)


@pytest.fixture(scope="module")
def demo(binary, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    data = root / "telcdr-data"
    port = 8900 if port_is_free(8900) else free_port()
    env = {"TELCDR_RATE_LIMIT__PER_SECOND": "0"}
    server = Server(binary, data, root, "demo", extra_args=["--demo"], env_overrides=env, port=port)
    try:
        deadline = time.monotonic() + 300
        exports, url = {}, None
        while time.monotonic() < deadline:
            out = server.stdout_text()
            exports = {k: shlex.split(v)[0] for k, v in EXPORT_RE.findall(out)}
            m = LISTEN_RE.search(out)
            url = m.group(1) if m else None
            if url and "TENCENTCLOUD_SECRET_ID" in exports and "TENCENTCLOUD_SECRET_KEY" in exports:
                break
            if server.proc.poll() is not None:
                pytest.fail(f"serve --demo exited {server.proc.returncode}\nstdout:\n{out}\n"
                            f"stderr:\n{server.stderr_path.read_text(errors='replace')}")
            time.sleep(0.1)
        else:
            pytest.fail(f"serve --demo printed no listening line and export lines:\n{server.stdout_text()}")
        assert url == f"http://127.0.0.1:{port}", url
        server.endpoint = url[len("http://"):]
        server._wait_port()
        yield {"port": port, "exports": exports, "root": root, "stdout": server.stdout_text()}
    finally:
        server.stop()


def _env(demo, venv_bin):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env.update(demo["exports"])
    env["HOME"] = str(demo["root"])
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for k in ("HTTP_PROXY", "http_proxy"):
        env.pop(k, None)
    return env


def _localise(code: str, port: int) -> str:
    assert "127.0.0.1:8900" in code, "the snippet no longer names 127.0.0.1:8900"
    return code.replace("127.0.0.1:8900", f"127.0.0.1:{port}")


def test_demo_prints_export_lines(demo):
    assert demo["exports"]["TENCENTCLOUD_SECRET_ID"]
    assert demo["exports"]["TENCENTCLOUD_SECRET_KEY"]


def test_python_snippet(demo, venv_bin):
    code = _localise(snippet("python"), demo["port"])
    path = demo["root"] / "snippet.py"
    path.write_text(code)
    proc = subprocess.run([str(venv_bin / "python"), str(path)], capture_output=True, text=True,
                          env=_env(demo, venv_bin), cwd=demo["root"], timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    lines = proc.stdout.strip().splitlines()
    m = re.fullmatch(r"calls in the last 24 h: (\d+)", lines[0])
    assert m, proc.stdout
    n = int(m.group(1))
    assert n > 0, "the demo data has no calls in the last 24 h"
    assert len(lines) - 1 == min(n, 5), proc.stdout
    for line in lines[1:]:
        assert "->" in line and line.endswith(" s"), line


def test_tccli_snippet(demo, venv_bin):
    import json
    code = _localise(snippet("tccli"), demo["port"])
    proc = subprocess.run(["bash", "-c", code], capture_output=True, text=True,
                          env=_env(demo, venv_bin), cwd=demo["root"], timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = json.loads(proc.stdout)
    assert out["TotalCount"] > 0
    assert 1 <= len(out["TelCdrList"]) <= 5
    assert out["RequestId"]


def test_play_snippet_saves_a_demo_recording_and_prints_its_transcript(demo, venv_bin):
    import wave
    code = _localise(snippet("play"), demo["port"])
    path = demo["root"] / "play.py"
    path.write_text(code)
    saved = demo["root"] / "call.wav"
    saved.unlink(missing_ok=True)
    proc = subprocess.run([str(venv_bin / "python"), str(path)], capture_output=True, text=True,
                          env=_env(demo, venv_bin), cwd=demo["root"], timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    # The file is real audio of the length its header says.
    with wave.open(str(saved)) as w:
        assert w.getnchannels() == 1 and w.getframerate() > 0
        frames, rate = w.getnframes(), w.getframerate()
        assert frames > 0
        assert saved.stat().st_size >= frames * w.getsampwidth()
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("saved call.wav"), proc.stdout
    transcript = lines[1:]
    assert transcript, "no transcript lines"
    seconds = frames / rate
    for line in transcript:
        m = re.match(r"\s*(-?\d+\.\d)s (\S+): (.+)", line)
        assert m, line
        # Each sentence lies within the recording.
        assert 0.0 <= float(m.group(1)) <= seconds, line
