"""Hostile spreadsheets built in memory in a fraction of a second: zip bombs and wide sheets.

Shared by the tests of ``core.spreadsheets`` and ``bench/upload_bench.py``.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REGISTER = ("iin", "full_name", "kind", "kato", "phone", "email", "address", "issued_on")
SHEET = "xl/worksheets/sheet1.xml"


def _parts() -> dict[str, bytes]:
    """The parts of a real one-sheet workbook, as openpyxl writes it."""
    buffer = io.BytesIO()
    book = Workbook()
    book.active.append(REGISTER)
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _letters(column: int) -> str:
    text = ""
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text


def _inline(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def _workbook(sheet: bytes, **extra: bytes) -> bytes:
    parts = _parts() | {SHEET: sheet} | extra
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _sheet(rows: str, dimension: str | None = None) -> bytes:
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{size}'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def bomb_xlsx(unpacked_mb: int = 1024) -> bytes:
    """A workbook whose sheet unpacks to ``unpacked_mb`` MB of rows, packed about 1,000 to 1.

    Packed once: the deflate stream repeats one megabyte's bytes (after a full flush a block
    refers to nothing before it), so building it costs a CRC pass, not a compression.
    """
    row = "<row>" + _inline("A1", "x" * 16_000) + "</row>"
    block = (row * (1024 * 1024 // len(row) + 1)).encode()[: 1024 * 1024]
    block = block[: block.rfind(b"</row>") + 6]
    head = _sheet("").split(b"<sheetData>")[0] + b"<sheetData>"
    tail = b"</sheetData></worksheet>"

    def packed(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    times = unpacked_mb * 1024 * 1024 // len(block)
    body = packed(head) + packed(block) * times + packed(tail) + b"\x03\x00"
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(block) * times + len(tail)
    entries = [(name, data) for name, data in _parts().items() if name != SHEET]
    return _raw_zip([*((n, _deflated(d)) for n, d in entries), (SHEET, (body, crc, size))])


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)


def _raw_zip(entries: list[tuple[str, tuple[bytes, int, int]]]) -> bytes:
    """Write a zip of already deflated parts (zipfile can only deflate them itself)."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, (body, crc, size) in entries:
        offset, encoded = out.tell(), name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(body), size, len(encoded), 0
            )
        )
        out.write(encoded + body)
        directory.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(body),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start, listing = out.tell(), directory.getvalue()
    out.write(listing)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(listing), start, 0
        )
    )
    return out.getvalue()


def wide_xlsx(columns: int = 16_000, rows: int = 3, *, dimension: bool = True) -> bytes:
    """A register with ``columns`` columns: its header and ``rows`` full rows."""
    names = [*REGISTER, *(f"extra{i}" for i in range(columns - len(REGISTER)))]
    lines = []
    for number in range(1, rows + 2):
        cells = "".join(
            _inline(f"{_letters(i + 1)}{number}", name if number == 1 else "1")
            for i, name in enumerate(names)
        )
        lines.append(f'<row r="{number}">{cells}</row>')
    size = f"A1:{_letters(columns)}{rows + 1}" if dimension else None
    return _workbook(_sheet("".join(lines), size))


def sparse_wide_xlsx(rows: int = 5_000, column: int = 16_000) -> bytes:
    """Rows of one cell in column A and one far right: a reader pads each row to the last."""
    far = _letters(column)
    header = "".join(_inline(f"{_letters(i + 1)}1", name) for i, name in enumerate(REGISTER))
    lines = [f'<row r="1">{header}</row>']
    lines += [
        f'<row r="{n}">{_inline(f"A{n}", "1")}<c r="{far}{n}"><v>1</v></c></row>'
        for n in range(2, rows + 2)
    ]
    return _workbook(_sheet("".join(lines)))


def peak_kb() -> int:
    """The process's peak resident memory in KB since it started its program.

    VmHWM rather than ru_maxrss: Linux keeps ru_maxrss across exec, so a child of the big
    test process would start at the parent's peak and show no growth.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(
    files: dict[str, bytes], tmp: Path, *, kind: str = "xlsx", timeout: float = 60
) -> dict[str, dict]:
    """Read each file with ``read_table`` in a fresh process; return its outcome, time, memory.

    A process of its own, so that its peak memory is the readings' alone, and so that a
    reader that does explode is held to 2 GB of address space and killed on time.
    ``grown_mb``: how far the process's peak has grown since before the first file.
    """
    paths = {}
    for name, content in files.items():
        paths[name] = tmp / f"{name}.{kind}"
        paths[name].write_bytes(content)
    script = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from core.spreadsheets import read_table
from tests.core.hostile_files import REGISTER, peak_kb
out = {}
files = {name: (path, open(path, "rb").read()) for name, path in json.loads(sys.argv[1]).items()}
before = peak_kb()
for name, (path, content) in files.items():
    started = time.perf_counter()
    try:
        read_table(content, path, columns=REGISTER)
        outcome = "read"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    grown = peak_kb() - before
    out[name] = {"outcome": outcome, "seconds": seconds, "grown_mb": grown / 1024}
print(json.dumps(out))
"""

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps({k: str(v) for k, v in paths.items()})],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise AssertionError(f"the reader died ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    result["_wall_seconds"] = time.perf_counter() - started
    return result
