"""Sources as data: load and validate `crawlers/sources.yml` into frozen Source objects.

Every error names the file, the entry (index and name) and the field. Selectors are compiled at
load, so a typo fails `shaobing sources check` instead of silently extracting nothing.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Union
from urllib.parse import urljoin, urlsplit

import yaml
from parsel import Selector
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawlers.errors import SourceConfigError

DEFAULT_FILE = Path(__file__).with_name("sources.yml")
_EMPTY = Selector(text="<html></html>")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Selectors(_Frozen):
    """CSS selectors (parsel syntax, `::text` / `::attr(x)` allowed) and id regexes (one group).
    A text field (title, body, floor text) is best an element selector (`div.article-body`): it reads
    as a reader sees it, inline markup (links, bold) kept in its line and blocks on their own lines
    (crawlers.parsing.text.selected_text). `p::text` keeps only the text nodes directly in <p>: the
    words inside a link or <b> in the paragraph are lost."""

    @field_validator("*")
    @classmethod
    def _compiles(cls, value, info):
        if not isinstance(value, str) or not value:      # "" = not used
            return value
        if info.field_name.endswith("_pattern"):
            try:
                if re.compile(value).groups != 1:
                    raise ValueError("needs exactly one capture group")
            except re.error as exc:
                raise ValueError(f"bad regular expression: {exc}") from None
            return value
        try:
            _EMPTY.css(value)
        except SyntaxError as exc:   # cssselect's SelectorSyntaxError derives from SyntaxError
            raise ValueError(f"bad CSS selector: {exc}") from None
        return value


class ForumSelectors(_Selectors):
    thread_row: str
    thread_link: str
    reply_count: str
    next_page: str
    thread_title: str
    floor: str
    floor_no: str
    floor_author: str
    floor_time: str
    floor_text: str
    floor_quote: str = ""
    thread_pages: str
    thread_id_pattern: str


class NewsSelectors(_Selectors):
    """Article pages with no `title` and `body` selectors are read by generic extraction
    (crawlers.parsing.article, trafilatura); `published`, `author` and `origin`, when given,
    still come from their selectors."""

    article_link: str
    next_page: str
    title: str = ""
    body: str = Field("", validate_default=True)
    published: str = Field("", validate_default=True)
    author: str = ""
    origin: str = ""
    article_id_pattern: str

    @field_validator("body")
    @classmethod
    def _title_with_body(cls, value, info):
        title = info.data.get("title")
        if title is not None and bool(title) != bool(value):
            raise ValueError("title and body selectors go together: give both, or neither for generic extraction")
        return value

    @field_validator("published")
    @classmethod
    def _published_with_selectors(cls, value, info):
        if not value and (info.data.get("title") or info.data.get("body")):
            raise ValueError("required when title and body selectors are given")
        return value

    @property
    def generic(self) -> bool:
        return not self.title and not self.body


class FeedSelectors(_Selectors):
    """Feeds need no selectors; the native id is the entry's guid, or a match in its link."""

    link_id_pattern: str = ""


class ApiSelectors(_Frozen):
    """Where the fields are in a microblog-style JSON search API (dotted paths), and how it pages:
    `since_param` asks for ids above the last one seen, `max_param` pages back to older ones."""

    items: str = Field(min_length=1)
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    time: str = Field(min_length=1)
    author: str = ""
    title: str = ""
    counts: dict[str, str] = Field(default_factory=dict)    # tag name -> dotted path (1.2万 -> 12000)
    url_template: str = Field(pattern=r"\{id\}")
    since_param: str = "since_id"
    max_param: str = "max_id"


class Politeness(_Frozen):
    concurrency: int = Field(1, ge=1, le=16, description="parallel requests to this source's domain")
    delay_s: float = Field(1.0, ge=0, le=600, description="minimum delay between requests")


class Schedule(_Frozen):
    interval_s: float = Field(300.0, gt=0, description="re-crawl interval")
    event_interval_s: float | None = Field(None, gt=0, description="re-crawl interval inside major-event windows")


class Limits(_Frozen):
    max_list_pages: int = Field(5, ge=1, le=1000)
    max_thread_pages: int = Field(20, ge=1, le=1000)
    max_articles: int = Field(50, ge=1, le=1000, description="news_list: article links followed per list page")


class _Source(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    site: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    base_url: str = Field(pattern=r"^https?://[^\s/]+")
    start_urls: list[str] = Field(min_length=1)
    enabled: bool = Field(True, description="crawled when no source is named; a named source always is")
    schedule: Schedule = Schedule()
    politeness: Politeness = Politeness()
    limits: Limits = Limits()
    tags: dict[str, str] = Field(default_factory=dict)

    def with_base_url(self, base_url: str | None) -> "_Source":
        """The same source on another host (the demo web's port); a bare host keeps the source's path."""
        if not base_url:
            return self
        base_url = base_url.rstrip("/")
        if not urlsplit(base_url).path:
            base_url += urlsplit(self.base_url).path.rstrip("/")
        return self.model_copy(update={"base_url": base_url})

    @property
    def urls(self) -> list[str]:
        return [urljoin(self.base_url + "/", u) for u in self.start_urls]


class ForumSource(_Source):
    kind: Literal["forum"]
    selectors: ForumSelectors


class NewsSource(_Source):
    kind: Literal["news"]
    selectors: NewsSelectors


class FeedSource(_Source):
    kind: Literal["feed"]
    selectors: FeedSelectors = FeedSelectors()


class ApiSource(_Source):
    kind: Literal["api"]
    selectors: ApiSelectors


class _Recipe(_Source):
    """A site software or page shape the crawler knows: a source entry is a few lines, and `site`
    defaults to the source's name."""

    @model_validator(mode="before")
    @classmethod
    def _site_is_name(cls, data):
        if isinstance(data, dict) and "site" not in data and isinstance(data.get("name"), str):
            data = {**data, "site": data["name"]}
        return data


class DiscuzSource(_Recipe):
    """A Discuz! forum: `base_url` (where forum.php is) and the board ids (fid) to watch."""

    kind: Literal["discuz"]
    boards: list[int] = Field(min_length=1, max_length=200)
    start_urls: list[str] = Field(default_factory=list)

    @field_validator("boards")
    @classmethod
    def _positive(cls, value):
        if any(b <= 0 for b in value):
            raise ValueError("board ids (fid) are positive integers")
        return value

    @property
    def urls(self) -> list[str]:
        return [f"{self.base_url}/forum.php?mod=forumdisplay&fid={fid}" for fid in self.boards]


class NewsListSelectors(_Selectors):
    """Per-site overrides for a news_list source; every one is optional."""

    next_page: str = ""
    published: str = ""
    author: str = ""


class NewsListSource(_Recipe):
    """A news portal or government site: list page URLs; article links on them (same host, and
    matching `article_pattern` when given) are read by generic extraction."""

    kind: Literal["news_list"]
    article_pattern: str = ""
    selectors: NewsListSelectors = NewsListSelectors()

    @field_validator("article_pattern")
    @classmethod
    def _compiles(cls, value):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
        return value


Source = Annotated[Union[ForumSource, NewsSource, FeedSource, ApiSource, DiscuzSource, NewsListSource],
                   Field(discriminator="kind")]


class SourcesFile(_Frozen):
    sources: list[Source] = Field(min_length=1)


def _describe(path: Path, raw: dict, err: dict) -> str:
    loc = list(err["loc"])
    where = "file"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        i = loc[1]
        entries = raw.get("sources") or []
        name = entries[i].get("name", "?") if i < len(entries) and isinstance(entries[i], dict) else "?"
        where = f"sources[{i}] ({name})"
        loc = [p for p in loc[2:] if p not in ("forum", "news", "feed", "api", "discuz", "news_list")]   # drop the kind tag of the union
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = [*loc, "kind"]                  # the discriminator itself is what is wrong
    field = ".".join(str(p) for p in loc) or "entry"
    return f"{path}: {where}: {field}: {err['msg']}"


def load_sources(path: Path | str | None = None) -> dict[str, _Source]:
    """Read and validate a sources file; raises SourceConfigError naming file, entry and field."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{path}: file: must be a mapping with a `sources` list")
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        raise SourceConfigError("\n".join(_describe(path, raw, e) for e in exc.errors())) from exc
    sources: dict[str, _Source] = {}
    for i, source in enumerate(parsed.sources):
        if source.name in sources:
            raise SourceConfigError(f"{path}: sources[{i}] ({source.name}): name: duplicate source name")
        sources[source.name] = source
    return sources
