package dev.warden.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;
import java.util.Optional;

/**
 * A proposal's blast radius (design brief §1): {@code low} is auto-approved once validation and tests
 * pass, {@code medium} after a review window unless someone rejects, {@code high} needs approvers.
 * Declared in increasing order, so {@link #compareTo} and {@link #max} mean "riskier". The lower-case
 * names are stored in events and shown in the API and the policy file: never rename one.
 */
public enum Tier {
  @JsonProperty("low") LOW,
  @JsonProperty("medium") MEDIUM,
  @JsonProperty("high") HIGH;

  /** The name used in JSON and in the policy file. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The riskier of the two. */
  public Tier max(Tier other) {
    return other.compareTo(this) > 0 ? other : this;
  }

  /** The tier named {@code label} exactly ({@code low}, {@code medium}, {@code high}), if any. */
  public static Optional<Tier> fromLabel(String label) {
    for (Tier t : values()) {
      if (t.label().equals(label)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
