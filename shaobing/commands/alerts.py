"""`shaobing alerts`: check the rules file, serve the ack/silence links and API, manage silences
and acknowledgements from the command line. Reads Settings.rules_file and Settings.state_dir."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone


def register(sub) -> None:
    p = sub.add_parser("alerts", help="告警规则、静默与确认 / alert rules, silences and acks")
    p.add_argument("--rules", help="rules YAML (default: SHAOBING_RULES_FILE or the packaged rules)")
    act = p.add_subparsers(dest="action", required=True)
    act.add_parser("check", help="校验规则文件并列出路由 / validate the rules file, list routes")
    serve = act.add_parser("serve", help="确认/静默链接与静默 API / serve ack and silence links")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8901)
    sil = act.add_parser("silence", help="静默 / silences")
    sil_act = sil.add_subparsers(dest="silence_action", required=True)
    add = sil_act.add_parser("add")
    add.add_argument("--subject", required=True, help="the subject, matched literally (e.g. [重点]化工厂)")
    add.add_argument("--glob", action="store_true", help="match --subject as a glob pattern, e.g. 某县*")
    add.add_argument("--rule", default="", help="only this rule (surge, negative_surge, threshold)")
    add.add_argument("--for", dest="duration", default="2h", help="duration: 30m, 2h, 1d")
    add.add_argument("--comment", default="")
    add.add_argument("--by", default="")
    sil_act.add_parser("list")
    exp = sil_act.add_parser("expire")
    exp.add_argument("id")
    ack = act.add_parser("ack", help="确认告警 / acknowledge an alert by dedup key")
    ack.add_argument("key")
    ack.add_argument("--subject", required=True)
    ack.add_argument("--by", default="")
    p.set_defaults(func=run)


def _check(rules) -> int:
    now = datetime.now(timezone.utc)
    router = rules.router(now)
    print(f"规则文件 {rules.path}: 有效 / valid")
    for route in (*router.routes, router.default):
        t = route.timing
        print(f"  路由 {route.name}: 渠道 {', '.join(route.channels)}"
              f"{'；兜底 ' + ', '.join(route.fallback) if route.fallback else ''}；"
              f"group_wait {t.group_wait_s:g}s, group_interval {t.group_interval_s:g}s, "
              f"repeat {t.repeat_interval_s:g}s, escalate {t.escalate_after_s or '-'}")
    for event in rules.spec.major_events:
        state = "进行中" if event in rules.active_events(now) else "未开始/已结束"
        print(f"  重大活动 {event.name}: {event.start:%Y-%m-%d %H:%M} – {event.end:%Y-%m-%d %H:%M}（{state}）")
    return 0


def _serve(args, settings, rules) -> int:
    from aiohttp import web

    from alerting.http import make_app
    from alerting.service import api_token, control_store, link_signer

    signer = link_signer(rules)
    app = make_app(control_store(settings), signer, lambda: datetime.now(timezone.utc),
                   api_token=api_token(settings))
    print(f"alerts: http://{args.host}:{args.port} (public links: {signer.public_url or '-'})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


def run(args, settings) -> int:
    from alerting.errors import AlertingError
    from alerting.escape import plain
    from alerting.rules import load_rules
    from alerting.rules_schema import parse_duration
    from alerting.service import control_store

    now = datetime.now(timezone.utc)
    control = control_store(settings)
    try:
        if args.action in ("check", "serve"):
            rules = load_rules(args.rules or settings.rules_file)
            return _check(rules) if args.action == "check" else _serve(args, settings, rules)
        if args.action == "ack":
            control.record_ack(key=args.key, subject=args.subject, now=now, by=args.by)
            print(f"已确认 {args.key}（{args.subject}）")
        elif args.silence_action == "add":
            s = control.add_silence(subject=args.subject, rule=args.rule, now=now, created_by=args.by, glob=args.glob,
                                    duration=timedelta(seconds=parse_duration(args.duration)), comment=args.comment)
            print(f"静默 {s['id']}: {plain(s['subject'], 80)} {plain(s['rule'], 40) or '(所有规则)'} 至 {s['ends_at']}")
        elif args.silence_action == "list":
            # subjects come from crawled text and comments from web forms: never raw to a terminal
            for s in control.active_silences(now):
                subject = plain(s["subject"], 80) + ("（通配）" if s.get("glob") else "")
                print(f"{s['id']}  {subject}  {plain(s['rule'], 40) or '*'}  至 {s['ends_at']}  "
                      f"{plain(s['created_by'], 64)}  {plain(s['comment'], 200)}")
        else:
            if not control.expire_silence(args.id, now):
                print(f"没有生效中的静默 {args.id}", file=sys.stderr)
                return 1
            print(f"已解除静默 {args.id}")
    except (AlertingError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    return 0
