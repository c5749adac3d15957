"""Pure parts of infra/: port probing, Java detection errors, zip extraction, templates."""
import socket
import stat
import zipfile

import pytest

from indexer.templates import first_index, load_template
from infra import fetch
from infra.errors import StackError
from infra.nodes import find_java, port_in_use
from shaobing.settings import load_settings


def test_port_in_use_sees_a_listening_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)


def test_missing_java_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(StackError, match="install"):
        find_java(load_settings())


def test_missing_maven_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="apt-get install maven"):
        fetch.fetch_kafka(tmp_path / "cache")
    assert not any((tmp_path / "cache").rglob("*.jar"))


def test_failed_download_leaves_no_cache(monkeypatch, tmp_path):
    fake_mvn = tmp_path / "bin" / "mvn"
    fake_mvn.parent.mkdir()
    fake_mvn.write_text("#!/bin/sh\nmkdir -p \"$PWD/libs\" && echo partial > \"$PWD/libs/half.jar\"\necho 'Could not transfer artifact' >&2\nexit 1\n")
    fake_mvn.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_mvn.parent}:/usr/bin:/bin")
    with pytest.raises(StackError, match="nothing was cached"):
        fetch.fetch_kafka(tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache" / "stack").iterdir()] == []


def test_zip_extraction_keeps_executable_bits(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("pkg/bin/run")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(info, "#!/bin/sh\n")
        zf.writestr("pkg/README", "x")
    fetch._extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out/pkg/bin/run").stat().st_mode & 0o111
    assert (tmp_path / "out/pkg/README").read_text() == "x"


def test_templates_are_versioned_and_strict():
    for name in ("posts", "alerts"):
        tpl = load_template(name)
        assert tpl["template"]["aliases"] == {name: {}}
        assert tpl["template"]["mappings"]["dynamic"] == "strict"
        assert first_index(name) == f"{name}-v{tpl['_meta']['template_version']}"


def test_replication_follows_the_cluster_size_unless_set():
    from streams.topics import replication

    assert [replication(n) for n in (1, 2, 3, 5)] == [(1, 1), (2, 1), (3, 2), (3, 2)]
    assert replication(5, 5, 3) == (5, 3)
    with pytest.raises(ValueError, match="needs 3 brokers"):
        replication(1, 3)
    with pytest.raises(ValueError, match="more than the replication factor"):
        replication(3, 2, 3)


def test_a_three_broker_stack_is_one_kraft_quorum_on_loopback(tmp_path):
    from infra.nodes import kafka_nodes

    s = load_settings(state_dir=tmp_path, kafka_brokers=3)
    assert s.kafka_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    nodes = kafka_nodes(s)
    assert [(n.name, n.port, n.controller_port) for n in nodes] == [
        ("kafka", 9092, 9093), ("kafka-2", 9094, 9095), ("kafka-3", 9096, 9097)]
    props = [dict(line.split("=", 1) for line in (n._write_config() / "server.properties").read_text().splitlines())
             for n in nodes]
    assert [p["node.id"] for p in props] == ["1", "2", "3"]
    assert {p["controller.quorum.voters"] for p in props} == {"1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"}
    assert all(p["default.replication.factor"] == "3" and p["min.insync.replicas"] == "2"
               and p["offsets.topic.replication.factor"] == "3" for p in props)
    assert len({n._cluster_id() for n in nodes}) == 1
    with pytest.raises(StackError, match="formatted for 3"):
        kafka_nodes(load_settings(state_dir=tmp_path))[0]._cluster_id()


def test_broker_ports_may_not_collide():
    from shaobing.settings import SettingsError

    with pytest.raises(SettingsError, match="kafka_controller_port"):
        load_settings(kafka_brokers=2, kafka_port=9092, kafka_controller_port=9094)


def test_a_new_kafka_cluster_id_never_starts_with_a_dash(monkeypatch):
    # kafka-storage format -t <id> reads an id starting with "-" as an option (a bench start failed so)
    import uuid

    from infra import nodes

    ids = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x10" + bytes(15))])
    monkeypatch.setattr(nodes.uuid, "uuid4", lambda: next(ids))
    assert not nodes.new_cluster_id().startswith("-")


def test_only_missing_fields_are_put_on_an_existing_index():
    from indexer.templates import missing_properties

    wanted = {"url": {"type": "keyword", "index": False}, "region": {"type": "keyword"},
              "entities": {"properties": {"PER": {"type": "keyword"}, "LOC": {"type": "keyword"}}}}
    existing = {"url": {"type": "keyword"}, "entities": {"properties": {"PER": {"type": "keyword"}}}}
    assert missing_properties(wanted, existing) == {"region": {"type": "keyword"},
                                                    "entities": {"properties": {"LOC": {"type": "keyword"}}}}
    assert missing_properties(wanted, wanted) == {}
