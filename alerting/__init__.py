"""舆情哨兵 alerting: surges -> rules -> routing -> grouping / repeats / silences -> duty channels.

Entry point for the stream worker (see alerting.service)::

    rules = load_rules(settings.rules_file)              # alerting.rules; RulesError names file/entry/field
    alerter = build_alerter(rules, settings)              # alerting.service
    results = await alerter.handle(surge, table, now=now) # per `surges` record; table = Faust table by subject
    results = await alerter.tick(table, now=now)          # every few seconds, inside the agent

`handle` folds the surge (firing or resolved) into the lifecycle state of its subject (dedup key
per rule+subject), sends what is due and returns one `alerting.delivery.DeliveryResult` per
channel attempt (`.outcome` is "delivered" or "failed", `.at` when it finished). `tick` flushes
groups (group_wait / group_interval), repeats unacknowledged alerts (repeat_interval),
auto-resolves alerts that stopped refreshing and escalates unacknowledged ones to the fallback.
The lower-level `alerting.dispatcher.Dispatcher` does the same over any `StateStore`.
"""
