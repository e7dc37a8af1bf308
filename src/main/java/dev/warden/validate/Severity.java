package dev.warden.validate;

import java.util.Locale;

/** How bad a violation is (design brief §1), in increasing order; compare with {@link #compareTo}. */
public enum Severity {
  @com.fasterxml.jackson.annotation.JsonProperty("info") INFO,
  @com.fasterxml.jackson.annotation.JsonProperty("warning") WARNING,
  @com.fasterxml.jackson.annotation.JsonProperty("error") ERROR,
  @com.fasterxml.jackson.annotation.JsonProperty("critical") CRITICAL;

  /** The lower-case word used in messages and the API: info, warning, error, critical. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Error and critical make a checkpoint invalid; critical ones also pause the agent. */
  public boolean failsValidation() {
    return this == ERROR || this == CRITICAL;
  }
}
