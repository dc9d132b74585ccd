"""The four Cardak services. They meet only through cardak.v1 messages, gRPC and sentinel queues."""
