"""Starts, checks and stops the two local Java services: a KRaft Kafka node and an
Elasticsearch node, both on loopback. Reads the stack fields of Settings.

Each node runs in its own process group (so `down` stops the launcher and the JVM together),
with its pid recorded under `state_dir/run/`. Elasticsearch refuses to run as root; when
started by root it runs as `Settings.es_user`, an unprivileged user created on first use.
"""
from __future__ import annotations

import base64
import errno
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra import fetch, versions
from infra.errors import StackError
from shaobing.settings import Settings
from streams.topics import replication


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def find_java(settings: Settings) -> Path:
    """The java binary to run both nodes with, checked to be at least MIN_JAVA_MAJOR."""
    candidates = []
    if settings.java_home:
        candidates.append(settings.java_home / "bin" / "java")
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if which := shutil.which("java"):
        candidates.append(Path(which))
    java = next((c for c in candidates if c.is_file()), None)
    if java is None:
        raise StackError(
            f"Java {versions.MIN_JAVA_MAJOR}+ is not installed (no `java` on PATH, no JAVA_HOME). "
            "Install a JDK (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) "
            "or set SHAOBING_JAVA_HOME."
        )
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < versions.MIN_JAVA_MAJOR:
        raise StackError(f"{java} is Java {major or '?'}; Kafka 4 and Elasticsearch 8 need Java {versions.MIN_JAVA_MAJOR}+")
    return java.resolve()


def _alive(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return marker.encode() in cmdline and ") Z " not in stat


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 64_000))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])



# Daemons outlive the Node object that started them (their own session, stopped via the pid
# file): keep their Popen handles for the life of this process, so a handle is never garbage
# collected while its daemon runs (Popen.__del__ warns "subprocess ... is still running").
_LAUNCHED: list[subprocess.Popen] = []

@dataclass
class Node:
    """One local service: how to launch it, where its files live, and its pid file."""

    name: str
    port: int
    settings: Settings
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def home(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def pid_file(self) -> Path:
        return self.settings.state_dir / "run" / f"{self.name}.pid"

    @property
    def console_log(self) -> Path:
        return self.home / "logs" / f"{self.name}.out"

    marker = ""  # a string in the process's command line, so a recycled pid is not mistaken for ours

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid, self.marker) else None

    def ports(self) -> dict[str, int]:
        return {self.name: self.port}

    def check_ports_free(self) -> None:
        for label, port in self.ports().items():
            if port_in_use(port):
                raise StackError(
                    f"port {port} ({label}) is already in use by another process; stop it, "
                    f"or choose another port with SHAOBING_{label.upper().replace(' ', '_')}"
                )

    def launch(self, cmd: list[str], env: dict[str, str], user: str | None = None) -> subprocess.Popen:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        out = self.console_log.open("ab")
        kwargs = {"user": user} if user else {}
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=self.home, start_new_session=True, **kwargs)
        out.close()
        self.pid_file.write_text(str(proc.pid))
        self._proc = proc
        _LAUNCHED.append(proc)
        return proc

    def _reap(self) -> None:
        # a child of this process that has exited must be waited for, or it lingers as a zombie
        if self._proc is not None:
            self._proc.wait()
            self._proc = None

    def log_tail(self) -> str:
        return tail(self.console_log)

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM the node's process group, wait, then SIGKILL. True if something was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.2)
        if _group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _group_alive(pid):
                time.sleep(0.1)
        self._reap()
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL, for crash tests: no clean shutdown."""
        pid = self.pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
            while _group_alive(pid):
                time.sleep(0.05)
        self._reap()


def _formatted_id(data_dir: Path) -> str:
    for line in (data_dir / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1].strip()
    raise StackError(f"{data_dir / 'meta.properties'} has no cluster.id")


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:  # fields: state, ppid, pgrp
            return True
    return False


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka makes them: never starting with "-", which kafka-storage
    would read as an option ("-t -abc..." failed one start in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_nodes(settings: Settings) -> list["KafkaNode"]:
    """The local stack's Kafka nodes: Settings.kafka_brokers combined broker+controller nodes."""
    return [KafkaNode(settings, i) for i in range(settings.kafka_brokers)]


class KafkaNode(Node):
    """Node `index` of a KRaft cluster of Settings.kafka_brokers combined broker+controller nodes
    (a static controller quorum of all of them). Node 0 keeps the single-node names (`kafka`)."""

    marker = "kafka.Kafka"

    def __init__(self, settings: Settings, index: int = 0):
        self.index = index
        self.controller_port = settings.kafka_controller_port + 2 * index
        super().__init__("kafka" if index == 0 else f"kafka-{index + 1}", settings.kafka_port + 2 * index, settings)

    def ports(self) -> dict[str, int]:
        return {"kafka port": self.port, "kafka controller port": self.controller_port}

    @property
    def cluster_file(self) -> Path:
        return self.settings.state_dir / "run" / "kafka-cluster"

    def _cluster_id(self) -> str:
        """One id for every node of the cluster, with the size it was formatted for: a static
        quorum cannot grow, so a stack formatted for 1 broker cannot be started as 3."""
        n = self.settings.kafka_brokers
        try:
            cluster_id, size = self.cluster_file.read_text().split()
        except (OSError, ValueError):
            if (self.home / "data" / "meta.properties").exists():
                cluster_id, size = _formatted_id(self.home / "data"), "1"
            else:
                cluster_id, size = new_cluster_id(), str(n)
            self.cluster_file.parent.mkdir(parents=True, exist_ok=True)
            self.cluster_file.write_text(f"{cluster_id} {size}\n")
        if int(size) != n:
            raise StackError(f"the local Kafka was formatted for {size} broker(s), not {n}: a KRaft quorum "
                             f"cannot change size here. Use --brokers {size}, or another SHAOBING_STATE_DIR")
        return cluster_id

    def _write_config(self) -> Path:
        conf = self.home / "config"
        conf.mkdir(parents=True, exist_ok=True)
        s = self.settings
        n = s.kafka_brokers
        rf, isr = replication(n, s.kafka_replication_factor, s.kafka_min_insync_replicas)
        voters = ",".join(f"{i + 1}@127.0.0.1:{s.kafka_controller_port + 2 * i}" for i in range(n))
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.index + 1),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": "1",
            # topics created without an explicit factor (auto-created ones) and internal topics
            # are replicated like shaobing's own: min(3, brokers) copies, 2 in sync from 3 brokers
            "default.replication.factor": str(rf),
            "min.insync.replicas": str(isr),
            "offsets.topic.replication.factor": str(rf),
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": str(rf),
            "transaction.state.log.min.isr": str(isr),
            "share.coordinator.state.topic.replication.factor": str(rf),
            "share.coordinator.state.topic.min.isr": str(isr),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            # fsync is left to the OS as in production Kafka: acks=all means "in the log of every
            # in-sync replica" (on one node: in its log)
        }
        (conf / "server.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (conf / "log4j2.properties").write_text(
            "status = warn\n"
            "appender.file.type = File\nappender.file.name = FILE\n"
            f"appender.file.fileName = {self.home / 'logs' / 'server.log'}\n"
            "appender.file.layout.type = PatternLayout\nappender.file.layout.pattern = [%d] %p %m (%c)%n\n"
            "rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = FILE\n"
            "logger.kafka.name = kafka\nlogger.kafka.level = INFO\n"
            "logger.state.name = state.change.logger\nlogger.state.level = WARN\n"
        )
        return conf

    def _java_cmd(self, java: Path, main: str, *args: str, heap: bool = True) -> list[str]:
        libs = fetch.kafka_libs(self.settings.cache_dir)
        conf = self.home / "config"
        opts = [f"-Xms{self.settings.kafka_heap_mb}m", f"-Xmx{self.settings.kafka_heap_mb}m"] if heap else ["-Xmx256m"]
        return [str(java), *opts, "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile=file:{conf / 'log4j2.properties'}",
                "-cp", f"{libs}/*", main, *args]

    def start(self, java: Path) -> subprocess.Popen:
        conf = self._write_config()
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        cluster_id = self._cluster_id()
        if not (self.home / "data" / "meta.properties").exists():
            cmd = self._java_cmd(java, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                                 "-c", str(conf / "server.properties"), "--ignore-formatted", heap=False)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise StackError(f"formatting Kafka's storage failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        return self.launch(self._java_cmd(java, "kafka.Kafka", str(conf / "server.properties")), env)

    def log_tail(self) -> str:
        return tail(self.home / "logs" / "server.log") + "\n" + tail(self.console_log, 10)


class ElasticsearchNode(Node):
    marker = "elasticsearch"

    def __init__(self, settings: Settings):
        super().__init__("elasticsearch", settings.es_port, settings)

    def ports(self) -> dict[str, int]:
        return {"es port": self.settings.es_port, "es transport port": self.settings.es_transport_port}

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        user = self.settings.es_user
        try:
            pwd.getpwnam(user)
        except KeyError:
            proc = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise StackError(f"Elasticsearch refuses to run as root and creating user {user!r} failed: "
                                 f"{proc.stderr.strip()}") from None
        return user

    def _check_reachable(self, user: str, paths: list[Path]) -> None:
        uid = pwd.getpwnam(user).pw_uid
        for path in paths:
            for parent in [path, *path.parents]:
                st = parent.stat()
                if st.st_uid != uid and not st.st_mode & 0o001:
                    raise StackError(
                        f"Elasticsearch runs as {user!r}, which cannot enter {parent} (mode {oct(st.st_mode & 0o777)}); "
                        "choose SHAOBING_CACHE_DIR / SHAOBING_STATE_DIR outside it (defaults for root: "
                        "/var/cache/shaobing, /var/lib/shaobing)"
                    )

    def start(self, java: Path) -> subprocess.Popen:
        es_home = fetch.elasticsearch_home(self.settings.cache_dir)
        conf = self.home / "config"
        if conf.exists():
            shutil.rmtree(conf)
        shutil.copytree(es_home / "config", conf)
        for sub in ("data", "logs", "tmp"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        s = self.settings
        (conf / "elasticsearch.yml").write_text(
            "cluster.name: shaobing\n"
            "node.name: shaobing-1\n"
            "discovery.type: single-node\n"
            "network.host: 127.0.0.1\n"
            f"http.port: {s.es_port}\n"
            f"transport.port: {s.es_transport_port}\n"
            f"path.data: {self.home / 'data'}\n"
            f"path.logs: {self.home / 'logs'}\n"
            # a shared developer disk fills up; do not turn indices read-only at 95%
            "cluster.routing.allocation.disk.threshold_enabled: false\n"
            "action.destructive_requires_name: false\n"
            # the integ-test zip carries x-pack-security and turns it on; a loopback dev node
            # needs no auth, and its .security index needs analysers this zip does not ship
            "xpack.security.enabled: false\n"
        )
        user = self._run_as()
        if user:
            self._check_reachable(user, [es_home / "bin" / "elasticsearch", self.home])
            subprocess.run(["chown", "-R", f"{user}:", str(self.home)], check=True)
        java_home = java.parent.parent
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C.UTF-8",
            "ES_JAVA_HOME": str(java_home),
            "ES_PATH_CONF": str(conf),
            "ES_TMPDIR": str(self.home / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{s.es_heap_mb}m -Xmx{s.es_heap_mb}m",
        }
        if user:
            env["HOME"] = str(self.home)
        return self.launch([str(es_home / "bin" / "elasticsearch")], env, user=user)

    def log_tail(self) -> str:
        return tail(self.home / "logs" / "shaobing.log") + "\n" + tail(self.console_log, 10)
