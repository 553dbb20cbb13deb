"""The Python decoders fed random and mutated bytes (hypothesis): nothing but
ProtocolError ever escapes, a frame reader never holds more than one frame, and every
accepted message re-encodes to the same bytes."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringex_client import (
    FRAME_MAX,
    DecodeError,
    ProtocolError,
    decode_client,
    decode_server,
    encode_body,
)
from ringex_client.codec import FrameReader

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "protocol" / "vectors" / "client.json").read_text()
)
SEEDS = [bytes.fromhex(v["hex"]) for d in ("client", "server") for v in VECTORS[d]]

pytestmark = pytest.mark.timeout(120)


def check(body: bytes) -> None:
    for decode in (decode_client, decode_server):
        try:
            message = decode(body)
        except ProtocolError:
            continue
        assert encode_body(message) == body


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 3))
        if op == 0 and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == 1 and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif op == 2:
            data.append(draw(st.integers(0, 255)))
        elif data:
            del data[draw(st.integers(0, len(data) - 1))]
    return bytes(data)


@settings(max_examples=3000, deadline=None)
@given(mutated())
def test_mutated_messages(body: bytes) -> None:
    check(body)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=80))
def test_random_messages(body: bytes) -> None:
    check(body)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_frame_reader_never_over_allocates(chunks: list[bytes]) -> None:
    reader = FrameReader()
    refused: list[ProtocolError] = []
    try:
        for chunk in chunks:
            for body in reader.feed(chunk):
                assert 0 < len(body) <= FRAME_MAX
                check(body)
            assert reader.pending() < 2 + FRAME_MAX
    except ProtocolError as e:
        refused.append(e)
    assert all(e.code == DecodeError.BAD_LENGTH for e in refused)
