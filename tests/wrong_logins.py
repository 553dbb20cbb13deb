"""A flood of wrong logins from one address, and a single login timed from another: the
tools of the login-flood test and benchmark."""

import asyncio
import socket
import time
from collections import Counter

from ringex_client import FrameReader, Login, LoginAccepted, LoginRejected, decode_server, encode


async def _one_wrong_login(port: int, i: int, reasons: Counter[str]) -> None:
    # Half for a real user, half for unknown names: both must count as failures.
    username = "alice" if i % 2 else f"nobody{i}"
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(encode(Login(username, "wrong password", 0)))
        data = await asyncio.wait_for(reader.read(), 30)
        frames = list(FrameReader().feed(data))
        answer = decode_server(frames[0]) if frames else None
        reasons[answer.reason.name if isinstance(answer, LoginRejected) else "cut"] += 1
    except ConnectionResetError:
        reasons["cut"] += 1  # cut before anything was read
    except (OSError, TimeoutError):
        reasons["error"] += 1
    finally:
        if writer is not None:
            writer.close()


async def wrong_logins(port: int, count: int, concurrency: int = 100) -> Counter[str]:
    """``count`` connections from 127.0.0.1, each sending one wrong login; returns how
    they were answered (LoginRejected reason names, "cut" when the connection was closed
    unanswered, or "error")."""
    reasons: Counter[str] = Counter()
    slots = asyncio.Semaphore(concurrency)

    async def bounded(i: int) -> None:
        async with slots:
            await _one_wrong_login(port, i, reasons)

    await asyncio.gather(*(bounded(i) for i in range(count)))
    return reasons


def timed_login(port: int, source: str, username: str, password: str) -> float:
    """Seconds from connecting (from ``source``) to LoginAccepted; raises otherwise."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        s.sendall(encode(Login(username, password, 0)))
        reader = FrameReader()
        while True:
            data = s.recv(4096)
            if not data:
                raise ConnectionError("closed before the login was answered")
            for body in reader.feed(data):
                answer = decode_server(body)
                if isinstance(answer, LoginAccepted):
                    return time.monotonic() - start
                raise AssertionError(f"login answered {answer}")
