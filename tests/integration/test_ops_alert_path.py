"""An operator alert reaches a duty channel through the real parts: Prometheus evaluates the real
rules (ShaobingNoWorker: no worker runs in this namespace), sends to the real Alertmanager it
discovers through its target file, whose webhook POSTs to a real `shaobing ops-receiver`, which
forwards through the signed generic-webhook channel to a local duty receiver."""
from __future__ import annotations

import shutil

import yaml

from infra.duty_receiver import DutyReceiver
from infra.monitor import ALERTMANAGER_CONFIG, AlertmanagerNode, PrometheusNode
from shaobing.commands.status import announced
from shaobing.demo import DemoConfig, scrape, write_rules
from shaobing.processes import spawn_shaobing
from shaobing.settings import load_settings
from tests.integration.helpers import free_port, unique
from tests.integration.prometheus_helpers import fast_config, firing, wait_for


def test_prometheus_alert_reaches_the_duty_channel_through_alertmanager(live_stack, tmp_path):
    ns = unique("it-ops")
    settings = load_settings(namespace=ns, state_dir=live_stack.state_dir / "tests" / ns,
                             prometheus_port=free_port(), alertmanager_port=free_port())
    duty = DutyReceiver(secret="ops-secret-0123456789")
    duty_url = duty.start()
    rules = write_rules(tmp_path / "rules.yml", duty_url, duty.secret, DemoConfig())
    env = {"SHAOBING_NAMESPACE": ns, "SHAOBING_STATE_DIR": str(settings.state_dir), "SHAOBING_METRICS_PORT": "0",
           "SHAOBING_RULES_FILE": str(rules)}
    prometheus, alertmanager, receiver = PrometheusNode(settings), AlertmanagerNode(settings), None
    try:
        receiver = spawn_shaobing("ops-receiver", ["ops-receiver", "--listen", "127.0.0.1:0", "--channel", "duty-webhook"],
                                  env, tmp_path / "logs")
        ops_url = receiver.wait_for(r"OPS_RECEIVER=(\S+)", 60).group(1)
        am_config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8"))
        am_config["route"].update(group_wait="1s", group_interval="1s")
        am_config["receivers"][0]["webhook_configs"][0]["url"] = ops_url
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(am_config), encoding="utf-8")
        alertmanager.up(echo=lambda _: None, config=tmp_path / "alertmanager.yml")
        # Prometheus re-sends firing alerts every minute by default; an alert that fired before the
        # notifier had loaded its Alertmanager target would wait that long
        prometheus.up(echo=lambda _: None, config_dir=fast_config(tmp_path / "config"),
                      flags=("--rules.alert.resend-delay=2s",))

        wait_for("ShaobingNoWorker firing in Prometheus", lambda: firing(prometheus.url, "ShaobingNoWorker"), 60)
        got = wait_for("the alert at the duty receiver", lambda: [
            a for a in duty.alerts() if a["labels"].get("alertname") == "ShaobingNoWorker"], 60, receiver.tail)
        assert got[0]["status"] == "firing"
        assert got[0]["labels"]["severity"] == "critical"
        assert got[0]["annotations"]["summary"].startswith("没有运行中的流处理 worker")
        assert duty.rejected == 0                          # every delivery carried a valid signature
        assert duty.received[0].payload["version"] == "4" and duty.received[0].payload["receiver"] == "duty-webhook"

        [instance] = announced(settings, "ops-receiver")
        samples = scrape(int(instance.rsplit(":", 1)[1]))
        assert samples["shaobing_alerting_notifications_total{channel=duty-webhook,outcome=delivered}"] >= 1
        assert samples["shaobing_alerting_operator_alerts_total{status=firing}"] >= 1
    finally:
        if receiver is not None:
            receiver.stop()
        prometheus.stop(timeout=20)
        alertmanager.stop(timeout=20)
        duty.stop()
        shutil.rmtree(settings.state_dir, ignore_errors=True)
