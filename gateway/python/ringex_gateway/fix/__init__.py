"""FIX 4.4 acceptor: the session layer (sans-IO), its durable sequence store, the
mapping of order entry onto the engine's commands, and the asyncio transport.

Parsing and encoding run in the native core (``ringex_gateway._native``); see
``gateway/FIX.md`` for the data dictionary the gateway enforces.
"""
