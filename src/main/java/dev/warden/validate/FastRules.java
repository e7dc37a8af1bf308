package dev.warden.validate;

import dev.warden.plan.PathGlob;
import dev.warden.plan.Plan;
import dev.warden.secrets.SecretScanner;
import dev.warden.validate.Change.Mode;
import dev.warden.validate.ValidationCache.FileResult;
import dev.warden.validate.ValidationCache.Key;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
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
  /** Contents kept in memory during one check for the real diffs the line limit may need. */
  private static final long KEEP_FOR_DIFF_BYTES = 32L << 20;

  public enum Verdict { VALID, INVALID, DEGRADED }

  private static final FileResult NO_LINES = new FileResult(List.of(), 0, 0, true);

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
    return new Result(verdict, run.violations, run.unchecked, run.hits, run.misses, System.nanoTime() - start);
  }

  private static final class Run {
    final Input in;
    final Plan plan;
    final long deadline;
    final List<Violation> violations = new ArrayList<>();
    final List<Unchecked> unchecked = new ArrayList<>();
    int hits;
    int misses;
    /** Per change (same index): its content result, or null when it was not checked. */
    final FileResult[] results;
    /** Per change: {before, after} kept from the content pass for a real diff, if one turns out needed. */
    final byte[][][] kept;
    long keptBytes;

    Run(Input in, long deadline) {
      this.in = in;
      this.plan = in.plan();
      this.deadline = deadline;
      this.results = new FileResult[in.changes().size()];
      this.kept = new byte[in.changes().size()][][];
    }

    boolean overBudget() {
      return System.nanoTime() - deadline >= 0;
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
        String gitSegment = gitDirSegment(segments);
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

    // ---- content rules: secrets and line figures, under the budget ----

    void contentRules() {
      List<Change> changes = in.changes();
      int version = plan.version();
      for (int i = 0; i < changes.size(); i++) {
        Change c = changes.get(i);
        boolean changedContent = !c.oldId().equals(c.newId());
        boolean scan = c.newMode().isFile() && changedContent;
        boolean readOld = !c.linesKnown() && changedContent && c.oldMode().isFile() && c.newMode() != Mode.GITLINK;
        if (!scan && !readOld) {
          if (!c.linesKnown()) {
            results[i] = linesWithoutContent(c);
          }
          continue;
        }
        Key key = new Key(c.path(), c.oldId(), c.newId(), version);
        FileResult r = in.cache().get(key);
        if (r != null) {
          hits++;
        } else {
          misses++;
          if (overBudget()) {
            if (scan) {
              unchecked.add(new Unchecked(Rule.SECRET.id(), c.path(), "time budget of " + in.budget().toMillis() + " ms spent"));
            }
            continue;
          }
          try {
            r = contentOf(i, c, scan);
          } catch (IOException | RuntimeException e) {
            unchecked.add(new Unchecked(scan ? Rule.SECRET.id() : Rule.MAX_CHANGED_LINES.id(), c.path(),
                "cannot read its content: " + e));
            continue;
          }
          in.cache().put(key, r);
        }
        results[i] = r;
        violations.addAll(r.violations());
      }
    }

    /** Line figures that need no content: submodules, mode-only changes, symlinks (a target is one line). */
    private static FileResult linesWithoutContent(Change c) {
      if (c.oldMode() == Mode.GITLINK || c.newMode() == Mode.GITLINK || c.oldId().equals(c.newId())) {
        return NO_LINES;
      }
      return new FileResult(List.of(), c.newMode() == Mode.SYMLINK ? 1 : 0, c.oldMode() == Mode.SYMLINK ? 1 : 0, true);
    }

    /**
     * Secrets (when {@code scan}) and line figures of one change: exact for additions and deletions, an
     * upper bound for a modification (the lines between the shared head and the shared tail), which
     * {@link #changedLines} replaces by a real diff only if the bounds add up to more than the limit.
     */
    private FileResult contentOf(int index, Change c, boolean scan) throws IOException {
      SecretScanner scanner = in.scanner();
      List<Violation> found = new ArrayList<>(0);
      byte[] after = null;
      boolean noLines = false;
      if (scan) {
        after = in.blobs().read(c.newId(), scanner.maxBytes());
        SecretScanner.Scan s = scanner.scan(after, Math.max(c.size(), after.length));
        if (!s.findings().isEmpty()) {
          Set<String> inBase = secretsOfBase(c);
          for (SecretScanner.Finding f : s.findings()) {
            boolean old = inBase.contains(f.fingerprint());
            found.add(Violation.of(Rule.SECRET, c.path(), old ? Severity.INFO : Rule.SECRET.severity(),
                f.message() + " (" + f.rule() + ")" + (old ? "; the base version of the file already held it" : "")));
          }
        }
        if (s.truncated()) {
          found.add(Violation.of(Rule.SECRET_SCAN_CAPPED, c.path(), quote(c.path()) + " is " + s.totalBytes()
              + " bytes: only the first " + s.scannedBytes() + " were scanned for secrets"));
        }
        // files too large to diff and binary files count no lines, as in the checkpoint's own counts
        noLines = s.truncated() || Lines.isBinary(after);
      }
      if (c.linesKnown()) {
        return new FileResult(found, c.linesAdded(), c.linesRemoved(), true);
      }
      if (noLines || c.oldMode() == Mode.GITLINK) {
        return new FileResult(found, 0, 0, true);
      }
      int added = after != null ? Lines.count(after) : c.newMode() == Mode.SYMLINK ? 1 : 0;
      if (!c.oldMode().isFile()) {
        return new FileResult(found, added, c.oldMode() == Mode.SYMLINK ? 1 : 0, c.oldMode() == Mode.ABSENT);
      }
      byte[] before = in.blobs().read(c.oldId(), scanner.maxBytes());
      if (before.length >= scanner.maxBytes() || Lines.isBinary(before)) {
        return new FileResult(found, 0, 0, true);
      }
      if (after == null) {
        return new FileResult(found, added, Lines.count(before), c.newMode() == Mode.ABSENT);
      }
      int[] bound = Lines.bound(before, after);
      if (bound[2] == 0 && keptBytes + before.length + after.length <= KEEP_FOR_DIFF_BYTES) {
        kept[index] = new byte[][] {before, after};
        keptBytes += before.length + after.length;
      }
      return new FileResult(found, bound[0], bound[1], bound[2] == 1);
    }

    /** Fingerprints of the secrets in the base version of the file (only asked when the new one has some). */
    private Set<String> secretsOfBase(Change c) throws IOException {
      if (!c.oldMode().isFile()) {
        return Set.of();
      }
      byte[] before = in.blobs().read(c.oldId(), in.scanner().maxBytes());
      Set<String> out = new HashSet<>();
      for (SecretScanner.Finding f : in.scanner().scan(before).findings()) {
        out.add(f.fingerprint());
      }
      return out;
    }

    // ---- max-changed-lines ----

    void changedLines() {
      long limit = plan.limits().maxChangedLines();
      List<Change> changes = in.changes();
      long exact = 0;
      long bound = 0;
      List<Integer> inexact = new ArrayList<>();
      List<String> unknown = new ArrayList<>();
      for (int i = 0; i < changes.size(); i++) {
        Change c = changes.get(i);
        FileResult r = results[i];
        if (c.linesKnown()) {
          exact += c.linesAdded() + c.linesRemoved();
        } else if (r == null) {
          unknown.add(c.path());
        } else if (r.exactLines()) {
          exact += r.added() + r.removed();
        } else {
          bound += r.added() + r.removed();
          inexact.add(i);
        }
      }
      if (unknown.isEmpty() && exact + bound <= limit) {
        return;
      }
      // the bound is not enough: real diffs, under the budget, until the answer is known
      for (int k = 0; k < inexact.size() && exact + bound > limit && exact <= limit; k++) {
        int i = inexact.get(k);
        Change c = changes.get(i);
        if (overBudget()) {
          break;
        }
        try {
          byte[][] both = kept[i] != null ? kept[i] : new byte[][] {in.blobs().read(c.oldId(), in.scanner().maxBytes()),
              in.blobs().read(c.newId(), in.scanner().maxBytes())};
          int[] counts = Lines.diff(both[0], both[1]);
          FileResult r = results[i];
          FileResult exactResult = new FileResult(r.violations(), counts[0], counts[1], true);
          in.cache().put(new Key(c.path(), c.oldId(), c.newId(), plan.version()), exactResult);
          bound -= r.added() + r.removed();
          exact += counts[0] + counts[1];
        } catch (IOException | RuntimeException e) {
          unknown.add(c.path());
          break;
        }
      }
      if (exact > limit) {
        violations.add(Violation.of(Rule.MAX_CHANGED_LINES, Rule.WHOLE_CHECKPOINT, (unknown.isEmpty() && bound == 0 ? "" : "at least ")
            + exact + " lines changed since the base (added + removed), above the plan's limit of " + limit));
      } else if (!unknown.isEmpty() || exact + bound > limit) {
        unchecked.add(new Unchecked(Rule.MAX_CHANGED_LINES.id(), Rule.WHOLE_CHECKPOINT, (unknown.isEmpty()
            ? "" : unknown.size() + " files were not read; ") + "time budget of " + in.budget().toMillis()
            + " ms spent before the line count was known (" + exact + " counted, up to " + bound + " more)"));
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

  /**
   * The segment that is (or that git, Windows or macOS would take for) {@code .git}, or null: {@code .git}
   * in any case, with trailing dots or spaces (NTFS drops them), with ignorable code points (HFS+ drops
   * them), or the NTFS short name {@code git~1}.
   */
  static String gitDirSegment(String[] segments) {
    for (String s : segments) {
      if (s.length() >= 4 && isGitName(s)) {
        return s;
      }
    }
    return null;
  }

  private static boolean isGitName(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (!isHfsIgnorable(ch)) {
        b.append(Character.toLowerCase(ch));
      }
    }
    int end = b.length();
    while (end > 0 && (b.charAt(end - 1) == '.' || b.charAt(end - 1) == ' ')) {
      end--;
    }
    String name = b.substring(0, end);
    return name.equals(".git") || name.equals("git~1");
  }

  private static boolean isHfsIgnorable(char ch) {
    return (ch >= '\u200b' && ch <= '\u200f') || (ch >= '\u202a' && ch <= '\u202e') || (ch >= '\u206a' && ch <= '\u206f')
        || ch == '\ufeff';
  }

  private static String verb(Change c) {
    return switch (c.kind()) {
      case ADDED -> "added";
      case MODIFIED -> "modified";
      case DELETED -> "deleted";
      case TYPE_CHANGED -> "changed into a " + c.newMode().name().toLowerCase(Locale.ROOT);
    };
  }

  private static String quote(String s) {
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
      if (gitDirSegment(new String[] {s}) != null) {
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
