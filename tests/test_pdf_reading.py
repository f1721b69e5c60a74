"""The tests' PDF reader finds every stream whole, whatever bytes its compressed data ends in."""

from __future__ import annotations

import itertools
import zlib

from tests.pdf_reading import pdf_streams


def _ending_in(last: bytes) -> tuple[bytes, bytes]:
    """A text and its zlib compression, which ends in the byte ``last``."""
    for n in itertools.count():
        text = f"BT /F1 10 Tf ({n}) Tj ET".encode()
        packed = zlib.compress(text)
        if packed.endswith(last):
            return text, packed
    raise AssertionError("unreachable")


def test_a_stream_whose_compressed_data_ends_in_a_carriage_return_is_read_whole():
    text, packed = _ending_in(b"\r")
    pdf = b"%%PDF-1.3\n1 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n" % (
        len(packed),
        packed,
    )
    assert pdf_streams(pdf) == [text]


def test_streams_are_read_in_order_and_an_uncompressed_one_as_it_is():
    first, packed = _ending_in(b"\n")
    pdf = b"stream\n%s\nendstream\nendobj\nstream\r\nplain text\r\nendstream\n" % packed
    assert pdf_streams(pdf) == [first, b"plain text"]
