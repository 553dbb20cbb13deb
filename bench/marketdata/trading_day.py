"""Trading days for the benchmark. The engine takes at most ``max_client_ids_per_day``
new orders a day (4,194,304 by default) and rejects every later one
(DailyOrderLimit); a whole run enters more than that, and a feed fed only rejections
goes quiet. So each measured stretch starts a new day (EndOfDay, from the admin
login), and a closed-loop stretch whose orders were rejected fails the run rather than
report rejections as order throughput.

GTC orders outlive the day, and the seller and the buyer never keep quite the same
pace: the one ahead leaves orders resting. At an offered rate this machine cannot
sustain, their open loops drift apart by tens of thousands of orders, which stayed in
the book for every phase after (and met the open order limit in one). So the new day
also cancels what the traders left resting."""

import asyncio
from collections import Counter

from load import LoadSession

from ringex_client import AdminResult, AsyncClient, MassCancel, RejectReason, encode
from tests.system_processes import PASSWORD

_ANSWER_S = 30.0


async def new_day(port: int, traders: list[LoadSession]) -> None:
    """Cancels the ``traders``' resting orders and closes the trading day through the
    gateway on ``port``; returns once the engine has taken both (the cancels are sent
    first, and the gateway forwards them before the admin session has even logged
    in). The traders ignore the cancels' answers."""
    for trader in traders:
        assert trader.transport is not None
        trader.transport.write(encode(MassCancel()))
    admin = AsyncClient("127.0.0.1", port, "admin", PASSWORD, reconnect=False, timeout_s=_ANSWER_S)
    await admin.connect()
    try:
        request_id = admin.end_of_day()
        async with asyncio.timeout(_ANSWER_S):
            while True:
                m = await admin.next_message()
                if isinstance(m, AdminResult) and m.request_id == request_id:
                    break
        if m.reason != 0:
            raise RuntimeError(f"EndOfDay refused: reason {m.reason}")
    finally:
        await admin.close()


def reject_reasons(sessions: list[LoadSession]) -> Counter[int]:
    """The traders' rejections so far, by reason code."""
    total: Counter[int] = Counter()
    for s in sessions:
        total += s.reject_reasons
    return total


def named(reasons: Counter[int]) -> dict[str, int]:
    """Rejections by reason name."""
    return {_name(code): n for code, n in sorted(reasons.items())}


def _name(code: int) -> str:
    try:
        return RejectReason(code).name
    except ValueError:
        return str(code)


def check_accepted(sessions: list[LoadSession], what: str) -> None:
    """Fails if any of the traders' orders was rejected during ``what``."""
    if any(s.rejected for s in sessions):
        raise RuntimeError(
            f"orders rejected during {what} ({named(reject_reasons(sessions))}): the figures "
            "are void"
        )
