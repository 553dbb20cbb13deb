"""The systemd units in ops/systemd pass ``systemd-analyze verify``: every key known,
every value parsed (systemd only warns about those, so any output fails the test), and
both run the venue at the same ``Nice=``."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.system_processes import ROOT, units_nice

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        shutil.which("systemd-analyze") is None,
        reason="systemd-analyze not installed (Debian's systemd; `make setup` installs it)",
    ),
]

UNITS = ROOT / "ops" / "systemd"
# Where the units expect the programs installed. verify checks that ExecStart names an
# executable, so a copy of each unit names one that is here instead.
INSTALLED = ("/usr/local/bin/ringex-engine", "/opt/ringex/bin/ringex-gateway")


def unit_names() -> list[str]:
    return sorted(p.name for p in UNITS.glob("*.service"))


@pytest.mark.parametrize("unit", unit_names())
def test_unit_verifies(unit: str, tmp_path: Path) -> None:
    text = (UNITS / unit).read_text()
    assert any(program in text for program in INSTALLED), "the unit starts a ringex program"
    for program in INSTALLED:
        text = text.replace(program, "/bin/true")
    (tmp_path / unit).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / unit)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stderr


def test_the_venue_runs_at_one_priority() -> None:
    assert units_nice() == -10  # and units_nice asserts that every unit sets the same
