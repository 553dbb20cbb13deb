"""Forgetting the engine history a gateway holds, after an operator accepted that the
engine lost acknowledged inputs (``ringex-engine --accept-journal-loss``).

Such an engine comes back at a lower sequence number than this gateway has seen, and
the gateway refuses it for good (``EngineBehind``): its account streams and its highest
seen sequence describe a history the engine no longer has. This moves exactly those two
files aside, so the next start links live to the engine as it now is and begins a new
stream epoch. The record of acknowledged client order ids is kept on purpose: an id the
gateway acknowledged before the loss is still refused as a duplicate, so a client's
resend can never execute a second time.
"""

import time
from pathlib import Path

from ringex_gateway import seen_seq, stream_journal

FORGOTTEN = (stream_journal.FILE_NAME, seen_seq.FILE_NAME)


def forget_engine_history(journal_dir: Path) -> Path:
    """Moves the stream journal and the highest-seen-sequence file of ``journal_dir``
    into a new ``forgotten-<unix ns>`` folder inside it and returns that folder. The
    gateway must be stopped. Files that do not exist are skipped."""
    if not journal_dir.is_dir():
        raise FileNotFoundError(f"no journal directory {journal_dir}")
    aside = journal_dir / f"forgotten-{time.time_ns()}"
    aside.mkdir()
    for name in FORGOTTEN:
        path = journal_dir / name
        if path.exists():
            path.rename(aside / name)
    return aside
