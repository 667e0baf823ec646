"""Fixtures shared by the Python SDK, tccli and README tests.

The world (data dirs, keys, servers; see telcdr_world.py) comes from
CONFORMANCE_WORLD when conformance/run already built one, otherwise it is built
here from the binary named by CONFORMANCE_BIN and torn down at the end of the
session, also when tests fail.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import expect  # noqa: E402
from telcdr_world import World  # noqa: E402


@pytest.fixture(scope="session")
def world():
    path = os.environ.get("CONFORMANCE_WORLD")
    if path:
        yield json.loads(Path(path).read_text())
        return
    binary = os.environ.get("CONFORMANCE_BIN")
    if not binary:
        pytest.exit("set CONFORMANCE_BIN to the telcdr binary (or run conformance/run BINARY)", returncode=2)
    w = World(binary)
    try:
        yield w.start()
    finally:
        w.stop()


@pytest.fixture(scope="session")
def binary():
    """The telcdr binary, without building the whole world (README tests)."""
    path = os.environ.get("CONFORMANCE_WORLD")
    if path:
        return json.loads(Path(path).read_text())["binary"]
    b = os.environ.get("CONFORMANCE_BIN")
    if not b:
        pytest.exit("set CONFORMANCE_BIN to the telcdr binary (or run conformance/run BINARY)", returncode=2)
    return str(Path(b).resolve())


@pytest.fixture(scope="session")
def records_a(world):
    recs = expect.load_jsonl(world["jsonl_a"])
    assert len(recs) >= 1000, f"generate wrote only {len(recs)} records for tenant A"
    assert all(r["SdkAppId"] == world["sdk_app_a"] for r in recs)
    return recs


@pytest.fixture(scope="session")
def records_b(world):
    recs = expect.load_jsonl(world["jsonl_b"])
    assert len(recs) >= 100
    assert all(r["SdkAppId"] == world["sdk_app_b"] for r in recs)
    return recs


@pytest.fixture(scope="session")
def venv_bin():
    """Directory holding the venv's executables (tccli, python)."""
    return Path(sys.executable).parent


@pytest.fixture
def tccli_home(tmp_path):
    """A throwaway HOME so that tccli's ~/.tccli never touches the real one."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def scenario(world, records_a, records_b):
    """Queries derived from the generated data (never hard-coded answers).

    * ``paging``: a window whose both ends are exact record times (checks
      inclusiveness), holding a few hundred of tenant A's records.
    * ``filters``: the last 5 days, two phones (one frequent, one rare) of
      records in that window, each spelled differently from the data, and
      session ids: two that match the phones, one that does not, one of
      tenant B's and one unknown.
    """
    now = world["now"]
    a_desc = sorted(records_a, key=lambda r: (-r["Time"], r["SessionId"]))
    # a window of ~400 records; if the data has records sharing a Time, put the
    # first such tie inside it so the SessionId tie-break is exercised
    ties = [i for i in range(len(a_desc) - 1) if a_desc[i]["Time"] == a_desc[i + 1]["Time"]]
    end_idx = max(1, ties[0] - 200) if ties else 15
    end = a_desc[end_idx]["Time"]
    start = a_desc[min(end_idx + 405, len(a_desc) - 1)]["Time"]
    paging = {"StartTimeStamp": start, "EndTimeStamp": end}

    fstart, fend = now - 5 * 86400, now
    in_window = [r for r in records_a if fstart <= r["Time"] <= fend]
    frequent, rare = expect.pick_phones(in_window)
    phones = [expect.spellings(frequent)[0], expect.spellings(rare)[2]]
    by_phone = expect.expected(records_a, world["sdk_app_a"], fstart, fend, phones=phones)
    not_by_phone = [r for r in in_window if r not in by_phone]
    sids = [r["SessionId"] for r in by_phone[:2]]
    if not_by_phone:
        sids.append(not_by_phone[0]["SessionId"])
    sids.append(records_b[0]["SessionId"])
    sids.append("00000000-0000-4000-8000-000000000000")
    return {
        "now": now,
        "paging": paging,
        "filters": {"StartTimeStamp": fstart, "EndTimeStamp": fend, "Phones": phones, "SessionIds": sids},
        "frequent": frequent,
        "rare": rare,
    }
