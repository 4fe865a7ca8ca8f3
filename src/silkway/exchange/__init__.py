"""NATS JetStream between national nodes: subjects and streams, the wire schema, the outbox relay and the inbox
consumer, and an in-process bus with the same behaviour for tests and simulations."""
