"""The engine daemon's closed-loop throughput against an earlier build's, in one sitting.

On a machine with shared cores, runs taken minutes apart differ by more than the
change under test, so the two builds' `bench-daemon` alternate, round after round, and
the figure is the median of each round's ratio. Each run is the fsync mode's closed
loop only (the warm-up and the throughput runs `bench-daemon` prints, then it is
stopped): the latency and recovery parts say nothing about throughput and would only
lengthen the sitting.

The earlier build's tree is extracted into a temporary directory and built there once
(kept between sittings, keyed by commit). Writes
bench/results/daemon_against.json. Run with ``make bench-daemon-against``; the
default earlier build is 43bbc7f, the last whose daemon ran the embedded journal
pipeline (sequencer, journal and matcher threads without Raft).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "e2e"))

from run import run_info  # noqa: E402

EMBEDDED_PIPELINE = "43bbc7f"
THROUGHPUT_RUNS = 5
RUN_TIMEOUT_S = 600
THROUGHPUT_LINE = re.compile(r"throughput run \d+: (\d+) commands/s")


def build_current() -> Path:
    """This tree's bench-daemon, release."""
    build(ROOT, None)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "bench-daemon"


def build_earlier(commit: str) -> Path:
    """`commit`'s bench-daemon, built in a directory of its own (kept for next time)."""
    sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    home = Path(tempfile.gettempdir()) / f"ringex-bench-daemon-{sha[:12]}"
    tree, target = home / "tree", home / "target"
    if not (tree / "Cargo.toml").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    build(tree, target)
    return target / "release" / "bench-daemon"


def build(tree: Path, target: Path | None) -> None:
    env = dict(os.environ)
    if target is not None:
        env["CARGO_TARGET_DIR"] = str(target)
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "ringex-bench", "--bin", "bench-daemon"],
        cwd=tree,
        env=env,
        check=True,
        timeout=3600,
    )


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def throughput(binary: Path) -> int:
    """The median of one `bench-daemon` process's fsync throughput runs."""
    with tempfile.TemporaryDirectory(prefix="ringex-against-") as tmp:
        # The run is stopped before it cleans up: its data directories go with `tmp`.
        proc = subprocess.Popen(
            [str(binary), "--out", str(Path(tmp) / "unused.json")],
            env=dict(os.environ, TMPDIR=tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        rates: list[int] = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                if m := THROUGHPUT_LINE.search(line):
                    rates.append(int(m.group(1)))
                    if len(rates) == THROUGHPUT_RUNS:
                        break
        finally:
            proc.kill()
            proc.wait(RUN_TIMEOUT_S)
    if len(rates) < THROUGHPUT_RUNS:
        raise RuntimeError(f"{binary} printed {len(rates)} throughput runs, not {THROUGHPUT_RUNS}")
    return int(statistics.median(rates))


def sitting(current: Path, earlier: Path, rounds: int) -> dict[str, list[int]]:
    """Both builds once per round; which goes first alternates, so neither always
    meets the machine as the other left it."""
    got: dict[str, list[int]] = {"current": [], "earlier": []}
    for n in range(rounds):
        order = [("current", current), ("earlier", earlier)]
        for name, binary in order if n % 2 else reversed(order):
            got[name].append(throughput(binary))
        ratio = got["current"][-1] / got["earlier"][-1]
        print(
            f"round {n + 1}: this build {got['current'][-1]:,}/s, "
            f"earlier {got['earlier'][-1]:,}/s, ratio {ratio:.3f}",
            flush=True,
        )
    return got


def summary(got: dict[str, list[int]], commit: str, load: list[float]) -> dict[str, Any]:
    ratios = [c / e for c, e in zip(got["current"], got["earlier"], strict=True)]
    return {
        "benchmark": "daemon_against",
        "command": "make bench-daemon-against",
        **run_info(),
        "throughput_per_s": int(statistics.median(got["current"])),
        "modes": {
            name: {"throughput_per_s": int(statistics.median(runs))} for name, runs in got.items()
        },
        "extra": {
            "ratio_median_of_rounds": round(statistics.median(ratios), 3),
            "ratio_of_medians": round(
                statistics.median(got["current"]) / statistics.median(got["earlier"]), 3
            ),
            "ratios": [round(r, 3) for r in ratios],
            "current_per_s_runs": got["current"],
            "earlier_per_s_runs": got["earlier"],
            "earlier_git_sha": git("rev-parse", commit),
            "load_average_1m_before_after": load,
            "what": (
                "each run: one bench-daemon process, its fsync mode's closed loop "
                f"(a warm-up, then {THROUGHPUT_RUNS} runs of its plan), the median of those "
                "runs; the two builds alternate within every round"
            ),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--earlier", default=EMBEDDED_PIPELINE, help="commit to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/daemon_against.json")
    args = parser.parse_args()
    earlier = build_earlier(args.earlier)
    current = build_current()
    load = [os.getloadavg()[0]]
    got = sitting(current, earlier, args.rounds)
    load.append(os.getloadavg()[0])
    result = summary(got, args.earlier, [round(x, 2) for x in load])
    print(json.dumps(result["extra"], indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
