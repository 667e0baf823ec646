"""Two `telcdr serve` processes on one PostgreSQL database, driven with the
official Python SDK: they serve the same data, and a write through either
(a key created, records imported, a key disabled) is seen by both at once.

Runs only when the world is on PostgreSQL (``CONF_POSTGRES_ADMIN``; see
telcdr_world.py): two servers cannot share one SQLite file's writer.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

import telcdr_world
from telcdr_world import Server, binary_env, run_cli
from test_python_sdk import DAY, describe, make_client


@pytest.fixture(scope="module")
def second(world, tmp_path_factory):
    if world.get("backend") != "postgres":
        pytest.skip("two servers share a store only on PostgreSQL")
    # The world was built in another process: point this one's CLI calls and
    # servers at the main data dir's store too.
    args = world["main"]["store_args"]
    telcdr_world.STORES[world["main"]["data_dir"]] = args[args.index("--store") + 1]
    logs = tmp_path_factory.mktemp("second")
    server = Server(world["binary"], world["main"]["data_dir"], logs, "second",
                    env_overrides={"TELCDR_RATE_LIMIT__PER_SECOND": "0"})
    try:
        server.wait_ready()
        yield {"endpoint": server.endpoint}
    finally:
        server.stop()


def cli(world, *args):
    out = subprocess.run([world["binary"], *world["main"]["store_args"], *args],
                         capture_output=True, text=True, timeout=120, env=binary_env())
    assert out.returncode == 0, out.stderr
    return out.stdout


def window(world, app, **over):
    p = {"SdkAppId": app, "StartTimeStamp": world["now"] - 20 * DAY, "EndTimeStamp": world["now"],
         "PageSize": 100, "PageNumber": 0}
    p.update(over)
    return p


def test_both_servers_give_the_same_answers(world, second):
    w = dict(world, second=second)
    one = make_client(w, world["key_a"])
    two = make_client(w, world["key_a"], server="second")
    for page in (0, 3):
        a = describe(one, window(world, world["sdk_app_a"], PageNumber=page))
        b = describe(two, window(world, world["sdk_app_a"], PageNumber=page))
        assert a.TotalCount == b.TotalCount > 0
        assert [c.SessionId for c in a.TelCdrList] == [c.SessionId for c in b.TelCdrList]


def test_a_write_through_one_is_seen_by_the_other_at_once(world, second, tmp_path):
    w = dict(world, second=second)
    app = 1400000555
    # A key created through the CLI (as through either server's store).
    key = json.loads(cli(world, "keys", "create", "--sdk-app-id", str(app), "--json").splitlines()[-1])
    one = make_client(w, key)
    two = make_client(w, key, server="second")
    assert describe(one, window(world, app)).TotalCount == 0
    assert describe(two, window(world, app)).TotalCount == 0

    # Records imported while both servers run: both count them at once.
    jsonl = tmp_path / "more.jsonl"
    run_cli(world["binary"], world["main"]["data_dir"], "generate", "--count", "40", "--sdk-app-id", str(app),
            "--days", "2", "--seed", "3", "--until", str(world["now"]), "-o", str(jsonl))
    run_cli(world["binary"], world["main"]["data_dir"], "import", str(jsonl))
    assert describe(one, window(world, app)).TotalCount == 40
    assert describe(two, window(world, app)).TotalCount == 40

    # Disabling the key is seen by both.
    cli(world, "keys", "disable", key["SecretId"])
    for client in (one, two):
        with pytest.raises(TencentCloudSDKException) as e:
            describe(client, window(world, app))
        assert e.value.code == "AuthFailure.SecretIdNotFound"
