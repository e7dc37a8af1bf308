package dev.warden.plan;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * Why a checkpoint was taken. Stored in events and shown in the API: never rename a value. When
 * requests coalesce, the strongest trigger names the checkpoint.
 */
public enum Trigger {
  @JsonProperty("interval") INTERVAL,
  @JsonProperty("debounce") DEBOUNCE,
  @JsonProperty("forced") FORCED,
  @JsonProperty("rollback") ROLLBACK,
  @JsonProperty("patch") PATCH,
  @JsonProperty("manual") MANUAL,
  @JsonProperty("final") FINAL;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Triggers a person or the lifecycle asked for are recorded even when nothing changed. */
  public boolean recordsUnchanged() {
    return this == MANUAL || this == FINAL || this == FORCED || this == ROLLBACK || this == PATCH;
  }

  public Trigger strongest(Trigger other) {
    return compareTo(other) >= 0 ? this : other;
  }
}
