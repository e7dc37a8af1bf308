package dev.warden.validate;

import dev.warden.plan.PathGlob;
import dev.warden.plan.Plan;
import dev.warden.secrets.SecretScanner;
import dev.warden.validate.Change.Mode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * The validator's fast rules (design brief §2): every checkpoint is checked against its feature's plan
 * — paths, {@code .git}, symlinks, executables, allowed/forbidden/planned paths, size limits, the disk
 * quota and secrets — from the list of paths that differ from the feature's base. Stateless; one
 * {@link #check} per {@link Input} at a time (its {@link Blobs} may wrap a non-thread-safe reader).
 * Blocking (it reads blobs): callers run it on a blocking dispatcher.
 *
 * <p>Two kinds of work. Whole-checkpoint and per-path rules that need no content (everything but
 * {@code secret} and {@code max-changed-lines}) always run in full, whatever the budget: they are
 * cheap. Content rules read blobs, one file at a time, under the budget: once it is spent, files not
 * yet read are listed in {@link Result#unchecked()} and the verdict is {@link Verdict#DEGRADED} —
 * never a silent pass — though results already in the cache are still used. Content results are
 * cached per (path, base blob, blob, plan version) in a {@link ValidationCache}.
 *
 * <p>Line counts: changes that carry counts are taken as they are. For the others the validator first
 * bounds the total without a diff (for a modified file, the lines between the head and the tail both
 * versions share) and runs real diffs only when that bound exceeds the plan's limit.
 */
public final class FastRules {

  private FastRules() {}

  public static final Duration DEFAULT_BUDGET = Duration.ofSeconds(1);
  /** Symlink hops followed when resolving a target, as Linux's MAXSYMLINKS. */
  static final int MAX_SYMLINK_HOPS = 40;
  static final int MAX_SYMLINK_TARGET = 4096;

  public enum Verdict { VALID, INVALID, DEGRADED }

  /** A rule that was not checked for a path ({@value Rule#WHOLE_CHECKPOINT}: the whole checkpoint), and why. */
  public record Unchecked(String rule, String path, String reason) {}

  /**
   * The outcome: INVALID when any violation is an error or critical (even if some checks were skipped),
   * else DEGRADED when something was not checked, else VALID. Violations are ordered most severe first.
   * Cache hits and misses are this check's own lookups.
   */
  public record Result(Verdict verdict, List<Violation> violations, List<Unchecked> unchecked, int cacheHits,
                       int cacheMisses, long elapsedNanos) {
    public Result {
      violations = List.copyOf(violations);
      unchecked = List.copyOf(unchecked);
    }

    public double cacheHitRate() {
      int lookups = cacheHits + cacheMisses;
      return lookups == 0 ? 0 : (double) cacheHits / lookups;
    }

    public List<Violation> violations(Severity atLeast) {
      return violations.stream().filter(v -> v.severity().compareTo(atLeast) >= 0).toList();
    }
  }

  /** Blob content for the content rules. */
  @FunctionalInterface
  public interface Blobs {
    /** The first {@code limit} bytes of the blob (all of it when smaller). The array is only read. */
    byte[] read(ObjectId id, int limit) throws IOException;

    /** Blobs from a JGit reader (not thread-safe: one check at a time; the caller closes it). */
    static Blobs of(ObjectReader reader) {
      return (id, limit) -> {
        ObjectLoader loader = reader.open(id, Constants.OBJ_BLOB);
        if (loader.getSize() <= limit) {
          try {
            return loader.getCachedBytes(limit);
          } catch (LargeObjectException e) {
            // fall through to the stream
          }
        }
        try (var in = loader.openStream()) {
          return in.readNBytes(limit);
        }
      };
    }

    /** Blobs from a function that returns whole contents (tests, callers with their own store). */
    static Blobs of(Function<ObjectId, byte[]> loader) {
      return (id, limit) -> {
        byte[] all = loader.apply(id);
        if (all == null) {
          throw new IOException("no content for blob " + id.name());
        }
        return all.length <= limit ? all : Arrays.copyOf(all, limit);
      };
    }
  }

  /**
   * Symlinks of the checkpoint outside the change list, for resolving a link through other links:
   * the target of the symlink at {@code path}, or empty when there is none there.
   */
  @FunctionalInterface
  public interface Symlinks {
    Optional<String> targetOf(String path) throws IOException;

    Symlinks NONE = path -> Optional.empty();
  }

  /**
   * Files the checkpoint's capture left out for their size (its commit message names them): {@code
   * listed}, and how many there were in all ({@code total}, at least {@code listed.size()}).
   */
  public record Skipped(List<GitChanges.Oversized> listed, int total) {
    public static final Skipped NONE = new Skipped(List.of(), 0);

    public Skipped {
      listed = List.copyOf(listed);
      total = Math.max(total, listed.size());
    }
  }

  /**
   * What to check: the plan (its {@link Plan#version()} keys the cache), the changes since the base,
   * where blobs come from, the checkpoint's other symlinks, the worktree's disk usage (empty: unknown,
   * so {@code disk-quota} is reported unchecked), the cache, the budget, the scanner, and the files the
   * capture left out for their size.
   */
  public record Input(Plan plan, List<Change> changes, Blobs blobs, Symlinks symlinks, OptionalLong diskUsageBytes,
                      ValidationCache cache, Duration budget, SecretScanner scanner, Skipped skipped) {
    public Input {
      Objects.requireNonNull(skipped, "skipped");
      Objects.requireNonNull(plan, "plan");
      changes = List.copyOf(changes);
      Objects.requireNonNull(blobs, "blobs");
      Objects.requireNonNull(symlinks, "symlinks");
      Objects.requireNonNull(diskUsageBytes, "diskUsageBytes");
      Objects.requireNonNull(cache, "cache");
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(scanner, "scanner");
      if (budget.isNegative()) {
        throw new IllegalArgumentException("budget must not be negative: " + budget);
      }
    }

    /** Defaults: no other symlinks known, disk usage unknown, no cache, {@link #DEFAULT_BUDGET}, default scanner. */
    public static Input of(Plan plan, List<Change> changes, Blobs blobs) {
      return new Input(plan, changes, blobs, Symlinks.NONE, OptionalLong.empty(), ValidationCache.disabled(),
          DEFAULT_BUDGET, new SecretScanner(), Skipped.NONE);
    }

    /**
     * The changes from {@code base} to {@code checkpoint} (commits or trees) read with {@code reader},
     * which must stay open until {@link #check} returns. See {@link GitChanges#between}. When
     * {@code checkpoint} is a commit, the files its message says were left out for their size
     * ({@link GitChanges#oversized}) are flagged too.
     */
    public static Input fromGit(ObjectReader reader, AnyObjectId base, AnyObjectId checkpoint, Plan plan) throws IOException {
      ObjectId tree = GitChanges.treeOf(reader, checkpoint);
      return of(plan, GitChanges.between(reader, base, tree), Blobs.of(reader))
          .withSymlinks(GitChanges.symlinks(reader, tree))
          .withSkipped(GitChanges.oversized(reader, checkpoint));
    }

    public Input withSkipped(Skipped s) {
      return new Input(plan, changes, blobs, symlinks, diskUsageBytes, cache, budget, scanner, s);
    }

    public Input withDiskUsage(long bytes) {
      return new Input(plan, changes, blobs, symlinks, OptionalLong.of(bytes), cache, budget, scanner, skipped);
    }

    public Input withCache(ValidationCache c) {
      return new Input(plan, changes, blobs, symlinks, diskUsageBytes, c, budget, scanner, skipped);
    }

    public Input withBudget(Duration b) {
      return new Input(plan, changes, blobs, symlinks, diskUsageBytes, cache, b, scanner, skipped);
    }

    public Input withSymlinks(Symlinks s) {
      return new Input(plan, changes, blobs, s, diskUsageBytes, cache, budget, scanner, skipped);
    }

    public Input withScanner(SecretScanner s) {
      return new Input(plan, changes, blobs, symlinks, diskUsageBytes, cache, budget, s, skipped);
    }
  }

  // ================================================================== the check

  public static Result check(Input in) {
    long start = System.nanoTime();
    long budgetNanos = in.budget().compareTo(Duration.ofDays(1)) > 0 ? Duration.ofDays(1).toNanos() : in.budget().toNanos();
    Run run = new Run(in, start + budgetNanos);
    run.pathRules();
    run.contentRules();
    run.changedLines();
    run.violations.sort(Comparator.comparing(Violation::severity).reversed());
    Verdict verdict = run.violations.stream().anyMatch(v -> v.severity().failsValidation()) ? Verdict.INVALID
        : run.unchecked.isEmpty() ? Verdict.VALID : Verdict.DEGRADED;
    return new Result(verdict, run.violations, run.unchecked, run.content.hits, run.content.misses, System.nanoTime() - start);
  }

  private static final class Run {
    final Input in;
    final Plan plan;
    final List<Violation> violations = new ArrayList<>();
    final List<Unchecked> unchecked = new ArrayList<>();
    /** Secrets and line figures, under the budget. */
    final ContentRules content;

    Run(Input in, long deadline) {
      this.in = in;
      this.plan = in.plan();
      this.content = new ContentRules(in, deadline, violations, unchecked);
    }

    void contentRules() {
      content.run();
    }

    void changedLines() {
      content.changedLines();
    }

    // ---- rules on paths and modes: always in full ----

    void pathRules() {
      List<PathGlob> allowed = compileAll("allowedPaths", plan.allowedPaths(), false);
      List<PathGlob> forbidden = compileAll("forbiddenPaths", plan.forbiddenPaths(), false);
      Optional<List<PathGlob>> planned = plan.plannedFiles().map(p -> compileAll("plannedFiles", p, true));
      Optional<Long> maxFileBytes = plan.limits().maxFileBytes();
      for (Change c : in.changes()) {
        String path = c.path();
        String problem = pathProblem(path);
        if (problem != null) {
          violations.add(Violation.of(Rule.PATH, path, "non-canonical path " + quote(path) + ": " + problem));
          continue; // globs and link resolution mean nothing for it
        }
        String[] segments = path.split("/");
        String gitSegment = dev.warden.git.GitPaths.gitSegment(segments);
        if (gitSegment != null) {
          violations.add(Violation.of(Rule.GIT_DIR, path, quote(path) + " is " + verb(c) + " inside a git directory ('"
              + gitSegment + "'): a change there can rewrite history, hooks or config"));
          continue;
        }
        boolean directory = (c.newMode() == Mode.ABSENT ? c.oldMode() : c.newMode()) == Mode.GITLINK;
        PathGlob hit = first(forbidden, segments, directory);
        if (hit != null) {
          violations.add(Violation.of(Rule.FORBIDDEN_PATH, path, quote(path) + " is " + verb(c)
              + " but matches the forbidden glob " + quote(hit.glob())));
        } else if (first(allowed, segments, directory) == null) {
          violations.add(Violation.of(Rule.OUTSIDE_ALLOWED, path, quote(path) + " is " + verb(c)
              + " but matches none of the allowed globs " + plan.allowedPaths()));
        }
        if (planned.isPresent() && first(planned.get(), segments, directory) == null) {
          violations.add(Violation.of(Rule.UNPLANNED_FILE, path, quote(path) + " is " + verb(c)
              + " but is not among the planned files"));
        }
        if (c.newMode() == Mode.EXECUTABLE && c.oldMode() != Mode.EXECUTABLE) {
          violations.add(Violation.of(Rule.EXECUTABLE, path, c.oldMode() == Mode.ABSENT ? "new executable file " + quote(path)
              : quote(path) + " became executable (was " + c.oldMode().name().toLowerCase(Locale.ROOT) + ")"));
        }
        if (c.newMode() == Mode.SYMLINK && !(c.oldMode() == Mode.SYMLINK && c.oldId().equals(c.newId()))) {
          symlink(c);
        }
        if (maxFileBytes.isPresent() && c.newMode().isFile() && c.size() > maxFileBytes.get()) {
          violations.add(Violation.of(Rule.MAX_FILE_BYTES, path, quote(path) + " is " + c.size()
              + " bytes, above the plan's limit of " + maxFileBytes.get()));
        }
      }
      for (GitChanges.Oversized o : in.skipped().listed()) {
        violations.add(Violation.of(Rule.FILE_TOO_LARGE, o.path(), quote(o.path()) + " is " + o.bytes()
            + " bytes (its size, sparse or not), above the cap of " + o.limit() + " bytes: the checkpoint did not read it and"
            + " holds its previous version, or nothing, in its place"));
      }
      if (in.skipped().total() > in.skipped().listed().size()) {
        violations.add(Violation.of(Rule.FILE_TOO_LARGE, Rule.WHOLE_CHECKPOINT, in.skipped().total()
            + " files were left out of the checkpoint for their size; " + (in.skipped().total() - in.skipped().listed().size())
            + " more than are named here"));
      }
      Optional<Long> maxFiles = plan.limits().maxChangedFiles();
      if (maxFiles.isPresent() && in.changes().size() > maxFiles.get()) {
        violations.add(Violation.of(Rule.MAX_CHANGED_FILES, Rule.WHOLE_CHECKPOINT, in.changes().size()
            + " paths differ from the base, above the plan's limit of " + maxFiles.get()));
      }
      long quota = plan.limits().diskQuotaBytes();
      if (in.diskUsageBytes().isEmpty()) {
        unchecked.add(new Unchecked(Rule.DISK_QUOTA.id(), Rule.WHOLE_CHECKPOINT, "the worktree's disk usage was not given"));
      } else if (in.diskUsageBytes().getAsLong() > quota) {
        violations.add(Violation.of(Rule.DISK_QUOTA, Rule.WHOLE_CHECKPOINT, "the worktree holds "
            + in.diskUsageBytes().getAsLong() + " bytes, above the plan's disk quota of " + quota));
      }
    }

    /** Compiles a plan's globs; a bad one (a plan from before edge validation) is a violation and is left out. */
    private List<PathGlob> compileAll(String field, List<String> globs, boolean anchored) {
      List<PathGlob> out = new ArrayList<>(globs.size());
      for (int i = 0; i < globs.size(); i++) {
        try {
          out.add(PathGlob.compile(globs.get(i), anchored));
        } catch (IllegalArgumentException e) {
          violations.add(Violation.of(Rule.PLAN_GLOB, Rule.WHOLE_CHECKPOINT, "plan " + field + "[" + i + "] is not a valid glob ("
              + e.getMessage() + "): it is ignored until the plan is fixed"));
        }
      }
      return out;
    }

    private static PathGlob first(List<PathGlob> globs, String[] segments, boolean directory) {
      for (PathGlob g : globs) {
        if (g.matches(segments, directory)) {
          return g;
        }
      }
      return null;
    }

    // ---- symlinks ----

    /** The checkpoint's changed paths, for resolving links through other changed links; made on first use. */
    private Map<String, Change> byPath;

    private void symlink(Change c) {
      if (byPath == null) {
        byPath = new HashMap<>();
        for (Change each : in.changes()) {
          byPath.put(each.path(), each);
        }
      }
      String path = c.path();
      String target;
      try {
        target = c.symlinkTarget().isPresent() ? c.symlinkTarget().get()
            : new String(in.blobs().read(c.newId(), MAX_SYMLINK_TARGET), StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        unchecked.add(new Unchecked(Rule.SYMLINK.id(), path, "cannot read the link's target: " + e.getMessage()));
        return;
      }
      Resolution r;
      try {
        r = resolve(path, target, p -> {
          Change other = byPath.get(p);
          if (other != null) {
            if (other.newMode() != Mode.SYMLINK) {
              return Optional.empty();
            }
            return other.symlinkTarget().isPresent() ? other.symlinkTarget()
                : Optional.of(new String(in.blobs().read(other.newId(), MAX_SYMLINK_TARGET), StandardCharsets.UTF_8));
          }
          return in.symlinks().targetOf(p);
        });
      } catch (IOException | RuntimeException e) {
        unchecked.add(new Unchecked(Rule.SYMLINK.id(), path, "cannot resolve the link through other links: " + e.getMessage()));
        return;
      }
      String link = "symbolic link " + quote(path) + " -> " + quote(target);
      String through = r.via().isEmpty() ? "" : ", through the link" + (r.via().size() > 1 ? "s " : " ") + String.join(", ", r.via());
      switch (r.outcome()) {
        case INSIDE -> violations.add(Violation.of(Rule.SYMLINK, path, link + " (resolves inside the worktree, to "
            + quote(r.where()) + through + ")"));
        case LOOP -> violations.add(Violation.of(Rule.SYMLINK, path, link + " (a loop: more than " + MAX_SYMLINK_HOPS
            + " links deep)"));
        case ESCAPES -> violations.add(Violation.of(Rule.SYMLINK, path, Severity.CRITICAL, link
            + " points outside the worktree (" + r.where() + through + ")"));
        case INTO_GIT -> violations.add(Violation.of(Rule.SYMLINK, path, Severity.CRITICAL, link + " points into a git directory ("
            + quote(r.where()) + through + ")"));
        default -> throw new IllegalStateException("unknown outcome " + r.outcome());
      }
    }
  }

  // ================================================================== paths

  /** Why a path is not canonical, or null when it is. */
  static String pathProblem(String path) {
    if (path.isEmpty()) {
      return "empty";
    }
    if (path.charAt(0) == '/') {
      return "absolute";
    }
    for (int i = 0; i < path.length(); i++) {
      char ch = path.charAt(i);
      if (ch == 0) {
        return "contains NUL";
      }
      if (ch == '\\') {
        return "contains a backslash (a separator on Windows)";
      }
      if (ch < 0x20 || ch == 0x7f) {
        return String.format(Locale.ROOT, "contains the control character U+%04X", (int) ch);
      }
    }
    if (path.endsWith("/")) {
      return "ends with '/'";
    }
    int start = 0;
    while (start <= path.length()) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      int n = end - start;
      if (n == 0) {
        return "has an empty segment ('//')";
      }
      if (n == 1 && path.charAt(start) == '.') {
        return "has a '.' segment";
      }
      if (n == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.') {
        return "has a '..' segment: it leaves its directory";
      }
      if (slash < 0) {
        break;
      }
      start = slash + 1;
    }
    return null;
  }

  private static String verb(Change c) {
    return switch (c.kind()) {
      case ADDED -> "added";
      case MODIFIED -> "modified";
      case DELETED -> "deleted";
      case TYPE_CHANGED -> "changed into a " + c.newMode().name().toLowerCase(Locale.ROOT);
    };
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('\'');
    for (int i = 0; i < s.length() && i < 300; i++) {
      char ch = s.charAt(i);
      b.append(ch < 0x20 || ch == 0x7f ? String.format(Locale.ROOT, "\\u%04x", (int) ch) : String.valueOf(ch));
    }
    return b.append(s.length() > 300 ? "...'" : "'").toString();
  }

  // ================================================================== symlink resolution

  enum Outcome { INSIDE, ESCAPES, INTO_GIT, LOOP }

  /** where: the path reached (or why it escapes); via: the other links followed on the way. */
  record Resolution(Outcome outcome, String where, List<String> via) {
    Resolution {
      via = List.copyOf(via);
    }
  }

  /**
   * Where the link at {@code linkPath} with {@code target} leads, resolved as the kernel would but
   * lexically, on the checkpoint's content only: relative to the link's directory, following links met
   * on the way ({@code lookup}), {@code ..} after a link applying to where the link led. No file system.
   */
  static Resolution resolve(String linkPath, String target, Symlinks lookup) throws IOException {
    List<String> via = new ArrayList<>();
    if (target.isEmpty()) {
      return new Resolution(Outcome.INSIDE, linkPath, via); // an empty target resolves to nothing (ENOENT)
    }
    if (target.startsWith("/")) {
      return new Resolution(Outcome.ESCAPES, "an absolute path", via);
    }
    Deque<String> dir = new ArrayDeque<>();
    String[] own = linkPath.split("/");
    for (int k = 0; k < own.length - 1; k++) {
      dir.addLast(own[k]);
    }
    Deque<String> todo = new ArrayDeque<>(List.of(target.split("/")));
    int hops = 0;
    while (!todo.isEmpty()) {
      String s = todo.pollFirst();
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        if (dir.isEmpty()) {
          return new Resolution(Outcome.ESCAPES, "above the worktree root", via);
        }
        dir.pollLast();
        continue;
      }
      dir.addLast(s);
      String here = String.join("/", dir);
      if (dev.warden.git.GitPaths.isGitName(s)) {
        return new Resolution(Outcome.INTO_GIT, here, via);
      }
      Optional<String> next = here.equals(linkPath) ? Optional.of(target) : lookup.targetOf(here);
      if (next.isPresent()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          return new Resolution(Outcome.LOOP, here, via);
        }
        if (!here.equals(linkPath) && !via.contains(here)) {
          via.add(here);
        }
        String t = next.get();
        if (t.startsWith("/")) {
          return new Resolution(Outcome.ESCAPES, "an absolute path", via);
        }
        dir.pollLast();
        List<String> parts = List.of(t.split("/"));
        for (int k = parts.size() - 1; k >= 0; k--) {
          todo.addFirst(parts.get(k));
        }
      }
    }
    return new Resolution(Outcome.INSIDE, dir.isEmpty() ? "." : String.join("/", dir), via);
  }
}
