package dev.warden.feature;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a feature is in its lifecycle (design brief §2): {@code registered → queued → active ⇄ paused
 * → proposed → applied | failed | rejected | abandoned}, plus {@code needs_attention} and
 * {@code awaiting_input}. The names are stored in events and shown in the API: never rename one.
 */
public enum FeatureStatus {
  @JsonProperty("registered") REGISTERED,
  @JsonProperty("queued") QUEUED,
  @JsonProperty("active") ACTIVE,
  @JsonProperty("paused") PAUSED,
  @JsonProperty("awaiting_input") AWAITING_INPUT,
  @JsonProperty("needs_attention") NEEDS_ATTENTION,
  @JsonProperty("proposed") PROPOSED,
  @JsonProperty("applied") APPLIED,
  @JsonProperty("failed") FAILED,
  @JsonProperty("rejected") REJECTED,
  @JsonProperty("abandoned") ABANDONED;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** A terminal feature has no worktree and accepts no further transition. */
  public boolean isTerminal() {
    return this == APPLIED || this == FAILED || this == REJECTED || this == ABANDONED;
  }

  public static Optional<FeatureStatus> fromLabel(String label) {
    for (FeatureStatus status : values()) {
      if (status.label().equals(label)) {
        return Optional.of(status);
      }
    }
    return Optional.empty();
  }
}
