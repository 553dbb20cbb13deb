"""FIX market data through the real gateway and daemon, with QuickFIX as the subscriber
(validating every W, X and Y against its FIX44.xml): a book applied from W then X equals
the engine's book as a fresh binary L2 subscriber sees it, the trades equal the binary
trades feed, and requests the gateway cannot serve get a MarketDataRequestReject with
the reason."""

import queue
import random
import time
from decimal import Decimal
from typing import Any

import pytest

from ringex_client import (
    Accepted,
    Client,
    Executed,
    FeedKind,
    LocalBook,
    Side,
    TimeInForce,
    Trade,
)
from tests.fix_book import FixBook
from tests.fix_initiator import Initiator, no_session_rejects, report
from tests.fix_raw import RawFix
from tests.fix_venue import FixGateway, new_order
from tests.session_tools import expect
from tests.system_processes import PASSWORD

pytestmark = pytest.mark.timeout(120)

DEPTH = 10
MID = 100_000  # XAU in engine units: 1000.00


def request(
    q: Initiator,
    md_req_id: str,
    kind: str = "1",
    depth: int = DEPTH,
    types: tuple[str, ...] = ("0", "1", "2"),
    symbol: str = "XAU",
) -> None:
    """A MarketDataRequest with incremental updates."""
    q.send(
        "V",
        (262, md_req_id),
        (263, kind),
        (264, str(depth)),
        (265, "1"),
        groups={(267, 269): list(types), (146, 55): [symbol]},
    )


def price_text(units: int) -> str:
    """XAU engine units as a FIX price with its 2 decimals."""
    return f"{units // 100}.{units % 100:02d}"


def units(text: str) -> int:
    return int(Decimal(text).scaleb(2))


def apply_until(q: Initiator, book: FixBook, done: Any, clients: list[Client]) -> None:
    """Applies W and X to ``book`` until ``done(book)``, polling the binary ``clients``
    meanwhile (which keeps them alive)."""
    deadline = time.monotonic() + 20
    while not done(book):
        assert time.monotonic() < deadline, "the FIX book did not get there in time"
        for c in clients:
            c.poll()
        try:
            pairs = q.market_data(timeout=0.05)
        except queue.Empty:
            continue
        assert dict(pairs)[35] != "Y", pairs
        book.apply(pairs)


def engine_levels(fix_venue: FixGateway, depth: int | None) -> list[tuple[str, int, int, int]]:
    """The best ``depth`` levels of instrument 1 (None: all) of the engine's book as a
    fresh binary subscriber gets it: from the L2 feed, or the whole L3 book."""
    with Client("127.0.0.1", fix_venue.gateway.port, "viewer", PASSWORD) as viewer:
        local = LocalBook(viewer, 1, l3=depth is None, l2_depth=depth or 0)
        local.subscribe()
        local.wait_synced()
        fix_side = {Side.BUY: "0", Side.SELL: "1"}
        return [
            (fix_side[s], lv.price, lv.qty, lv.order_count)
            for s in (Side.BUY, Side.SELL)
            for lv in local.levels(s, depth)
        ]


def keep_trades(tape: Client) -> list[Trade]:
    """The trades the binary trades feed delivers to ``tape``, as they come."""
    trades: list[Trade] = []
    tape.on_message = lambda m: trades.append(m) if isinstance(m, Trade) else None
    tape.subscribe_feed(1, FeedKind.TRADES)
    return trades


def trade_randomly(q: Initiator | None, traders: list[Client], orders: int, seed: int = 11) -> None:
    """Limit orders around MID from binary sessions and the FIX session ``q`` (if any),
    some cancelled; returns once the engine answered every one."""
    rng = random.Random(seed)
    last: dict[int, int] = {}
    for n in range(orders):
        side = rng.choice([Side.BUY, Side.SELL])
        qty, price = rng.randint(1, 6), MID + rng.randint(-25, 25)
        who = rng.randrange(len(traders) + (q is not None))
        if q is not None and who == len(traders):
            fix_side = "1" if side == Side.BUY else "2"
            q.send("D", *new_order(str(5000 + n), fix_side, qty, price_text(price)))
            continue
        trader = traders[who]
        coid = trader.submit(1, side, qty, price)
        if rng.random() < 0.25 and who in last:
            trader.cancel(last[who])
        last[who] = coid
    if q is not None:
        q.expect(report("8", t11=str(5000 + orders - 1)))
    for who, coid in last.items():
        expect(traders[who], Accepted, timeout=5, client_order_id=coid)


@pytest.mark.parametrize("fix_venue", [{"feed_l2_depths": "0,10"}], indirect=True)
@pytest.mark.parametrize("depth", [DEPTH, 0])
def test_a_book_from_w_then_x_equals_the_engines_book(fix_venue: FixGateway, depth: int) -> None:
    """At a depth the gateway offers, and at 0: the whole book."""
    q = fix_venue.initiator("CLIENT1", "alice")
    q.start()
    port = fix_venue.gateway.port
    try:
        with (
            Client("127.0.0.1", port, "bob", PASSWORD) as bob,
            Client("127.0.0.1", port, "carol", PASSWORD) as carol,
            Client("127.0.0.1", port, "viewer", PASSWORD) as viewer,
            Client("127.0.0.1", port, "dave", PASSWORD) as dave,
        ):
            tape = keep_trades(viewer)
            clients = [bob, carol, viewer, dave]
            bob.buy(1, 5, MID - 100)
            expect(bob, Accepted)
            book = FixBook()
            request(q, "md1", depth=depth)
            apply_until(q, book, lambda b: ("XAU", "0") in b.sides, clients)
            assert book.levels("XAU", 2) == [("0", MID - 100, 5, 1)]

            trade_randomly(q, [bob, carol], 150)
            # The last change, a trade: the FIX book is complete once it holds it.
            dave.submit(1, Side.SELL, 1, MID - 1000, time_in_force=TimeInForce.IOC)
            last = expect(dave, Executed, timeout=10)
            apply_until(q, book, lambda b: any(t.match_id == last.match_id for t in tape), clients)
            apply_until(q, book, lambda b: len(b.trades) == len(tape), clients)
            if depth:
                assert book.levels("XAU", 2) == engine_levels(fix_venue, depth)
            # The top of the whole book (all of it at depth 0), which is deeper than DEPTH.
            whole = engine_levels(fix_venue, None)
            sides = [[lv for lv in whole if lv[0] == side] for side in ("0", "1")]
            top = depth or None
            assert book.levels("XAU", 2) == sides[0][:top] + sides[1][:top]
            assert max(map(len, sides)) > DEPTH, "levels entered and left the top"
            assert [(symbol, units(px), qty) for symbol, px, qty in book.trades] == [
                ("XAU", t.price, t.qty) for t in tape
            ]

            # Unsubscribed: nothing more for md1; a snapshot-only request gets one W.
            for c in clients:
                c.poll()
            request(q, "md1", kind="2")
            request(q, "md2", kind="0", depth=depth, types=("0", "1"))
            w = q.market_data()
            assert (dict(w)[35], dict(w)[262]) == ("W", "md2")
            fresh = FixBook()
            fresh.apply(w)
            assert fresh.levels("XAU", 2) == book.levels("XAU", 2)
            dave.sell(1, 1, MID - 1000)
            expect(dave, Executed)
            with pytest.raises(queue.Empty):
                q.market_data(timeout=1.0)
        no_session_rejects(q)
    finally:
        q.stop()


def test_requests_the_gateway_cannot_serve_are_rejected_with_the_reason(
    fix_venue: FixGateway,
) -> None:
    q = fix_venue.initiator("CLIENT2", "bob")
    q.start()
    try:
        request(q, "ok")
        assert dict(q.market_data())[35] == "W"
        cases = [
            ("unknown", {"symbol": "XPT"}, "0"),
            ("ok", {}, "1"),
            ("depth", {"depth": 5}, "5"),
            ("full", {"depth": 0}, "5"),
            ("kind", {"kind": "2"}, "4"),
            ("type", {"types": ("0", "4")}, "8"),
        ]
        for md_req_id, args, reason in cases:
            request(q, md_req_id, **args)  # type: ignore[arg-type]
            answer = dict(q.market_data())
            assert (answer[35], answer[262], answer[281]) == ("Y", md_req_id, reason), answer
        no_session_rejects(q)
    finally:
        q.stop()


@pytest.mark.parametrize(
    "fix_venue",
    [
        {"feed_slow": "conflate", "feed_backlog_bytes": 4096},
        {"feed_slow": "disconnect", "feed_backlog_bytes": 4096},
    ],
    ids=["conflate", "disconnect"],
    indirect=True,
)
def test_a_fix_subscriber_that_stops_reading_is_conflated_or_cut_and_trading_goes_on(
    fix_venue: FixGateway,
) -> None:
    port = fix_venue.gateway.port
    stalled = RawFix(fix_venue.fix_port, "CLIENT3", receive_buffer_bytes=4096)
    stalled.logon("erin")  # an account that does not trade: only market data backs up
    md = [(262, "slow"), (263, "1"), (264, str(DEPTH)), (265, "1"), (267, "3")]
    md += [(269, "0"), (269, "1"), (269, "2"), (146, "1"), (55, "XAU")]
    stalled.send(stalled.message("V", *md))
    with (
        Client("127.0.0.1", port, "bob", PASSWORD) as bob,
        Client("127.0.0.1", port, "carol", PASSWORD) as carol,
    ):
        # Every round's orders are answered within its bound while the FIX subscriber
        # reads nothing.
        for round in range(8):
            trade_randomly(None, [bob, carol], 250, seed=round)
    got, closed = stalled.read_all()
    types = [m[35] for m in got]
    if fix_venue.gateway_settings["feed_slow"] == "conflate":
        assert not closed
        assert types.count("W") >= 2, types  # a fresh snapshot after the backlog
        assert "X" in types[types.index("W", 1) :], "updates go on after it"
    else:
        assert closed
        assert (got[-1][35], got[-1][58]) == ("5", "slow_consumer"), types
    stalled.close()
