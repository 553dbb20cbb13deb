"""FIX 4.4 through the real gateway and daemon, with QuickFIX as the counterparty (it
validates every message it receives against its own FIX44.xml) and raw sockets for the
malformed input QuickFIX would never send."""

import pytest

from ringex_client import Client, Executed
from tests.fix_initiator import no_session_rejects, report
from tests.fix_raw import RawFix
from tests.fix_venue import NOW, FixGateway, new_order
from tests.session_tools import expect
from tests.system_processes import PASSWORD

pytestmark = pytest.mark.timeout(90)


def test_quickfix_trades_through_the_gateway(fix_venue: FixGateway) -> None:
    q = fix_venue.initiator("CLIENT1", "alice")
    q.start()
    try:
        q.send("x", (320, "all"), (559, "4"))
        listing = q.expect(report("y", t320="all"))
        assert (listing[560], listing[146]) == ("0", "2")
        # The terms are the engine's: XAU is its instrument 1, in lots of 1, tick 1 unit.
        first = (listing[55], listing[48], listing[22], listing[561], listing[562], listing[58])
        assert first == ("XAU", "1", "8", "1", "1", "tick 0.01")
        q.send("x", (320, "ag"), (559, "0"), (55, "XAG"))
        silver = q.expect(report("y", t320="ag"))
        assert (silver[146], silver[55], silver[561], silver[58]) == ("1", "XAG", "10", "tick 5")

        q.send("D", *new_order("101", "2", 10, "1000.00"))
        new = q.expect(report("8", t11="101", t150="0"))
        assert (new[39], new[151], new[44], new[55]) == ("0", "10", "1000", "XAU")

        with (
            Client("127.0.0.1", fix_venue.gateway.port, "alice", PASSWORD) as alice,
            Client("127.0.0.1", fix_venue.gateway.port, "bob", PASSWORD) as bob,
        ):
            bob.buy(1, 4, 100_000)
            expect(bob, Executed)
            # A binary session of the FIX session's account sees the FIX order's fill.
            assert expect(alice, Executed, client_order_id=101).qty == 4
        fill = q.expect(report("8", t11="101", t150="F"))
        assert (fill[39], fill[32], fill[31], fill[14], fill[151], fill[6]) == (
            "1",
            "4",
            "1000",
            "4",
            "6",
            "1000",
        )

        q.send("H", (11, "101"), (55, "XAU"), (54, "2"))
        status = q.expect(report("8", t11="101", t150="I"))
        assert (status[39], status[14]) == ("1", "4")

        q.send("G", (41, "101"), *new_order("102", "2", 8, "1000.01"))
        replaced = q.expect(report("8", t11="102", t150="5"))
        assert (replaced[41], replaced[151], replaced[38], replaced[44]) == (
            "101",
            "4",
            "8",
            "1000.01",
        )

        q.send("D", *new_order("103", "2", 1, "1000.001"))
        off_tick = q.expect(report("8", t11="103"))
        assert (off_tick[150], off_tick[39], off_tick[103]) == ("8", "8", "99")

        q.send("F", (41, "102"), (11, "104"), (55, "XAU"), (54, "2"), (60, NOW))
        cancelled = q.expect(report("8", t11="104", t150="4"))
        assert (cancelled[41], cancelled[39], cancelled[151]) == ("102", "4", "0")

        q.send("F", (41, "102"), (11, "105"), (55, "XAU"), (54, "2"), (60, NOW))
        refused = q.expect(report("9", t11="105"))
        assert (refused[434], refused[102]) == ("1", "0")

        q.send("D", *new_order("106", "1", 3, "990"))
        q.expect(report("8", t11="106", t150="0"))
        q.send("q", (11, "107"), (530, "7"), (60, NOW))
        mass = q.expect(report("r", t11="107"))
        assert (mass[531], mass[533]) == ("7", "1")
        no_session_rejects(q)
    finally:
        q.stop()
    assert q.app.log[-1][1][35] == "5"


def test_reconnect_gets_what_happened_meanwhile_and_resends_fill_gaps(
    fix_venue: FixGateway,
) -> None:
    q = fix_venue.initiator("CLIENT1", "alice")
    q.start()
    q.send("D", *new_order("201", "2", 10, "1000"))
    q.expect(report("8", t11="201", t150="0"))
    q.stop()
    with Client("127.0.0.1", fix_venue.gateway.port, "bob", PASSWORD) as bob:
        bob.buy(1, 3, 100_000)
        expect(bob, Executed)
    # QuickFIX forgets the last two messages it received, and skips five numbers of its
    # own: each side asks the other for a resend.
    q.move_numbers(sender=+5, target=-2)
    q2 = fix_venue.initiator("CLIENT1", "alice")
    q2.start()
    try:
        fill = q2.expect(report("8", t11="201", t150="F"))
        assert (fill[32], fill[151]) == ("3", "7")
        q2.send("D", *new_order("202", "2", 1, "1001"))
        q2.expect(report("8", t11="202", t150="0"))
        received = [f for way, f in q2.app.log if way == "in"]
        [again] = [f for f in received if f[35] == "8" and f[11] == "201" and f[150] == "0"]
        assert (again[43], again[34]) == ("Y", "2")
        assert 122 in again
        gap_fills = [f for f in received if f[35] == "4"]
        assert gap_fills
        assert all(f[123] == "Y" for f in gap_fills)
        assert [f[7] for f in received if f[35] == "2"] == ["4"], "the gateway asked from 4"
        no_session_rejects(q2)
    finally:
        q2.stop()


def test_numbers_and_reports_survive_a_gateway_restart(fix_venue: FixGateway) -> None:
    q = fix_venue.initiator("CLIENT1", "alice")
    q.start()
    try:
        q.send("D", *new_order("301", "2", 5, "1000"))
        q.expect(report("8", t11="301", t150="0"))
        fix_venue.gateway.stop()
        fix_venue.start_gateway()
        q.wait_logged_on(timeout=30)
        logons = [f for way, f in q.app.log if way == "in" and f[35] == "A"]
        assert [f[34] for f in logons] == ["1", "4"], "numbers went on after the restart"
        with Client("127.0.0.1", fix_venue.gateway.port, "bob", PASSWORD) as bob:
            bob.buy(1, 5, 100_000)
            expect(bob, Executed)
        fill = q.expect(report("8", t11="301", t150="F"))
        assert (fill[39], fill[14], fill[151]) == ("2", "5", "0")
        no_session_rejects(q)
    finally:
        q.stop()


def corrupt_checksum(message: bytes) -> bytes:
    digit = message[-2:-1]
    return message[:-2] + (b"1" if digit == b"0" else b"0") + message[-1:]


def test_malformed_messages_get_the_session_reaction_and_spare_other_sessions(
    fix_venue: FixGateway,
) -> None:
    q = fix_venue.initiator("CLIENT1", "alice")
    q.start()
    raw = RawFix(fix_venue.fix_port, "CLIENT2")
    try:
        raw.logon("bob")
        # A bad checksum is ignored; the next message shows the gap: ResendRequest.
        raw.send(corrupt_checksum(raw.message("0")))
        raw.send(raw.message("1", (112, "after")))
        resend = raw.receive()
        assert resend is not None
        assert (resend[35], resend[7]) == ("2", "2")
        # Numbers 2 (garbled) and 3 (too high, dropped) are filled by a gap fill.
        raw.send(raw.message("4", (43, "Y"), (122, NOW), (123, "Y"), (36, str(raw.seq)), seq=2))
        # A duplicate tag, a required tag missing, a malformed number: Reject with reasons.
        raw.send(raw.message("D", (11, "1"), (11, "2")))
        dup = raw.receive()
        assert dup is not None
        assert (dup[35], dup[373], dup[371]) == ("3", "13", "11")
        raw.send(raw.message("D", (11, "7"), (55, "XAU"), (54, "1"), (60, NOW), (40, "2")))
        missing = raw.receive()
        assert missing is not None
        assert (missing[35], missing[373], missing[371]) == ("3", "1", "38")
        raw.send(
            raw.message(
                "D", *new_order("8", "1", 1, "1000")[:-3], (38, "ten"), (40, "2"), (44, "1")
            )
        )
        malformed = raw.receive()
        assert malformed is not None
        assert (malformed[35], malformed[373], malformed[371]) == ("3", "6", "38")
        # A FIX message type the gateway does not serve: BusinessMessageReject.
        raw.send(raw.message("R", (131, "quote")))
        business = raw.receive()
        assert business is not None
        assert (business[35], business[372], business[380]) == ("j", "R", "3")
        # A repeating group whose count is not its number of entries: Reject 373=16.
        md = [(262, "md"), (263, "0"), (264, "1"), (267, "2"), (269, "0"), (146, "1"), (55, "XAU")]
        raw.send(raw.message("V", *md))
        miscounted = raw.receive()
        assert miscounted is not None
        assert (miscounted[35], miscounted[373], miscounted[371]) == ("3", "16", "267")
        # Garbage: Logout, then the connection closes.
        raw.send(b"GET / HTTP/1.1\r\n\r\n")
        logout = raw.receive()
        assert logout is not None
        assert logout[35] == "5"
        assert raw.receive() is None
        # QuickFIX's session went on undisturbed.
        q.send("D", *new_order("401", "2", 1, "1000"))
        q.expect(report("8", t11="401", t150="0"))
        no_session_rejects(q)
    finally:
        raw.close()
        q.stop()


def test_oversize_and_wrong_credentials_end_the_connection(fix_venue: FixGateway) -> None:
    raw = RawFix(fix_venue.fix_port, "CLIENT3")
    raw.send(raw.message("A", (98, "0"), (108, "30"), (553, "carol"), (554, "wrong")))
    refused = raw.receive()
    assert refused is not None
    assert (refused[35], refused[58]) == ("5", "logon refused: not_authorized")
    assert raw.receive() is None
    raw.close()
    raw = RawFix(fix_venue.fix_port, "CLIENT3")
    raw.logon("carol")
    raw.send(raw.message("D", (58, "x" * 5000)))
    logout = raw.receive()
    assert logout is not None
    assert logout[35] == "5"
    assert raw.receive() is None
    raw.close()


@pytest.mark.parametrize("fix_venue", [{"rate_per_s": 1, "burst": 1}], indirect=True)
def test_a_logout_is_answered_after_the_reports_before_it(fix_venue: FixGateway) -> None:
    """Two orders in the same write as a Logout, the second above the session's rate:
    the gateway's reject of it is reported before the Logout's answer, not dropped with
    the session; the engine's answer to the first comes at the next logon."""
    raw = RawFix(fix_venue.fix_port, "CLIENT2")
    try:
        raw.logon("bob")
        orders = [raw.message("D", *new_order(i, "1", 1, "1000")) for i in ("1", "2")]
        raw.send(b"".join(orders) + raw.message("5"))
        got, closed = raw.read_all()
        assert closed
        assert [m[35] for m in got] == ["8", "5"]
        assert (got[0][11], got[0][150]) == ("2", "8")
    finally:
        raw.close()
    again = RawFix(fix_venue.fix_port, "CLIENT2")
    try:
        again.logon("bob")
        accepted = again.receive()
        assert accepted is not None
        assert (accepted[35], accepted[11], accepted[150]) == ("8", "1", "0")
    finally:
        again.close()
