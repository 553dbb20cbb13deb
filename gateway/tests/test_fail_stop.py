"""A journal write that fails stops the gateway before anything it covered is sent."""

import asyncio
from pathlib import Path

import pytest

from ringex_gateway.config import GatewayConfig, Settings
from ringex_gateway.server import Gateway

pytestmark = pytest.mark.timeout(30)


def test_a_failed_journal_write_stops_the_gateway(tmp_path: Path) -> None:
    settings = Settings(
        listen="127.0.0.1:0", metrics="", engine="127.0.0.1:9", journal_dir=str(tmp_path)
    )

    async def scenario() -> Gateway:
        gateway = Gateway(GatewayConfig(gateway=settings))
        await gateway.start()
        assert gateway.journal is not None

        def broken(_: bytes) -> None:
            raise OSError(5, "Input/output error")

        gateway.journal.append = broken  # type: ignore[method-assign,assignment]
        gateway.schedule_flush()
        await asyncio.wait_for(gateway._stopped.wait(), 10)
        return gateway

    gateway = asyncio.run(scenario())
    assert isinstance(gateway.failed, OSError)
