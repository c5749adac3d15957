"""CSV and XLSX exports from pages of post sources: complete, readable, formulas neutralised."""
import asyncio
import csv
import io

from openpyxl import load_workbook

from console.export import csv_chunks, xlsx_chunks
from console.safe import export_header

POSTS = [{"published_at": "2026-11-26T02:00:00+00:00", "site": f"bbs{i}", "title": "=1+1" if i == 0 else "标题",
          "text": "@everyone 正文", "sentiment_label": "negative", "sentiment": 0.2, "is_repost": i % 2 == 1,
          "post_id": f"bbs:{i}"} for i in range(5)]


async def pages():
    for start in range(0, len(POSTS), 2):
        yield POSTS[start:start + 2]


async def collect(chunks) -> bytes:
    return b"".join([c async for c in chunks])


def test_csv_has_a_bom_a_header_and_every_row():
    data = asyncio.run(collect(csv_chunks(pages())))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == export_header() and len(rows) == 1 + len(POSTS)
    assert rows[1][3] == "'=1+1" and rows[1][4] == "'@everyone 正文" and rows[2][9] == "是"


def test_xlsx_opens_with_every_row_as_text():
    data = asyncio.run(collect(xlsx_chunks(pages())))
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows()]
    assert rows[0] == export_header() and len(rows) == 1 + len(POSTS)
    assert rows[1][3] == "'=1+1" and rows[1][8] == 0.2
