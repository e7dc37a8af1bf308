package dev.warden.validate;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * Where a checkpoint's validation stands: {@code running}, {@code queued} (its checks wait for the pool),
 * then one of the final verdicts {@code valid}, {@code invalid} or {@code degraded}. Written and read as
 * these lower-case words in the API, the feed and the stored events (which held them as strings before
 * this enum existed: the same words read back the same).
 */
public enum VerdictStatus {
  @JsonProperty("running") RUNNING,
  @JsonProperty("queued") QUEUED,
  @JsonProperty("valid") VALID,
  @JsonProperty("invalid") INVALID,
  @JsonProperty("degraded") DEGRADED;

  /** The lower-case word of the API and the events. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Valid, invalid or degraded: nothing more happens to this verdict (unless a failed validation is run again). */
  public boolean isFinal() {
    return this == VALID || this == INVALID || this == DEGRADED;
  }

  /** The fast rules' own verdict as recorded. */
  public static VerdictStatus of(FastRules.Verdict verdict) {
    return switch (verdict) {
      case VALID -> VALID;
      case INVALID -> INVALID;
      case DEGRADED -> DEGRADED;
    };
  }

  /** The word itself, so that messages built by concatenation read as they always did ({@code "checkpoint 3 is invalid"}). */
  @Override
  public String toString() {
    return label();
  }
}
