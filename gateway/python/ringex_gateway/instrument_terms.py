"""The engine's terms for a listed instrument, as the gateway core reports them."""

#: (tick_size, lot_size, halted), in engine units.
InstrumentTerms = tuple[int, int, bool]
