package dev.warden.validate;

/**
 * The fast rules of the validator (design brief §2) with their ids, as they appear in {@link
 * Violation#rule()}, and their default severities. docs/validation.md explains each one.
 */
public enum Rule {
  /** Non-canonical path: empty, absolute, '.', '..' or empty segments, backslash, NUL or control characters. */
  PATH("path", Severity.CRITICAL),
  /** A path segment that git (or a case-insensitive file system) would take for {@code .git}. */
  GIT_DIR("git-dir", Severity.CRITICAL),
  /** A new or retargeted symbolic link; {@link Severity#CRITICAL} when it leads outside the worktree or into a {@code .git}. */
  SYMLINK("symlink", Severity.WARNING),
  /** A new executable file, or a file that became executable. */
  EXECUTABLE("executable", Severity.WARNING),
  /** A changed path that matches one of the plan's forbidden globs. */
  FORBIDDEN_PATH("forbidden-path", Severity.ERROR),
  /** A changed path that matches none of the plan's allowed globs. */
  OUTSIDE_ALLOWED("outside-allowed", Severity.ERROR),
  /** A changed path that is not among the plan's planned files (only when the plan lists them). */
  UNPLANNED_FILE("unplanned-file", Severity.WARNING),
  /** Lines added plus lines removed since the base above the plan's limit. */
  MAX_CHANGED_LINES("max-changed-lines", Severity.ERROR),
  /** More changed paths since the base than the plan allows. */
  MAX_CHANGED_FILES("max-changed-files", Severity.ERROR),
  /** A file larger than the plan's limit. */
  MAX_FILE_BYTES("max-file-bytes", Severity.ERROR),
  /**
   * A file the checkpoint did not read because it was over the capture's size cap (the plan's
   * {@code maxFileBytes} or {@code warden.checkpoint.max-file-bytes}): the checkpoint lacks its content.
   */
  FILE_TOO_LARGE("file-too-large", Severity.ERROR),
  /** The worktree holds more bytes than the plan's disk quota. */
  DISK_QUOTA("disk-quota", Severity.ERROR),
  /** A secret in a file's content; {@link Severity#INFO} when the base version of the file already held it. */
  SECRET("secret", Severity.CRITICAL),
  /** A file larger than the secret scanner's cap: only its beginning was scanned. */
  SECRET_SCAN_CAPPED("secret-scan-capped", Severity.WARNING),
  /** A glob of the plan that does not compile (plans are checked at the edge; this catches old ones). */
  PLAN_GLOB("plan-glob", Severity.ERROR);

  /** The path of violations about the checkpoint as a whole. */
  public static final String WHOLE_CHECKPOINT = ".";

  private final String id;
  private final Severity severity;

  Rule(String id, Severity severity) {
    this.id = id;
    this.severity = severity;
  }

  public String id() {
    return id;
  }

  public Severity severity() {
    return severity;
  }
}
