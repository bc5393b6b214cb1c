#!/usr/bin/env python3
"""Interop check with confluent-kafka (librdkafka): an idempotent producer, then a consumer group
of two members that commit synchronously. Prints one JSON line of results on stdout; librdkafka's
protocol debug goes to stderr so the test can log the negotiated API versions."""
import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

# Four partitions so that both group members get some.
admin = AdminClient({"bootstrap.servers": bootstrap})
for future in admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)]).values():
    future.result(30)

delivered = []
errors = []
consumed = []
assigned = {}
lock = threading.Lock()
done = threading.Event()


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.append((msg.partition(), msg.offset(), msg.value().decode()))


def member(name):
    def on_assign(consumer, partitions):
        with lock:
            assigned[name] = [p.partition for p in partitions]

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "confluent-group",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
    })
    consumer.subscribe([topic], on_assign=on_assign)
    deadline = time.time() + 60
    while not done.is_set() and time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(msg.error()))
            continue
        with lock:
            consumed.append((name, msg.partition(), msg.offset(), msg.value().decode()))
            if len({c[3] for c in consumed}) >= count:
                done.set()
        try:
            consumer.commit(message=msg, asynchronous=False)
        except Exception as error:  # a commit refused during a rebalance
            errors.append(f"commit: {error}")
    consumer.close()


# Both members join first; records are produced once the group has settled on both.
threads = [threading.Thread(target=member, args=(name,)) for name in ("m1", "m2")]
for t in threads:
    t.start()
settle_deadline = time.time() + 30
while time.time() < settle_deadline:
    with lock:
        if len(assigned) == 2 and all(assigned.values()) and sum(len(v) for v in assigned.values()) == 4:
            break
    time.sleep(0.1)

producer = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "debug": "protocol",
    "log_level": 7,
})
for i in range(count):
    producer.produce(topic, key=str(i % 7).encode(), value=f"value-{i}".encode(), on_delivery=on_delivery)
    if i % 1000 == 0:
        producer.poll(0)
remaining = producer.flush(30)
for t in threads:
    t.join()

print(json.dumps({
    "delivered": len(delivered),
    "unflushed": remaining,
    "producer_errors": [e for e in errors if not e.startswith("commit")][:5],
    "consumed_unique": len({c[3] for c in consumed}),
    "consumed_total": len(consumed),
    "members": sorted({c[0] for c in consumed}),
    "assignment": assigned,
    "dense": all(
        sorted(o for (p2, o, _) in delivered if p2 == p) == list(range(len([d for d in delivered if d[0] == p])))
        for p in {d[0] for d in delivered}
    ),
}))
