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
