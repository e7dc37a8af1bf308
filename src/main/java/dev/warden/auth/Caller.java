package dev.warden.auth;

import java.util.Set;

/**
 * Who made a request: the token's name and its role, recorded with every decision; and the features
 * it is bound to. A bound caller (a feature-bound configured token, or a run token that
 * {@code bin/warden agent} got for one run) reaches only those features' {@code /api/v1/features/{id}}
 * routes; an unbound one (the empty set) reaches everything its role allows.
 */
public record Caller(String name, Role role, Set<String> features) {

  public Caller {
    features = Set.copyOf(features);
  }

  public Caller(String name, Role role) {
    this(name, role, Set.of());
  }

  public boolean isBound() {
    return !features.isEmpty();
  }

  /** Whether this caller may act on feature {@code featureId} at all (its role still decides what). */
  public boolean mayReach(String featureId) {
    return features.isEmpty() || features.contains(featureId);
  }

  /** A run token's caller: minted for one run of {@code bin/warden agent}, see {@link RunTokens}. */
  public boolean isRunToken() {
    return name.startsWith(RunTokens.NAME_PREFIX);
  }
}
