"""The Prometheus files in ops/prometheus/ pass promtool: the scrape configuration, the
alert rules, and the rules' unit tests (each alert fires on what it names)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.system_processes import ROOT

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        shutil.which("promtool") is None,
        reason="promtool not installed (Debian's prometheus package; `make setup` installs it)",
    ),
]

OPS = ROOT / "ops" / "prometheus"


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["check", "config"], OPS / "prometheus.yml"),
        (["check", "rules"], OPS / "alerts.yml"),
        (["test", "rules"], OPS / "alerts_test.yml"),
    ],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool(command: list[str], path: Path) -> None:
    done = subprocess.run(
        ["promtool", *command, path.name],
        cwd=OPS,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
