"""FIX order entry mapped to binary order messages and back, without I/O; the FIX framer
fed random and split byte streams; the ``[fix]`` configuration's checks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringex_client.codec import encode
from ringex_client.enums import (
    ALL_INSTRUMENTS,
    CommandKind,
    Liquidity,
    OrderType,
    RejectReason,
    Side,
    TimeInForce,
)
from ringex_client.messages import (
    Accepted,
    Executed,
    MassCancel,
    Message,
    NewOrder,
    Rejected,
    Replace,
)
from ringex_gateway._native import FixBroken, FixFramer, FixMessage, FixRefused, encode_fix
from ringex_gateway.config import FixSettings, FixSymbolConfig
from ringex_gateway.fix.order_entry import Forward, InvalidFieldError, OrderEntry, Report
from ringex_gateway.fix.symbols import Symbol, SymbolTable
from ringex_gateway.instrument_terms import InstrumentTerms

pytestmark = pytest.mark.timeout(60)

SYMBOLS = SymbolTable([Symbol("XAU", 1, 2)])


def listed(instrument: int) -> InstrumentTerms | None:
    """The engine's terms: instrument 1 listed with a tick of 5 units and lots of 10."""
    return (5, 10, False) if instrument == 1 else None


SENT = "20260101-00:00:00.000"


def order(**extra: str) -> dict[int, str]:
    fields = {35: "D", 34: "5", 11: "17", 55: "XAU", 54: "1", 60: "x", 38: "10", 40: "2"}
    fields[44] = "1000.25"
    fields.update({int(k[1:]): v for k, v in extra.items()})
    return fields


def body(report: Forward | Report | None) -> dict[int, str]:
    assert isinstance(report, Report)
    return dict(report.body)


def reports(entry: OrderEntry, m: Message, reported_to: int = 0) -> list[dict[int, str]]:
    """The bodies of the FIX reports of one binary response (header fields included)."""
    frames = encode(m)
    batch = entry.orders.reports(frames, 0, "RINGEX", "PEER", 7, SENT, reported_to, True)
    assert batch.consumed == len(frames)
    items = FixFramer(4096).feed(batch.wire)
    assert len(items) == batch.count
    out = []
    for seq, item in enumerate(items, start=7):
        assert isinstance(item, FixMessage)
        assert (item.fields[49], item.fields[56], item.fields[52]) == ("RINGEX", "PEER", SENT)
        assert item.fields[34] == str(seq)
        out.append(dict(item.fields))
    return out


def test_new_order_single_becomes_a_new_order_with_exact_units() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    out = entry.request(order(t59="3", t18="6"))
    assert out == Forward(
        NewOrder(
            client_order_id=17,
            instrument=1,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.IOC,
            post_only=True,
            price=100_025,
            qty=10,
        )
    )


def test_off_tick_price_and_unknown_symbol_are_rejected_with_a_reason() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    off_tick = body(entry.request(order(t44="1000.255")))
    assert (off_tick[150], off_tick[39], off_tick[103]) == ("8", "8", "99")
    assert "decimals" in off_tick[58]
    unknown = body(entry.request(order(t55="XAG")))
    assert unknown[103] == "1"


@pytest.mark.parametrize(
    ("extra", "reason", "tag"),
    [
        ({"t11": "abc"}, 5, 11),
        ({"t54": "7"}, 5, 54),
        ({"t38": "1.5"}, 6, 38),
        ({"t18": "G"}, 5, 18),
    ],
)
def test_bad_fields_are_session_rejects(extra: dict[str, str], reason: int, tag: int) -> None:
    with pytest.raises(InvalidFieldError) as e:
        OrderEntry(SYMBOLS, 100, listed).request(order(**extra))
    assert (e.value.reason, e.value.tag) == (reason, tag)


def test_unsupported_and_undefined_message_types() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    reject = body(entry.request({35: "V", 34: "9"}))
    assert (reject[372], reject[380], reject[45]) == ("V", "3", "9")
    with pytest.raises(InvalidFieldError) as e:
        entry.request({35: "ZZ", 34: "9"})
    assert e.value.reason == 11


def test_fills_accumulate_and_replace_takes_the_total_quantity() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    entry.request(order())
    other = Accepted(1, 0, 9, 98, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False, 1, 1)
    assert reports(entry, other, reported_to=1) == []  # reported before a reconnect
    accepted = Accepted(
        1, 0, 17, 99, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False, 100_025, 10
    )
    assert reports(entry, accepted)[0][150] == "0"
    fill = Executed(2, 0, 17, 5, 1, Side.BUY, 100_025, 4, 6, Liquidity.MAKER)
    [filled] = reports(entry, fill)
    assert (filled[150], filled[39], filled[14], filled[151], filled[31], filled[6]) == (
        "F",
        "1",
        "4",
        "6",
        "1000.25",
        "1000.25",
    )
    replace = entry.request(order(t35="G", t41="17", t11="18", t38="8"))
    assert replace == Forward(
        Replace(orig_client_order_id=17, client_order_id=18, price=100_025, qty=4)
    )


def test_rejects_reach_only_the_requests_of_this_session() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    rejected = Rejected(3, 0, CommandKind.NEW_ORDER, RejectReason.DUPLICATE_CLIENT_ORDER_ID, 17)
    assert reports(entry, rejected) == []  # another session's order
    entry.request(order())
    [report] = reports(entry, rejected)
    assert (report[103], report[58]) == ("6", "DUPLICATE_CLIENT_ORDER_ID")
    mass = entry.request({35: "q", 34: "6", 11: "m1", 530: "7", 60: "x"})
    assert mass == Forward(MassCancel(instrument=ALL_INSTRUMENTS))


def test_fix_settings_are_checked() -> None:
    FixSettings(listen="127.0.0.1:0", peer_comp_ids=["A"]).validate()
    with pytest.raises(ValueError, match="loopback"):
        FixSettings(listen="10.0.0.1:9878").validate()
    with pytest.raises(ValueError, match="CompID"):
        FixSettings(listen="127.0.0.1:0", peer_comp_ids=["A|B"]).validate()
    with pytest.raises(ValueError, match="store_max_bytes"):
        FixSettings(listen="127.0.0.1:0", store_max_bytes=4096).validate()
    symbol = FixSymbolConfig(symbol="X", instrument=1, price_decimals=19)
    with pytest.raises(ValueError, match="decimals"):
        FixSettings(listen="127.0.0.1:0", symbols=[symbol]).validate()


SAMPLE = encode_fix([(35, "D"), (49, "A"), (56, "B"), (34, "2"), (52, "t"), (11, "1")])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 50), max_size=20))
def test_framer_takes_any_bytes_split_anywhere(data: bytes, cuts: list[int]) -> None:
    framer = FixFramer(512)
    stream, at, items = SAMPLE + data, 0, []
    for cut in [*cuts, len(SAMPLE) + len(data)]:
        items += framer.feed(stream[at : at + cut])
        at += cut
    assert isinstance(items[0], FixMessage)
    assert all(isinstance(i, FixMessage | FixRefused | FixBroken) for i in items)
    broken = [i for i, item in enumerate(items) if isinstance(item, FixBroken)]
    assert broken in ([], [len(items) - 1])


def security_list(entry: OrderEntry, **extra: str) -> list[tuple[int, str]]:
    fields = {35: "x", 34: "9", 320: "q1", 559: "4"}
    fields.update({int(k[1:]): v for k, v in extra.items()})
    report = entry.request(fields)
    assert isinstance(report, Report)
    assert report.msg_type == "y"
    return report.body


def test_security_list_gives_the_terms_the_engine_listed_each_symbol_with() -> None:
    table = SymbolTable([Symbol("XAU", 1, 2), Symbol("XAG", 2, 3), Symbol("OIL", 3, 0)])
    terms = {1: (5, 10, False), 2: (25, 100, True)}
    entry = OrderEntry(table, 100, terms.get)
    every = security_list(entry)
    assert every[:4] == [(320, "q1"), (322, "1"), (560, "0"), (146, "2")]
    # OIL is configured but the engine has not listed it: it cannot be traded.
    assert every[4:] == [
        (55, "XAU"), (48, "1"), (22, "8"), (561, "10"), (562, "10"), (58, "tick 0.05"),
        (55, "XAG"), (48, "2"), (22, "8"), (561, "100"), (562, "100"), (58, "tick 0.025; halted"),
    ]  # fmt: skip
    one = security_list(entry, _559="0", _55="XAG")
    assert one[3:5] == [(146, "1"), (55, "XAG")]
    # Each answer has its own SecurityResponseID; nothing tradable matches OIL or NOPE.
    assert security_list(entry, _559="0", _55="OIL") == [(320, "q1"), (322, "3"), (560, "2")]
    assert security_list(entry, _559="0", _55="NOPE") == [(320, "q1"), (322, "4"), (560, "2")]


def test_a_security_list_request_without_its_fields_is_a_session_reject() -> None:
    entry = OrderEntry(SYMBOLS, 100, listed)
    for fields, tag in (({559: "4"}, 320), ({320: "q"}, 559), ({320: "q", 559: "0"}, 55)):
        with pytest.raises(InvalidFieldError) as refused:
            entry.request({35: "x", 34: "3", **fields})
        assert refused.value.tag == tag
    with pytest.raises(InvalidFieldError) as refused:
        entry.request({35: "x", 34: "3", 320: "q", 559: "1"})
    assert refused.value.tag == 559
