"""Hostile crawled text in the console's outputs: highlight HTML, export cells, tokens."""
from console.auth import Principal, bearer, new_token, token_document, token_hash
from console.safe import export_header, export_row, highlight_html, safe_cell, shape_hit
from indexer.queries import HIGHLIGHT_POST as E, HIGHLIGHT_PRE as S


def test_highlight_escapes_everything_but_our_markers():
    assert highlight_html(f'<script>alert("x")</script>{S}化工厂{E}&<img src=x onerror=y>') == (
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<em>化工厂</em>&amp;&lt;img src=x onerror=y&gt;')


def test_highlight_drops_stray_markers_and_closes_an_open_one():
    assert highlight_html(f"{E}a{S}b{S}c") == "a<em>bc</em>"


def test_shape_hit_keeps_plain_fields_and_cuts_the_snippet():
    hit = shape_hit({"post_id": "p", "title": "<b>t</b>", "text": "长" * 200}, {"text": [f"{S}长{E}"]})
    assert hit["title"] == "<b>t</b>"                    # plain: the page renders it with textContent
    assert hit["snippet"] == "长" * 160 + "…"
    assert hit["highlight"] == {"title": [], "text": ["<em>长</em>"]}


def test_cells_never_start_a_formula():
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(value) == "'" + value
    assert safe_cell("正常文本 =1") == "正常文本 =1"
    assert safe_cell(-0.5) == -0.5 and safe_cell(True) == "是"
    assert safe_cell("a\x00b") == "ab"


def test_export_row_matches_header_in_shanghai_time():
    row = export_row({"published_at": "2026-11-26T02:00:00+00:00", "site": "bbs", "title": "=cmd", "text": "-x",
                      "sentiment_label": "negative", "sentiment": 0.1, "is_repost": False, "post_id": "bbs:1"})
    assert len(row) == len(export_header())
    assert row[:5] == ["2026-11-26 10:00:00", "bbs", "", "'=cmd", "'-x"]
    assert row[7:10] == ["负面", 0.1, "否"]


def test_tokens_are_stored_hashed_and_roles_are_ordered():
    token = new_token()
    doc_id, doc = token_document(token, role="duty", name="值班员", now=__import__("datetime").datetime(2026, 1, 1))
    assert doc_id == token_hash(token) != token and token not in str(doc)
    assert doc["token_id"] == doc_id[:12]
    duty = Principal(doc["token_id"], "值班员", "duty")
    assert duty.can("viewer") and duty.can("duty") and not duty.can("admin")
    assert bearer(f"Bearer {token}") == token
    assert bearer(f"bearer   {token} ") == token
    assert bearer(f"Basic {token}") is None and bearer("Bearer abc") is None and bearer(None) is None
