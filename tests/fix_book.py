"""A book kept from FIX market data the way a FIX client keeps one: a
MarketDataSnapshotFullRefresh (W) replaces a symbol's levels, a
MarketDataIncrementalRefresh (X) adds, changes and deletes levels by side and price and
reports trades, which are kept in order."""

from decimal import Decimal

Pairs = list[tuple[int, str]]
_BID, _OFFER, _TRADE = "0", "1", "2"
_NEW, _CHANGE, _DELETE = "0", "1", "2"


def entries(pairs: Pairs, opener: int) -> list[dict[int, str]]:
    """The NoMDEntries (268) group's entries, each opening with ``opener``."""
    at = next(i for i, (tag, _) in enumerate(pairs) if tag == 268)
    out: list[dict[int, str]] = []
    for tag, value in pairs[at + 1 :]:
        if tag == 10:
            break
        if tag == opener:
            out.append({})
        assert tag not in out[-1], f"tag {tag} twice in one entry"
        out[-1][tag] = value
    assert len(out) == int(pairs[at][1]), "NoMDEntries counts the entries"
    return out


class FixBook:
    """Levels by symbol and side (price text → quantity, order count), and trades."""

    def __init__(self) -> None:
        self.sides: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        self.trades: list[tuple[str, str, int]] = []

    def apply(self, pairs: Pairs) -> None:
        """Applies one W or X."""
        msg_type = dict(pairs)[35]
        if msg_type == "W":
            symbol = dict(pairs)[55]
            for side in (_BID, _OFFER):
                self.sides[symbol, side] = {}
            for e in entries(pairs, 269):
                self.sides[symbol, e[269]][e[270]] = (int(e[271]), int(e[346]))
        elif msg_type == "X":
            for e in entries(pairs, 279):
                self._incremental(e)

    def _incremental(self, e: dict[int, str]) -> None:
        symbol, price = e[55], e[270]
        if e[269] == _TRADE:
            assert e[279] == _NEW
            self.trades.append((symbol, price, int(e[271])))
            return
        levels = self.sides[symbol, e[269]]
        if e[279] == _DELETE:
            del levels[price]
        else:
            assert (price in levels) == (e[279] == _CHANGE), e
            levels[price] = (int(e[271]), int(e[346]))

    def levels(self, symbol: str, decimals: int) -> list[tuple[str, int, int, int]]:
        """(side, price in engine units, quantity, orders), bids then offers, best first;
        a price that is not a whole number of units fails."""
        out = []
        for side in (_BID, _OFFER):
            levels = self.sides.get((symbol, side), {})
            for text, (qty, count) in levels.items():
                units = Decimal(text).scaleb(decimals)
                assert units == units.to_integral_value(), text
                out.append((side, int(units), qty, count))
        return sorted(out, key=lambda lv: (lv[0], -lv[1] if lv[0] == _BID else lv[1]))
