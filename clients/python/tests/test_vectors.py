"""The Python codec against the shared vectors: every client vector decodes to its
fields and encodes back to its bytes; order messages are the engine inputs of
protocol/vectors/engine.json without the account."""

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ringex_client import decode_client, decode_server, encode, encode_body
from ringex_client.codec import FrameReader

VECTORS = Path(__file__).resolve().parents[3] / "protocol" / "vectors"
CLIENT = json.loads((VECTORS / "client.json").read_text())
ENGINE = json.loads((VECTORS / "engine.json").read_text())

pytestmark = pytest.mark.timeout(30)


def fields(message: Any) -> dict[str, Any]:
    """The message's fields under the specification's names: a flag attribute travels
    as its bit in the ``flags`` byte."""
    out: dict[str, Any] = {"type": type(message).__name__}
    for name in message.__struct_fields__:
        value = getattr(message, name)
        if name in message.FLAGS:
            out["flags"] = out.get("flags", 0) | (message.FLAGS[name] if value else 0)
        else:
            out[name] = value if isinstance(value, bool | str) else int(value)
    return out


@pytest.mark.parametrize("vector", CLIENT["client"], ids=lambda v: v["name"])
def test_client_vector(vector: dict[str, Any]) -> None:
    body = bytes.fromhex(vector["hex"])
    message = decode_client(body)
    assert fields(message) == vector["fields"]
    assert encode_body(message) == body


@pytest.mark.parametrize("vector", CLIENT["server"], ids=lambda v: v["name"])
def test_server_vector(vector: dict[str, Any]) -> None:
    body = bytes.fromhex(vector["hex"])
    message = decode_server(body)
    assert fields(message) == vector["fields"]
    assert encode_body(message) == body


ORDER_TYPES = ("NewOrder", "Cancel", "Replace", "MassCancel")
ORDER_INPUTS = [v for v in ENGINE["inputs"] if v["fields"]["type"] in ORDER_TYPES]


@pytest.mark.parametrize("vector", ORDER_INPUTS, ids=lambda v: v["name"])
def test_order_messages_are_engine_inputs_without_the_account(vector: dict[str, Any]) -> None:
    engine = bytes.fromhex(vector["hex"])
    client = engine[:1] + engine[5:]
    message = decode_client(client)
    expected = {k: v for k, v in vector["fields"].items() if k != "account"}
    assert fields(message) == expected
    assert encode_body(message) == client


ADMIN_INPUTS = [v for v in ENGINE["inputs"] if v["fields"]["type"] in ("EndOfDay", "SetHalted")]


@pytest.mark.parametrize("vector", ADMIN_INPUTS, ids=lambda v: v["name"])
def test_admin_messages_are_engine_inputs_behind_a_request_id(vector: dict[str, Any]) -> None:
    engine = bytes.fromhex(vector["hex"])
    client = engine[:1] + (42).to_bytes(8, "little") + engine[1:]
    message = decode_client(client)
    assert message.request_id == 42
    assert encode_body(message) == client


def test_frames_split_whole_and_in_pieces() -> None:
    stream = b"".join(encode(decode_server(bytes.fromhex(v["hex"]))) for v in CLIENT["server"])
    whole = list(FrameReader().feed(stream))
    reader = FrameReader()
    dripped = [body for i in range(len(stream)) for body in reader.feed(stream[i : i + 1])]
    assert whole == dripped == [bytes.fromhex(v["hex"]) for v in CLIENT["server"]]
    assert reader.pending() == 0


def test_messages_are_typed_structs() -> None:
    message = decode_server(bytes.fromhex(CLIENT["server"][4]["hex"]))
    assert isinstance(message, msgspec.Struct)
