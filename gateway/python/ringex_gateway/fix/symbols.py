"""Instruments as FIX names them: a Symbol (55) per engine instrument, and the number of
decimals a FIX price has, so a price converts exactly to the engine's integer units."""

from dataclasses import dataclass

from ringex_gateway._native import price_to_units, units_to_price


@dataclass(frozen=True)
class Symbol:
    """One instrument: its FIX Symbol, engine id and price decimals."""

    symbol: str
    instrument: int
    price_decimals: int

    def units(self, price: str) -> int:
        """A FIX price in engine units; ValueError saying why it is refused."""
        return price_to_units(price, self.price_decimals)

    def price(self, units: int) -> str:
        """Engine units as a FIX price."""
        return units_to_price(units, self.price_decimals)


class SymbolTable:
    """The configured symbols, by name and by instrument id."""

    def __init__(self, symbols: list[Symbol]) -> None:
        self.symbols = list(symbols)
        self._by_name = {s.symbol: s for s in symbols}
        self._by_instrument = {s.instrument: s for s in symbols}
        if len(self._by_name) != len(symbols) or len(self._by_instrument) != len(symbols):
            raise ValueError("fix.symbols: a symbol or an instrument appears twice")

    def by_name(self, symbol: str) -> Symbol | None:
        """The instrument FIX calls ``symbol``."""
        return self._by_name.get(symbol)

    def by_instrument(self, instrument: int) -> Symbol:
        """The symbol of ``instrument``; an instrument not configured is named by its
        number, with whole-unit prices."""
        known = self._by_instrument.get(instrument)
        return known if known is not None else Symbol(str(instrument), instrument, 0)
