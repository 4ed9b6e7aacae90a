#!/usr/bin/env python3
"""The course's client (confluent-kafka, librdkafka) as a student would write it, for LabClientsTest.

usage: python_producer.py BOOTSTRAP TOPIC COUNT ACKS IDEMPOTENCE   (IDEMPOTENCE: true|false)
Sends COUNT values "py-1".."py-COUNT", one request each, and prints one line: SENT=n DELIVERED=n FAILED=n
"""
import sys

from confluent_kafka import Producer


def main():
    bootstrap, topic, count, acks, idempotence = sys.argv[1:6]
    config = {
        "bootstrap.servers": bootstrap,
        "acks": acks,
        "enable.idempotence": idempotence == "true",
        "linger.ms": 0,
        "message.timeout.ms": 30000,
        "client.id": "python-" + ("idempotent" if idempotence == "true" else "acks-" + acks),
    }
    if acks == "0":
        config["retries"] = 0
    producer = Producer(config)
    delivered = failed = 0

    def report(err, msg):
        nonlocal delivered, failed
        if err is None:
            delivered += 1
        else:
            failed += 1

    for i in range(1, int(count) + 1):
        producer.produce(topic, value=f"py-{i}".encode(), key=f"py-{i}".encode(), on_delivery=report)
        producer.flush(30)  # one message, one Produce request: the fault hits exactly one of them
    print(f"SENT={count} DELIVERED={delivered} FAILED={failed}", flush=True)


if __name__ == "__main__":
    main()
