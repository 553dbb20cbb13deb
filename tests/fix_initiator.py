"""QuickFIX as the counterparty: a FIX 4.4 initiator that validates everything it
receives against QuickFIX's own FIX44.xml (UseDataDictionary, ValidateUserDefinedFields)
and records every message both ways, for system tests.

QuickFIX calls back on its own threads: the callbacks only put messages on a queue."""

import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import quickfix as fix  # type: ignore[import-untyped]

FIX44_XML = Path(sys.prefix, "share", "quickfix", "FIX44.xml")
Fields = dict[int, str]
Groups = dict[tuple[int, int], list[str]]


def fields_of(message: Any) -> Fields:
    """A QuickFIX message as tag → value (header, body and trailer)."""
    out: Fields = {}
    for part in message.toString().split("\x01"):
        if part:
            tag, _, value = part.partition("=")
            out.setdefault(int(tag), value)
    return out


def pairs_of(message: Any) -> list[tuple[int, str]]:
    """A QuickFIX message's fields in wire order, repeating groups included."""
    parts = message.toString().split("\x01")
    return [(int(tag), value) for tag, _, value in (p.partition("=") for p in parts if p)]


class Recorder(fix.Application):  # type: ignore[misc]
    """Adds the credentials to the Logon and records every message."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username, self.password = username, password
        self.received: queue.Queue[Fields] = queue.Queue()
        #: Market data messages (W, X, Y) in wire order, groups and all.
        self.market_data: queue.Queue[list[tuple[int, str]]] = queue.Queue()
        self.log: list[tuple[str, Fields]] = []
        self.logged_on: queue.Queue[bool] = queue.Queue()
        self.session_id: Any = None

    def onCreate(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX's names)
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:  # noqa: N802
        self.logged_on.put(True)

    def onLogout(self, session_id: Any) -> None:  # noqa: N802
        self.logged_on.put(False)

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        if message.getHeader().getField(35) == "A":
            message.setField(fix.StringField(553, self.username))
            message.setField(fix.StringField(554, self.password))
        self.log.append(("out", fields_of(message)))

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        self._in(message)

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        self.log.append(("out", fields_of(message)))

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        self._in(message)

    def _in(self, message: Any) -> None:
        f = fields_of(message)
        self.log.append(("in", f))
        self.received.put(f)
        if f[35] in ("W", "X", "Y"):
            self.market_data.put(pairs_of(message))


class Initiator:
    """A QuickFIX initiator session ``sender`` → ``target`` on a port of loopback."""

    def __init__(self, workdir: Path, port: int, sender: str, username: str, password: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.config = workdir / f"{sender}.cfg"
        self.config.write_text(
            "[DEFAULT]\n"
            "ConnectionType=initiator\n"
            "ReconnectInterval=1\n"
            f"FileStorePath={workdir / 'store'}\n"
            f"FileLogPath={workdir / 'log'}\n"
            "StartTime=00:00:00\nEndTime=00:00:00\n"
            "UseDataDictionary=Y\n"
            f"DataDictionary={FIX44_XML}\n"
            "ValidateUserDefinedFields=Y\n"
            "HeartBtInt=2\n"
            "SocketConnectHost=127.0.0.1\n"
            f"SocketConnectPort={port}\n"
            "[SESSION]\nBeginString=FIX.4.4\n"
            f"SenderCompID={sender}\nTargetCompID=RINGEX\n"
        )
        self.app = Recorder(username, password)
        settings = fix.SessionSettings(str(self.config))
        self._socket: Any = fix.SocketInitiator(
            self.app, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
        )

    def start(self, timeout: float = 15.0) -> None:
        """Connects and waits for the Logon to be answered."""
        self._socket.start()
        if not self.app.logged_on.get(timeout=timeout):
            raise AssertionError("logged out instead of logging on")

    def wait_logged_on(self, timeout: float) -> None:
        """Waits until QuickFIX (reconnecting on its own) is logged on again."""
        deadline = time.monotonic() + timeout
        while not self.app.logged_on.get(timeout=max(deadline - time.monotonic(), 0.01)):
            pass

    def stop(self) -> None:
        """Logs out, disconnects and lets go of the session (an initiator runs once: QuickFIX
        would send a later initiator's messages through this one's session otherwise)."""
        if self._socket is not None:
            self._socket.stop()
            self._socket = None

    def send(self, msg_type: str, *fields: tuple[int, str], groups: Groups | None = None) -> None:
        """Sends an application message with these body fields and repeating groups
        ({(NumInGroup tag, entry tag): one value per entry})."""
        m = fix.Message()
        m.getHeader().setField(fix.StringField(35, msg_type))
        for tag, value in fields:
            m.setField(fix.StringField(tag, value))
        for (count_tag, tag), values in (groups or {}).items():
            for value in values:
                group = fix.Group(count_tag, tag)
                group.setField(fix.StringField(tag, value))
                m.addGroup(group)
        if not fix.Session.sendToTarget(m, self.app.session_id):
            raise AssertionError(f"QuickFIX did not send {m}")

    def move_numbers(self, sender: int, target: int) -> None:
        """Moves the stored next sender and target MsgSeqNum (while stopped), as if
        QuickFIX had lost or skipped messages."""
        [path] = (self.workdir / "store").glob("*.seqnums")
        next_sender, next_target = (int(n) for n in path.read_text().split(" : "))
        path.write_text(f"{next_sender + sender:010d} : {next_target + target:010d}")

    def expect(self, match: Callable[[Fields], bool], timeout: float = 10.0) -> Fields:
        """The next received message ``match`` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching FIX message")
            try:
                f = self.app.received.get(timeout=left)
            except queue.Empty:
                continue
            if match(f):
                return f

    def market_data(self, timeout: float = 10.0) -> list[tuple[int, str]]:
        """The next W, X or Y received, fields in wire order."""
        return self.app.market_data.get(timeout=timeout)

    def received_types(self) -> list[str]:
        """MsgTypes received so far, in order."""
        return [f[35] for way, f in self.app.log if way == "in"]


def report(msg_type: str, **tags: str) -> Callable[[Fields], bool]:
    """Matches ``msg_type`` with these tag values (``t11="5"`` is tag 11 = "5")."""
    want = {int(k[1:]): v for k, v in tags.items()}
    return lambda f: f.get(35) == msg_type and all(f.get(t) == v for t, v in want.items())


def no_session_rejects(q: Initiator) -> None:
    """Neither side sent a session Reject (35=3) or a BusinessMessageReject (35=j)."""
    types = {f[35] for _, f in q.app.log}
    assert "3" not in types, q.app.log
    assert "j" not in types, q.app.log
