package dev.warden.validate;

import dev.warden.CborSerializable;
import java.util.Objects;

/**
 * One broken rule (design brief §1): the rule's id (see {@link Rule}), the worktree-relative path it
 * concerns ({@value Rule#WHOLE_CHECKPOINT} for whole-checkpoint rules), how bad it is and a message for
 * people. Messages never contain a secret (at most its last four characters).
 */
public record Violation(String rule, String path, Severity severity, String message) implements CborSerializable {

  public Violation {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(message, "message");
  }

  static Violation of(Rule rule, String path, String message) {
    return new Violation(rule.id(), path, rule.severity(), message);
  }

  static Violation of(Rule rule, String path, Severity severity, String message) {
    return new Violation(rule.id(), path, severity, message);
  }
}
