"""Time and memory of reading uploads: hostile workbooks against a full register.

    .venv/bin/python bench/upload_bench.py [--rows 20000]

For each file: its size, what the upload request's cheap checks (``check_upload``) say and
how long they take, and what the job's streaming read (``read_table``) says, how long it
takes and how far it raises the peak resident memory of a fresh process (issue 17: a
400 KB workbook took the process to 2.35 GB and 99 s in the request).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook

from core.iin import make_iin
from core.spreadsheets import BadImportFile, check_upload
from tests.core import hostile_files
from tests.core.hostile_files import REGISTER


def register_rows(n: int) -> list[list]:
    rows = []
    for i in range(n):
        born = dt.date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
        rows.append(
            [
                make_iin(born, "male" if i % 2 else "female", i % 9000),
                f"Бенч Адам Сейітұлы {i}",
                "public_assistant",
                "354030100",
                f"+7701{i:07d}",
                "",
                f"Ботақара, Абай көшесі {i}",
                "2025-06-01",
            ]
        )
    return rows


def register_xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    book.active.append(REGISTER)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register_csv(rows: list[list]) -> bytes:
    lines = [",".join(REGISTER), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    rows = register_rows(args.rows)
    files = {
        "bomb (1 GB of rows)": (hostile_files.bomb_xlsx(), "xlsx"),
        "wide (16,000 columns)": (hostile_files.wide_xlsx(), "xlsx"),
        "wide, size undeclared": (hostile_files.wide_xlsx(dimension=False), "xlsx"),
        "sparse wide (5,000 rows to col 16,000)": (hostile_files.sparse_wide_xlsx(), "xlsx"),
        f"register, {args.rows} rows": (register_xlsx(rows), "xlsx"),
        f"register, {args.rows} rows, CSV": (register_csv(rows), "csv"),
    }
    print(f"{'file':42} {'size':>9}  request check           job read")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (content, kind) in files.items():
            started = time.perf_counter()
            try:
                check_upload(content, f"x.{kind}", columns=REGISTER)
                request = "stored"
            except BadImportFile:
                request = "refused"
            request_ms = (time.perf_counter() - started) * 1000
            # One process per file: each peak is its own.
            read = hostile_files.measure({"f": content}, Path(tmp), kind=kind, timeout=120)["f"]
            outcome = "read" if read["outcome"] == "read" else read["outcome"].split(": ", 1)[1]
            print(
                f"{name:42} {len(content) / 1024:7.0f}KB  {request:8} {request_ms:7.1f} ms"
                f"   {read['seconds']:6.2f} s {read['grown_mb']:6.1f} MB  {outcome}"
            )


if __name__ == "__main__":
    main()
