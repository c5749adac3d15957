"""Fetches Kafka and Elasticsearch from Maven Central into a cache outside the repository, once.

Reads Settings.cache_dir. A download happens into a temporary folder beside the cache entry and
is renamed into place only when complete, so a failed or interrupted fetch leaves nothing behind.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from infra import versions
from infra.errors import StackError

log = logging.getLogger(__name__)
POM = Path(__file__).with_name("pom.xml")


def kafka_libs(cache_dir: Path) -> Path:
    return cache_dir / "stack" / f"kafka-{versions.KAFKA_VERSION}" / "libs"


def elasticsearch_home(cache_dir: Path) -> Path:
    return cache_dir / "stack" / f"elasticsearch-{versions.ELASTICSEARCH_VERSION}"


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _mvn(args: list[str], workdir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (`mvn`) is not installed; it is needed once to fetch Kafka and Elasticsearch "
            "from Maven Central. Install it (Debian/Ubuntu: `apt-get install maven`) and retry."
        )
    cmd = [mvn, "-B", "-q", "-f", str(POM), *args]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StackError(
            f"download from Maven Central failed (mvn exit {proc.returncode}); nothing was cached.\n"
            f"command: {' '.join(cmd)}\n{_tail(proc.stdout + proc.stderr)}"
        )


def _publish(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def fetch_kafka(cache_dir: Path) -> Path:
    target = kafka_libs(cache_dir)
    if target.is_dir() and any(target.glob("kafka_2.13-*.jar")):
        return target
    staging = cache_dir / "stack"
    staging.mkdir(parents=True, exist_ok=True)
    log.info("fetching Kafka %s from Maven Central", versions.KAFKA_VERSION)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=staging) as tmp:
        libs = Path(tmp) / "libs"
        _mvn(["dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={libs}",
              f"-Dkafka.version={versions.KAFKA_VERSION}"], Path(tmp))
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise StackError(f"Maven finished but no kafka_2.13 jar arrived in {libs}; nothing was cached")
        _publish(libs, target)
    return target


def _extract_zip(archive: Path, dest: Path) -> None:
    # zipfile drops Unix modes; Elasticsearch's launch scripts need their executable bits back
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                path.chmod(mode & 0o777 | 0o444)


def fetch_elasticsearch(cache_dir: Path) -> Path:
    home = elasticsearch_home(cache_dir)
    if (home / "bin" / "elasticsearch").is_file():
        return home
    home.parent.mkdir(parents=True, exist_ok=True)
    log.info("fetching Elasticsearch %s from Maven Central", versions.ELASTICSEARCH_VERSION)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=home.parent) as tmp:
        tmp_path = Path(tmp)
        artifact = f"{versions.ELASTICSEARCH_COORDS}:{versions.ELASTICSEARCH_VERSION}:zip"
        _mvn(["dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={tmp_path / 'zip'}"], tmp_path)
        archives = list((tmp_path / "zip").glob("*.zip"))
        if len(archives) != 1:
            raise StackError(f"Maven finished but no Elasticsearch zip arrived in {tmp_path / 'zip'}")
        try:
            _extract_zip(archives[0], tmp_path / "x")
        except (zipfile.BadZipFile, OSError) as exc:
            raise StackError(f"the Elasticsearch zip {archives[0].name} is unreadable: {exc}") from exc
        extracted = tmp_path / "x" / f"elasticsearch-{versions.ELASTICSEARCH_VERSION}"
        if not (extracted / "bin" / "elasticsearch").is_file():
            raise StackError(f"the Elasticsearch zip has no bin/elasticsearch under {extracted.name}")
        _publish(extracted, home)
    return home


def cache_size_bytes(cache_dir: Path) -> int:
    root = cache_dir / "stack"
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
