"""舆情哨兵 analysts' console: the JSON API under /api/v1 (token auth, roles) and the web pages.

Routes live in console/routes/<area>.py, thin over indexer/ (queries) and console/store.py (the
Elasticsearch edge). A new area (reports, cases, pipeline health) adds a module there with an
APIRouter and declares its least role with `who: Principal = console.auth.require("viewer")`.
"""
