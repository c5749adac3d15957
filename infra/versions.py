"""The pinned versions of the local stack's Java parts: the one place to change them."""
from __future__ import annotations

KAFKA_VERSION = "4.1.1"          # org.apache.kafka:kafka_2.13, KRaft combined node, Java 17+
ELASTICSEARCH_VERSION = "8.19.21"  # org.elasticsearch.distribution.integ-test-zip:elasticsearch (zip)
MIN_JAVA_MAJOR = 17

KAFKA_COORDS = "org.apache.kafka:kafka_2.13"
ELASTICSEARCH_COORDS = "org.elasticsearch.distribution.integ-test-zip:elasticsearch"
