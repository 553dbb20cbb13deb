"""The multicast session names a gateway has published under, kept in a file next to
its stream journal, so that it never publishes under one name twice.

A receiver takes a session name and a sequence number to name one message for good.
A gateway numbers its multicast messages from 1 each time it starts. Restarted under a
name it used before, it would send new messages under numbers its receivers already
hold. They would drop them as duplicates and keep a stale book without noticing.

So a fixed name serves one run: a gateway refuses to start under a name this file
holds. An unnamed session takes the start time in Unix seconds, or the next second not
taken, should two starts fall in the same second.

The file holds one name per line, oldest first, and at most ``NAMES_MAX`` of them. It is
replaced whole (written, synced, renamed) before the first packet goes out.
"""

import os
from pathlib import Path

FILE_NAME = "gateway-multicast-sessions"
# Names kept: a restart a day for almost three years. Unnamed sessions grow with time,
# so only fixed names dropped past this bound could be taken again.
NAMES_MAX = 1024
# The longest name a packet carries.
NAME_LEN_MAX = 10


def is_session_name(text: str) -> bool:
    """Whether ``text`` can be a session name: 1-10 printable ASCII characters, no
    space (a packet pads the name with spaces)."""
    return 1 <= len(text) <= NAME_LEN_MAX and all(0x21 <= ord(c) <= 0x7E for c in text)


class SessionNameUsedError(ValueError):
    """The configured session name was published under by an earlier run."""


class UsedSessions:
    """Reads and extends ``directory/gateway-multicast-sessions``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        directory.mkdir(parents=True, exist_ok=True)
        try:
            text = self.path.read_bytes().decode("ascii", errors="replace")
        except FileNotFoundError:
            text = ""
        # A damaged line names no session anyone could configure: it is dropped.
        self.names = [n for n in text.split() if is_session_name(n)]

    def claim(self, configured: str, now_s: int) -> str:
        """The name to publish under, recorded as used: ``configured`` if it is new
        (SessionNameUsedError if not), else one made of ``now_s``."""
        if configured:
            if configured in self.names:
                raise SessionNameUsedError(
                    f"multicast_session {configured!r} was published under by an earlier "
                    f"run of this gateway ({self.path}): its receivers hold its sequence "
                    "numbers already. Name a new session, or leave the setting empty for "
                    "one named by the start time."
                )
            name = configured
        else:
            used = set(self.names)
            # Ends within NAMES_MAX + 1 steps: at most that many seconds are taken.
            name = next(str(s) for s in range(now_s, now_s + NAMES_MAX + 1) if str(s) not in used)
        assert name not in self.names, "a claimed name is one not used before"
        self._write([*self.names, name][-NAMES_MAX:])
        return name

    def _write(self, names: list[str]) -> None:
        staged = self.path.with_name(self.path.name + ".new")
        with staged.open("w", encoding="ascii") as f:
            f.write("".join(f"{n}\n" for n in names))
            f.flush()
            os.fsync(f.fileno())
        staged.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.names = names
