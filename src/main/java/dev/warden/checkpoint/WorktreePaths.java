package dev.warden.checkpoint;

/** Paths as the watcher and the API give them, made safe to resolve inside a worktree. */
final class WorktreePaths {

  private WorktreePaths() {}

  /**
   * A reported path as clean worktree-relative '/'-separated text ("" for the root), or null when it is
   * absolute, has a ".." or NUL, or is otherwise not a path inside the worktree.
   */
  static String normalize(String raw) {
    if (raw == null || raw.indexOf('\0') >= 0 || raw.startsWith("/")) {
      return null;
    }
    StringBuilder out = new StringBuilder(raw.length());
    for (String part : raw.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        return null;
      }
      if (out.length() > 0) {
        out.append('/');
      }
      out.append(part);
    }
    return out.toString();
  }
}
