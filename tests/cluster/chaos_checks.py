"""The invariants checked after every fault and at the end of a chaos run.

Against the clients' oracle: every order answered within the bound (never left
hanging), none accepted twice, client streams without a gap, books uncrossed and
positions conserved. Against the engine nodes' journals: sequence numbers without a
gap, every order the clients were given a sequenced answer for journaled exactly once,
and no order journaled that its client was not told about; and equal state hashes on
every node at one applied sequence number.
"""

import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from ringex_client import Side
from tests.cluster.order_load import OrderLoad

_STATE_HASH = re.compile(r"replayed to seq (\d+) .*state_hash=(0x[0-9a-f]+)")


def check_clients(load: OrderLoad, answer_bound_s: float) -> None:
    """The clients' side: answers, streams, books and positions."""
    for t in load.traders:
        assert t.client.protocol.gaps == 0, f"account {t.account}: stream had a gap"
        assert t.seqs == list(range(t.seqs[0], t.seqs[0] + len(t.seqs))) if t.seqs else True, (
            f"account {t.account}: stream seqs not consecutive"
        )
        for coid, a in t.orders.items():
            assert a.answered_s is not None, f"order {t.account}/{coid} never answered"
            assert a.answered_s - a.sent_s <= answer_bound_s, (
                f"order {t.account}/{coid} answered after {a.answered_s - a.sent_s:.2f}s"
            )
            assert a.sequenced_answers <= 1, f"order {t.account}/{coid} answered twice: {a}"
            assert a.unavailable_after_answer == 0, (
                f"order {t.account}/{coid} answered EngineUnavailable after the engine's answer"
            )
            assert a.answer_after_unavailable == 0, (
                f"order {t.account}/{coid} executed after it was answered EngineUnavailable"
            )
            assert a.other_rejects == 0, f"order {t.account}/{coid} rejected unexpectedly: {a}"
    check_book_uncrossed(load)
    check_positions_conserved(load)


def check_book_uncrossed(load: OrderLoad) -> None:
    """Every resting order belongs to a load client, so their open orders are the book."""
    bids = [
        o.price
        for t in load.traders
        for o in t.client.tracker.open_orders()
        if o.side == Side.BUY and o.status.name == "OPEN"
    ]
    asks = [
        o.price
        for t in load.traders
        for o in t.client.tracker.open_orders()
        if o.side == Side.SELL and o.status.name == "OPEN"
    ]
    if bids and asks:
        assert max(bids) < min(asks), f"book crossed: bid {max(bids)} ask {min(asks)}"


def check_positions_conserved(load: OrderLoad) -> None:
    """Each fill has two sides among the load's accounts: bought equals sold."""
    net = sum((f.qty if f.side == Side.BUY else -f.qty) for t in load.traders for f in t.fills)
    assert net == 0, f"positions not conserved: net {net}"


def journal_orders(
    binary: Path, data_dir: Path, to_seq: int
) -> tuple[list[int], Counter[tuple[int, int]]]:
    """The journal's sequence numbers up to ``to_seq`` and its new orders by
    (account, client order id)."""
    out = _engine_tool(
        binary, "journal", "dump", "--data-dir", str(data_dir), "--format", "json",
        "--to-seq", str(to_seq),
    )  # fmt: skip
    seqs: list[int] = []
    orders: Counter[tuple[int, int]] = Counter()
    for line in out.splitlines():
        record = json.loads(line)
        seqs.append(record["seq"])
        i = record["input"]
        if i.get("type") == "new_order":
            orders[(i["account"], i["client_order_id"])] += 1
    return seqs, orders


def check_journal(binary: Path, data_dir: Path, load: OrderLoad, last_seq: int) -> None:
    """The engine's journal up to ``last_seq`` (every answer the clients were given is
    at or below it) against the clients' oracle."""
    seqs, journaled = journal_orders(binary, data_dir, last_seq)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, (
        "journal sequence numbers have a gap"
    )
    assert not seqs or seqs[-1] == last_seq, f"journal ends at {seqs[-1]}, clients saw {last_seq}"
    doubled = [k for k, n in journaled.items() if n > 1]
    assert not doubled, f"orders journaled twice: {doubled[:10]}"
    told = {
        (t.account, coid)
        for t in load.traders
        for coid, a in t.orders.items()
        if a.sequenced_answers
    }
    ours = {(t.account, coid) for t in load.traders for coid in t.orders}
    in_journal = {k for k in journaled if k in ours}
    if seqs and seqs[0] == 1:
        assert told == in_journal, (
            f"told but not journaled: {sorted(told - in_journal)[:10]}; "
            f"journaled but never told: {sorted(in_journal - told)[:10]}"
        )
    else:
        assert in_journal <= told, f"journaled but never told: {sorted(in_journal - told)[:10]}"


def state_hash(binary: Path, config: Path, data_dir: Path, to_seq: int, wait_s: float = 0.0) -> str:
    """The engine state hash after replaying the journal to ``to_seq``; a running
    follower's journal may still be catching up, so it is retried for ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        out = _engine_tool(
            binary, "journal", "--config", str(config), "replay", "--data-dir", str(data_dir),
            "--to-seq", str(to_seq),
        )  # fmt: skip
        found = _STATE_HASH.search(out)
        assert found, f"no state hash in: {out}"
        reached = int(found.group(1))
        if reached == to_seq:
            return found.group(2)
        assert time.monotonic() < deadline, f"{data_dir}: replay stopped at {reached}, not {to_seq}"
        time.sleep(0.2)


def verify_journal(binary: Path, config: Path, data_dir: Path) -> None:
    """``journal verify`` on a stopped node: every entry, the hard state and the
    snapshot pass their checks, and a start would need no repair."""
    out = _engine_tool(
        binary, "journal", "--config", str(config), "verify", "--data-dir", str(data_dir)
    )
    assert "checksums and chain intact" in out, out


def _engine_tool(binary: Path, *args: str) -> str:
    """Runs one of ``ringex-engine``'s tools; its standard output."""
    done = subprocess.run([str(binary), *args], check=True, capture_output=True, timeout=120)
    return done.stdout.decode()
