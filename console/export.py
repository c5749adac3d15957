"""Exports of a query as CSV or XLSX, streamed page by page, every cell neutralised against
formula injection (console.safe). Reads no settings.

CSV: UTF-8 with a BOM (so Excel opens Chinese correctly), written as the pages arrive.
XLSX: openpyxl's write-only workbook appends rows to a temporary file (memory stays flat at
100,000 rows); the zip is finished at the end and then streamed in chunks.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator

from openpyxl import Workbook

from console.safe import export_header, export_row

CHUNK = 64 * 1024


async def csv_chunks(pages: AsyncIterator[list[dict]]) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(export_header())
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    async for page in pages:
        buf.seek(0)
        buf.truncate()
        writer.writerows(export_row(src) for src in page)
        yield buf.getvalue().encode("utf-8")


async def xlsx_chunks(pages: AsyncIterator[list[dict]]) -> AsyncIterator[bytes]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("舆情导出")
    ws.append(export_header())
    async for page in pages:
        for src in page:
            ws.append(export_row(src))
    with tempfile.TemporaryFile() as fh:
        wb.save(fh)
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            yield chunk
