"""Reading the PDFs the portal writes (fpdf2's): their streams and the text they show."""

from __future__ import annotations

import re
import zlib

# A stream's data starts after its keyword and the end of that line ("endstream" is not one).
_STREAM = re.compile(rb"(?<!end)stream\r?\n")


def pdf_streams(data: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated when it is compressed (fpdf2's are, with zlib).

    A compressed stream is read until zlib finds its end, not up to the next "endstream": its
    last byte may be a carriage return, which a pattern ending in ``\\r?\\nendstream`` took
    for part of the line end and cut off. The tests that read a certificate failed so now
    and then, as the random verification address in it changed the compressed bytes.
    """
    streams = []
    for match in _STREAM.finditer(data):
        start = match.end()
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[start:])
        except zlib.error:
            inflated = None
        if inflated is not None and inflater.eof:
            streams.append(inflated)
        else:
            streams.append(data[start : data.find(b"endstream", start)].rstrip(b"\r\n"))
    return streams


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literals(stream: bytes) -> list[bytes]:
    """The literal strings shown by ``Tj`` in a content stream, unescaped."""
    found, n = [], 0
    while (start := stream.find(b"(", n)) >= 0:
        out, k = bytearray(), start + 1
        while stream[k : k + 1] != b")":
            char = stream[k : k + 1]
            if char == b"\\":
                nxt = stream[k + 1 : k + 2]
                octal = re.match(rb"[0-7]{1,3}", stream[k + 1 : k + 4])
                if octal:
                    out.append(int(octal.group(), 8))
                    k += 1 + len(octal.group())
                    continue
                out += _ESCAPES.get(nxt, nxt)
                k += 2
                continue
            out += char
            k += 1
        found.append(bytes(out))
        n = k + 1
    return found


def pdf_text(data: bytes) -> str:
    """The text an fpdf2 file shows: its glyph strings read through each font's ToUnicode map
    (one reading per font: a string of the other font reads as noise)."""
    streams = pdf_streams(data)
    maps = []
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            pairs = re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block)
            maps.append(
                {int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be") for g, u in pairs}
            )
    shown = [lit for st in streams if b" Tj" in st for lit in _literals(st)]
    readings = []
    for glyphs in maps:
        for lit in shown:
            ids = [int.from_bytes(lit[i : i + 2], "big") for i in range(0, len(lit) - 1, 2)]
            readings.append("".join(glyphs.get(g, "\ufffd") for g in ids))
    return "\n".join(readings)
