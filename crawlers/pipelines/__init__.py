"""Item pipelines: the seen-set filter, then the one Kafka producer."""
