"""FIX market data without I/O: MarketDataRequest to feed subscriptions, the feeds'
snapshots, level updates and trades to W and X with exact decimal prices, and every
MarketDataRequestReject reason; arbitrary requests never raise anything but a session
Reject."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringex_client import messages as msg
from ringex_client.enums import FeedKind, FeedRejectReason, LevelAction, RejectedFeed, Side
from ringex_gateway._native import FixFramer, FixMessage, encode_fix
from ringex_gateway.fix.market_data import X_ENTRIES_MAX, MarketData
from ringex_gateway.fix.order_entry import Forward, InvalidFieldError, Report
from ringex_gateway.fix.symbols import Symbol, SymbolTable

pytestmark = pytest.mark.timeout(60)

SYMBOLS = SymbolTable([Symbol("XAU", 1, 2), Symbol("XAG", 2, 0)])
Groups = dict[int, list[dict[int, str]]]


def market_data() -> MarketData:
    return MarketData(SYMBOLS, [10], requests_max=4)


def request(
    md_req_id: str = "md1",
    kind: str = "1",
    depth: str = "10",
    types: tuple[str, ...] = ("0", "1", "2"),
    symbols: tuple[str, ...] = ("XAU",),
    **extra: str,
) -> tuple[dict[int, str], Groups]:
    fields = {35: "V", 34: "3", 262: md_req_id, 263: kind, 264: depth}
    fields[267], fields[146] = str(len(types)), str(len(symbols))
    fields.update({int(k[1:]): v for k, v in extra.items()})
    return fields, {267: [{269: t} for t in types], 146: [{55: s} for s in symbols]}


def subscriptions(forwards: list[Forward]) -> list[tuple[int, FeedKind, int, bool]]:
    out = []
    for f in forwards:
        assert isinstance(f.message, msg.FeedSubscribe)
        m = f.message
        out.append((m.instrument, m.feed, m.depth, m.subscribe))
    return out


def snapshot(
    instrument: int, feed: FeedKind, depth: int, *levels: msg.Message
) -> list[msg.Message]:
    begin = msg.SnapshotBegin(
        instrument=instrument,
        feed=feed,
        depth=depth,
        feed_seq=7,
        level_seq=3,
        halted=False,
        count=len(levels),
        checksum=0,
    )
    end = msg.SnapshotEnd(instrument=instrument, feed=feed, depth=depth, feed_seq=7, level_seq=3)
    return [begin, *levels, end]


def level(side: Side, price: int, qty: int) -> msg.SnapshotLevel:
    return msg.SnapshotLevel(instrument=1, side=side, price=price, qty=qty, order_count=2)


def update(
    action: LevelAction, side: Side, price: int, qty: int, depth: int = 10
) -> msg.LevelUpdate:
    return msg.LevelUpdate(
        instrument=1,
        depth=depth,
        level_seq=4,
        feed_seq=8,
        timestamp_ns=1,
        side=side,
        action=action,
        price=price,
        qty=qty,
        order_count=1 if qty else 0,
    )


def trade(price: int, qty: int) -> msg.Trade:
    return msg.Trade(
        instrument=1,
        feed_seq=9,
        timestamp_ns=1,
        match_id=1,
        price=price,
        qty=qty,
        aggressor_side=Side.BUY,
        maker_order_id=5,
    )


def feed(md: MarketData, messages: list[msg.Message]) -> list[Forward]:
    forwards = []
    for m in messages:
        forwards += md.response(m)
    return forwards


def reject_reason(md: MarketData) -> tuple[str, str]:
    [report] = md.take_reports()
    assert report.msg_type == "Y"
    body = dict(report.body)
    return body[262], body[281]


def test_snapshot_plus_updates_subscribes_l2_and_trades_then_w_then_x() -> None:
    md = market_data()
    assert subscriptions(md.request(*request())) == [
        (1, FeedKind.L2, 10, True),
        (1, FeedKind.TRADES, 0, True),
    ]
    assert md.take_reports() == []
    book = snapshot(1, FeedKind.L2, 10, level(Side.BUY, 100025, 5), level(Side.SELL, 100100, 7))
    feed(md, [*book, *snapshot(1, FeedKind.TRADES, 0)])
    feed(
        md,
        [
            update(LevelAction.ADD, Side.BUY, 100030, 2),
            trade(100100, 3),
            update(LevelAction.DELETE, Side.SELL, 100100, 0),
        ],
    )
    w, x = md.take_reports()
    assert w == Report(
        "W",
        [
            (262, "md1"),
            (55, "XAU"),
            (268, "2"),
            *[(269, "0"), (270, "1000.25"), (271, "5"), (346, "2")],
            *[(269, "1"), (270, "1001"), (271, "7"), (346, "2")],
        ],
    )
    assert x == Report(
        "X",
        [
            (262, "md1"),
            (268, "3"),
            *[(279, "0"), (269, "0"), (55, "XAU"), (270, "1000.3"), (271, "2"), (346, "1")],
            *[(279, "0"), (269, "2"), (55, "XAU"), (270, "1001"), (271, "3")],
            *[(279, "2"), (269, "1"), (55, "XAU"), (270, "1001")],
        ],
    )


def test_entry_types_not_asked_for_are_left_out() -> None:
    md = market_data()
    assert subscriptions(md.request(*request(types=("1",), depth="1"))) == [
        (1, FeedKind.L2, 1, True)
    ]
    feed(md, snapshot(1, FeedKind.L2, 1, level(Side.BUY, 1, 1), level(Side.SELL, 2, 1)))
    feed(md, [update(LevelAction.CHANGE, Side.BUY, 1, 3, depth=1), trade(2, 1)])
    [w] = md.take_reports()
    assert [v for t, v in w.body if t == 269] == ["1"]


def test_a_snapshot_request_ends_after_its_w() -> None:
    md = market_data()
    forwards = md.request(*request(kind="0", symbols=("XAU", "XAG")))
    assert subscriptions(forwards) == [(1, FeedKind.L2, 10, True), (2, FeedKind.L2, 10, True)]
    assert feed(md, snapshot(1, FeedKind.L2, 10)) == []
    assert subscriptions(feed(md, snapshot(2, FeedKind.L2, 10))) == [
        (1, FeedKind.L2, 10, False),
        (2, FeedKind.L2, 10, False),
    ]
    w1, w2 = md.take_reports()
    assert (dict(w1.body)[55], dict(w2.body)[55], dict(w2.body)[268]) == ("XAU", "XAG", "0")
    # Its MDReqID is free again.
    md.request(*request(kind="0"))
    assert md.take_reports() == []


def test_unsubscribe_keeps_a_feed_another_request_holds() -> None:
    md = market_data()
    md.request(*request("a", types=("0",)))
    md.request(*request("b", types=("0", "1")))
    assert md.request(*request("a", kind="2")) == []
    assert subscriptions(md.request(*request("b", kind="2"))) == [(1, FeedKind.L2, 10, False)]
    md.request(*request("b", kind="2"))
    assert reject_reason(md) == ("b", "4")


def test_a_fresh_snapshot_after_conflation_is_a_new_w_and_splits_the_x() -> None:
    md = market_data()
    md.request(*request(types=("0",)))
    feed(md, snapshot(1, FeedKind.L2, 10))
    feed(md, [update(LevelAction.ADD, Side.BUY, 5, 1)])
    feed(md, snapshot(1, FeedKind.L2, 10, level(Side.BUY, 5, 1)))
    feed(md, [update(LevelAction.CHANGE, Side.BUY, 5, 2)])
    assert [r.msg_type for r in md.take_reports()] == ["W", "X", "W", "X"]


def test_an_x_holds_a_bounded_number_of_entries() -> None:
    md = market_data()
    md.request(*request(types=("2",)))
    feed(md, snapshot(1, FeedKind.TRADES, 0))
    feed(md, [trade(1, 1)] * (X_ENTRIES_MAX + 1))
    w, x1, x2 = md.take_reports()
    assert w.msg_type == "W"
    assert (dict(x1.body)[268], dict(x2.body)[268]) == (str(X_ENTRIES_MAX), "1")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"symbols": ("XPT",)}, "0"),
        ({"kind": "3"}, "4"),
        ({"depth": "5"}, "5"),
        ({"depth": "0"}, "5"),
        ({"t265": "0"}, "6"),
        ({"types": ("0", "4")}, "8"),
    ],
)
def test_requests_the_gateway_cannot_serve_get_a_reject_with_the_reason(
    args: dict[str, object], reason: str
) -> None:
    md = market_data()
    assert md.request(*request(**args)) == []  # type: ignore[arg-type]
    assert reject_reason(md) == ("md1", reason)


def test_depth_0_is_the_full_book_when_the_gateway_offers_it() -> None:
    md = MarketData(SYMBOLS, [0, 10], requests_max=4)
    assert subscriptions(md.request(*request(depth="0", types=("0",)))) == [
        (1, FeedKind.L2, 0, True)
    ]
    assert md.take_reports() == []


def test_duplicate_md_req_id_and_too_many_requests() -> None:
    md = market_data()
    md.request(*request())
    md.take_reports()
    assert md.request(*request()) == []
    assert reject_reason(md) == ("md1", "1")
    for n in range(3):
        md.request(*request(f"more{n}"))
    md.request(*request("one-too-many"))
    assert reject_reason(md) == ("one-too-many", "2")


def test_a_feed_the_gateway_refuses_rejects_the_requests_needing_it() -> None:
    md = market_data()
    md.request(*request(types=("0",)))
    refused = msg.FeedRejected(
        instrument=1, feed=RejectedFeed.L2, depth=10, reason=FeedRejectReason.UNKNOWN_INSTRUMENT
    )
    assert subscriptions(feed(md, [refused])) == [(1, FeedKind.L2, 10, False)]
    assert reject_reason(md) == ("md1", "0")


def test_missing_fields_and_groups_are_session_rejects() -> None:
    md = market_data()
    fields, groups = request()
    del fields[264]
    with pytest.raises(InvalidFieldError) as e:
        md.request(fields, groups)
    assert (e.value.reason, e.value.tag) == (1, 264)
    fields, groups = request()
    del groups[146]
    with pytest.raises(InvalidFieldError) as e:
        md.request(fields, groups)
    assert (e.value.reason, e.value.tag) == (1, 146)


_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=4)
_FIELD = st.tuples(st.sampled_from([262, 263, 264, 265, 267, 146, 269, 55]), _TEXT)


@given(st.lists(_FIELD, max_size=12))
def test_any_parsed_request_is_served_rejected_or_a_session_reject(
    body: list[tuple[int, str]],
) -> None:
    """Random MarketDataRequests through the real parser: what parses is served, answered
    with a Y or refused with a session Reject, never anything else."""
    [item] = FixFramer(4096).feed(encode_fix([(35, "V"), (34, "2"), *body]))
    if not isinstance(item, FixMessage):
        return
    md = market_data()
    try:
        md.request(item.fields, item.groups)
    except InvalidFieldError:
        return
    for report in md.take_reports():
        assert report.msg_type == "Y"
