"""`autotosis compile --ray`: three generated VODs as tasks on a real local Ray head bound to 127.0.0.1.

One head for the module, started in this process and shut down at the end; the CLI
joins it by address from its own process, as a user's driver joins a cluster.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from media_support import burst_vod
from robustness_support import Run

from autotosis.cli.main import cli

# Ray binds to the machine's routable address unless told it is alone: these keep the head,
# its workers and the CLI's driver on 127.0.0.1, and Ray's usage report off.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    saved = {name: os.environ.get(name) for name in LOOPBACK_ONLY}
    os.environ.update(LOOPBACK_ONLY)
    ray = pytest.importorskip("ray")
    context = ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=4,
                       log_to_driver=False)
    try:
        address = context.address_info["gcs_address"]
        assert address.startswith("127.0.0.1:"), address
        yield address
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.mark.slow
def test_three_vods_through_a_ray_head_match_a_local_batch(tmp_path: Path, ray_head: str) -> None:
    (tmp_path / "vods").mkdir()
    vods = [burst_vod(tmp_path / "vods" / f"r{i}.mp4", 16.0, (5.0 + 2 * i, 8.0 + 2 * i), width=160, height=90)
            for i in range(3)]
    on_ray = Run(tmp_path, "compile", "vods", "--out", "ray", "--ray", ray_head)
    assert on_ray.finish() == 0, on_ray.output
    assert "3 done, 0 skipped, 0 failed" in on_ray.output and "(on Ray: 1 node(s), 4 CPUs)" in on_ray.output
    manifest = json.loads((tmp_path / "ray" / "batch.json").read_text())
    assert manifest["runner"]["kind"] == "ray" and manifest["runner"]["cpus_per_vod"] == 2
    assert [v["status"] for v in manifest["vods"]] == ["done"] * 3

    local = Run(tmp_path, "compile", "vods", "--out", "local", "--parallel", "2")
    assert local.finish() == 0, local.output
    for vod in vods:
        for name in ("segments.json", "chapters.txt", "reel.edl", "scores.csv"):
            assert (tmp_path / "ray" / vod.stem / name).read_text() == \
                (tmp_path / "local" / vod.stem / name).read_text(), name
        assert (tmp_path / "ray" / vod.stem / "reel.mp4").stat().st_size > 0

    again = Run(tmp_path, "compile", "vods", "--out", "ray", "--ray", ray_head)
    assert again.finish() == 0, again.output
    assert "0 done, 3 skipped" in again.output


def test_without_ray_the_option_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: `import ray` fails
    burst_vod(tmp_path / "a.mp4", 4.0, (1.0, 2.0), width=64, height=36)
    result = CliRunner().invoke(cli, ["compile", "a.mp4", "--ray"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == \
        "Error: --ray needs Ray, an optional extra: pip install 'autotosis[ray]'"
