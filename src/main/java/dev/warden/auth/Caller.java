package dev.warden.auth;

/** Who made a request: the configured token's name and its role. Recorded with every decision. */
public record Caller(String name, Role role) {}
