package dev.warden.validate;

import java.util.Locale;

/** How bad a violation is (design brief §1), in increasing order; compare with {@link #compareTo}. */
public enum Severity {
  INFO, WARNING, ERROR, CRITICAL;

  /** The lower-case word used in messages and the API: info, warning, error, critical. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Error and critical make a checkpoint invalid; critical ones also pause the agent. */
  public boolean failsValidation() {
    return this == ERROR || this == CRITICAL;
  }
}
