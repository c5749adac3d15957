"""Build channel objects from the rules file's channel entries, reading *_file secrets here.
Reads no settings."""
from __future__ import annotations

import importlib
from pathlib import Path

from alerting.channels.base import Channel
from alerting.errors import ChannelConfigError
from alerting.redact import protect
from alerting.rules_schema import ChannelSpec

# type -> (module, class); modules are imported on use so a missing optional part fails clearly
KINDS = {
    "console": ("alerting.channels.console", "ConsoleChannel"),
    "webhook": ("alerting.channels.webhook", "WebhookChannel"),
    "dingtalk": ("alerting.channels.dingtalk", "DingTalkChannel"),
    "wecom": ("alerting.channels.wecom", "WeComChannel"),
    "feishu": ("alerting.channels.feishu", "FeishuChannel"),
    "email": ("alerting.channels.email", "EmailChannel"),
}


def _secret(spec: ChannelSpec, field: str) -> str:
    inline, path = getattr(spec, field), getattr(spec, f"{field}_file")
    if path is None:
        return inline
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ChannelConfigError(f"channel {spec.name!r}: cannot read {field}_file {path}: {exc.strerror}") from None


def build_channel(spec: ChannelSpec) -> Channel:
    module, cls_name = KINDS[spec.type]
    cls = getattr(importlib.import_module(module), cls_name)
    if spec.type == "console":
        return cls(spec.name)
    channel = _construct(cls, spec)
    protect(*channel.secrets())
    return channel


def _construct(cls, spec: ChannelSpec) -> Channel:
    if spec.type == "email":
        return cls(spec.name, host=spec.smtp_host, port=spec.smtp_port, security=spec.smtp_security,
                   username=spec.username, password=_secret(spec, "password"), sender=spec.sender, to=spec.to)
    url = _secret(spec, "url")
    if not url.startswith(("http://", "https://")):
        raise ChannelConfigError(f"channel {spec.name!r}: url (or url_file) must be an http(s) URL")
    kwargs = {"secret": _secret(spec, "secret")}
    if spec.type != "webhook":
        kwargs["mentions"] = spec.mentions
    if spec.type == "feishu" and spec.msg_type:
        kwargs["msg_type"] = spec.msg_type
    return cls(spec.name, url, **kwargs)


def build_channels(specs) -> dict[str, Channel]:
    return {spec.name: build_channel(spec) for spec in specs}
