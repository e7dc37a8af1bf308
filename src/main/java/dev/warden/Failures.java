package dev.warden;

import java.util.concurrent.CompletionException;

/** Failures as a person reads them: the cause's message, not the future's wrapper. */
public final class Failures {

  private Failures() {}

  /** The message of {@code failure} (unwrapping a {@link CompletionException}), or its class name when it has none. */
  public static String describe(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }
}
