"""The gateway's run ends only once its shutdown has: a shutdown that waits for
sessions to drain must still reach its last steps (the multicast end of session, the
journals closed) before the event loop goes away."""

import asyncio
from pathlib import Path

import pytest

from ringex_gateway.config import GatewayConfig, Settings
from ringex_gateway.server import Gateway

pytestmark = pytest.mark.timeout(30)


def test_run_returns_once_the_shutdown_has_finished(tmp_path: Path) -> None:
    settings = Settings(
        listen="127.0.0.1:0", metrics="", engine="127.0.0.1:9", journal_dir=str(tmp_path)
    )

    async def scenario() -> list[str]:
        gateway = Gateway(GatewayConfig(gateway=settings))
        steps: list[str] = []
        shut_down = gateway._shut_down

        async def draining_shut_down() -> None:
            await asyncio.sleep(0.2)  # as while a session's last bytes drain
            await shut_down()
            steps.append("shut down")

        gateway._shut_down = draining_shut_down  # type: ignore[method-assign]
        serving = asyncio.create_task(gateway.run())
        await asyncio.sleep(0.1)
        gateway.request_stop()
        gateway.request_stop()  # a second request waits for the same shutdown
        await asyncio.wait_for(serving, 10)
        steps.append("run returned")
        return steps

    assert asyncio.run(scenario()) == ["shut down", "run returned"]
