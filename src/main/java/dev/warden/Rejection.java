package dev.warden;

import java.util.Optional;

/**
 * A request Warden refuses for a reason the caller can act on: bad input, something missing, or a
 * conflict with the current state. Thrown by services, mapped to problem+json by the HTTP layer;
 * never used for bugs or infrastructure failures.
 */
public final class Rejection extends RuntimeException {

  /** Why the request was refused; the HTTP layer maps each to one status code. */
  public enum Kind { INVALID, NOT_FOUND, CONFLICT, TOO_LARGE, UNPROCESSABLE, FORBIDDEN }

  private final Kind kind;
  private final String field;
  private final java.util.Map<String, Object> details;

  private Rejection(Kind kind, String field, String message) {
    this(kind, field, message, java.util.Map.of());
  }

  private Rejection(Kind kind, String field, String message, java.util.Map<String, Object> details) {
    super(message, null, false, false);
    this.kind = kind;
    this.field = field;
    this.details = java.util.Map.copyOf(details);
  }

  /**
   * Well-formed but refused on its merits (an invalid checkpoint proposed, a diff over its limit);
   * {@code details} (plain maps, lists, strings and numbers) become members of the problem document.
   */
  public static Rejection unprocessable(String field, String message, java.util.Map<String, Object> details) {
    return new Rejection(Kind.UNPROCESSABLE, field, message, details);
  }

  /** Extra members for the problem document (the violations behind a refusal, say); usually empty. */
  public java.util.Map<String, Object> details() {
    return details;
  }

  public static Rejection invalid(String field, String message) {
    return new Rejection(Kind.INVALID, field, message);
  }

  public static Rejection notFound(String message) {
    return new Rejection(Kind.NOT_FOUND, null, message);
  }

  public static Rejection conflict(String message) {
    return new Rejection(Kind.CONFLICT, null, message);
  }

  public static Rejection conflict(String field, String message) {
    return new Rejection(Kind.CONFLICT, field, message);
  }

  /** The caller may not do this (its role, or who it is: a proposer approving its own work); 403. */
  public static Rejection forbidden(String field, String message) {
    return new Rejection(Kind.FORBIDDEN, field, message);
  }

  public static Rejection tooLarge(String field, String message) {
    return new Rejection(Kind.TOO_LARGE, field, message);
  }

  public static Rejection of(Kind kind, String message) {
    return new Rejection(kind, null, message);
  }

  public Kind kind() {
    return kind;
  }

  /** The request field (dotted path for nested ones) the rejection is about, if it is about one. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }
}
