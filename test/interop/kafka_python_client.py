#!/usr/bin/env python3
"""Interop check with kafka-python 2.0.2: a producer (acks=all) and a group consumer that commits.
Prints one JSON line: counts and the broker version kafka-python inferred from ApiVersions."""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
futures = [producer.send(topic, key=str(i % 5).encode(), value=f"kp-{i}".encode()) for i in range(count)]
offsets = [f.get(timeout=30) for f in futures]
producer.flush()
api_version = producer.config["api_version"]
producer.close()

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id="kafka-python-group",
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=20000,
)
seen = []
deadline = time.time() + 60
for message in consumer:
    seen.append(message.value.decode())
    consumer.commit()
    if len(set(seen)) >= count or time.time() > deadline:
        break
committed = sum(consumer.committed(tp) or 0 for tp in consumer.assignment())
consumer.close()

print(json.dumps({
    "api_version": list(api_version),
    "acknowledged": len(offsets),
    "consumed_unique": len(set(seen)),
    "consumed_total": len(seen),
    "committed_total": committed,
}))
