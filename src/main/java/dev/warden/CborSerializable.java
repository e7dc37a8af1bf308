package dev.warden;

/**
 * Marker for every message and event that is persisted or crosses cluster nodes; bound to
 * Jackson CBOR in serialization.conf. Akka's own marker is test-only in 2.8, so Warden owns this one.
 */
public interface CborSerializable {}
