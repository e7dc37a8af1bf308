package dev.warden.git;

/** Git did not do what Warden asked, for a reason that is not the caller's input (I/O, a broken repository). */
public final class GitFailure extends RuntimeException {
  public GitFailure(String message) {
    super(message);
  }

  public GitFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
