"""A FIX client through an engine leader failover, with a real three-node cluster, the
real gateway and QuickFIX: orders sent before the leader dies and while a new one is
elected are each answered exactly once; the client disconnects in the middle of it,
its resting orders are filled by a binary client meanwhile, and on reconnecting it
gets each of those fills once; every order reported New and not filled rests on the new
leader's book. Nothing is lost, nothing is doubled."""

import time
from pathlib import Path

import pytest

from ringex_client import Client, Executed, LocalBook, Side, TimeInForce
from tests.cluster.chaos_rig import ChaosGateway
from tests.cluster.engine_nodes import EngineCluster
from tests.fix_initiator import Initiator, no_session_rejects
from tests.fix_venue import fix_toml, new_order
from tests.session_tools import expect
from tests.system_processes import PASSWORD, free_port, wait_engine_up

pytestmark = pytest.mark.timeout(180)

ORDERS = 40
BASE = 101_000  # 1010.00 and up: above every bid, so the orders rest


def answers(initiators: list[Initiator]) -> dict[str, list[str]]:
    """ExecType (150) of every ExecutionReport received, by ClOrdID, in order."""
    out: dict[str, list[str]] = {}
    for q in initiators:
        for way, f in q.app.log:
            if way == "in" and f[35] == "8":
                out.setdefault(f[11], []).append(f[150])
    return out


def wait_answered(initiators: list[Initiator], numbers: range) -> None:
    """Until every ClOrdID in ``numbers`` has an ExecutionReport."""
    deadline = time.monotonic() + 30
    while any(str(n) not in answers(initiators) for n in numbers):
        assert time.monotonic() < deadline, answers(initiators)
        time.sleep(0.05)


def resting_ask_prices(port: int) -> set[int]:
    """The prices of the asks on the engine's book, as a fresh L3 subscriber sees it."""
    with Client("127.0.0.1", port, "viewer", PASSWORD) as viewer:
        book = LocalBook(viewer, 1, l3=True)
        book.subscribe()
        book.wait_synced(timeout=20)
        return {price for side, price, _, _ in book.orders() if side == Side.SELL}


def test_fix_orders_through_a_leader_failover_are_answered_once_and_kept(
    cluster: EngineCluster, tmp_path: Path
) -> None:
    old = cluster.leader()
    fix_port = free_port()
    (tmp_path / "g").mkdir()
    gateway = ChaosGateway(tmp_path / "g", cluster.links, fix_toml(fix_port, tmp_path / "fix"))
    gateway.start()
    initiators: list[Initiator] = []

    def connect() -> Initiator:
        q = Initiator(tmp_path / "qf", fix_port, "CLIENT1", "alice", PASSWORD)
        initiators.append(q)
        q.start()
        return q

    def send(q: Initiator, numbers: range) -> None:
        for n in numbers:
            price = BASE + n
            q.send("D", *new_order(str(n), "2", 1, f"{price // 100}.{price % 100:02d}"))

    try:
        wait_engine_up(gateway)
        q = connect()
        send(q, range(1, 21))
        wait_answered(initiators, range(1, 21))
        old.kill()
        send(q, range(21, 31))  # while a leader is elected
        wait_answered(initiators, range(21, 31))
        q.stop()
        # Disconnected: a binary client takes the five lowest asks that rest.
        with Client("127.0.0.1", gateway.port, "bob", PASSWORD) as bob:
            assert cluster.leader() is not old
            bob.buy(1, 5, BASE + ORDERS, time_in_force=TimeInForce.IOC)
            fills = [expect(bob, Executed, timeout=10) for _ in range(5)]
        q = connect()  # the FIX client reconnects
        send(q, range(31, ORDERS + 1))
        wait_answered(initiators, range(31, ORDERS + 1))
        filled = {str(f.price - BASE) for f in fills}
        deadline = time.monotonic() + 30
        while any(answers(initiators)[n][-1] != "F" for n in filled):
            assert time.monotonic() < deadline, answers(initiators)
            time.sleep(0.05)
        got = answers(initiators)
        for n in range(1, ORDERS + 1):
            want = [["0", "F"]] if str(n) in filled else [["0"], ["8"]]
            assert got[str(n)] in want, (n, got)
        new = {BASE + int(n) for n, kinds in got.items() if kinds == ["0"]}
        assert len(new) > ORDERS // 2, "most orders went through"
        assert resting_ask_prices(gateway.port) == new
        for initiator in initiators:
            no_session_rejects(initiator)
    finally:
        q.stop()
        gateway.stop()
