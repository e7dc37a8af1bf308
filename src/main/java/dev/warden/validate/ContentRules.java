package dev.warden.validate;

import dev.warden.plan.Plan;
import dev.warden.secrets.SecretScanner;
import dev.warden.validate.Change.Mode;
import dev.warden.validate.FastRules.Input;
import dev.warden.validate.FastRules.Unchecked;
import dev.warden.validate.ValidationCache.FileResult;
import dev.warden.validate.ValidationCache.Key;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The content rules of one {@link FastRules#check}: secrets and line figures ({@code secret},
 * {@code secret-scan-capped}, {@code max-changed-lines}), read one blob at a time under the check's
 * budget and cached per (path, base blob, blob, plan version). Files not read before the budget is
 * spent are reported unchecked, never passed. The rules on paths and modes are {@link FastRules}'
 * own; both add to the same violation and unchecked lists.
 */
final class ContentRules {

  /** Contents kept in memory during one check for the real diffs the line limit may need. */
  private static final long KEEP_FOR_DIFF_BYTES = 32L << 20;

  private static final FileResult NO_LINES = new FileResult(List.of(), 0, 0, true);

  private final Input in;
  private final Plan plan;
  private final long deadline;
  private final List<Violation> violations;
  private final List<Unchecked> unchecked;
  int hits;
  int misses;
  /** Per change (same index): its content result, or null when it was not checked. */
  private final FileResult[] results;
  /** Per change: {before, after} kept from the content pass for a real diff, if one turns out needed. */
  private final byte[][][] kept;
  private long keptBytes;

  ContentRules(Input in, long deadline, List<Violation> violations, List<Unchecked> unchecked) {
    this.in = in;
    this.plan = in.plan();
    this.deadline = deadline;
    this.violations = violations;
    this.unchecked = unchecked;
    this.results = new FileResult[in.changes().size()];
    this.kept = new byte[in.changes().size()][][];
  }

  private boolean overBudget() {
    return System.nanoTime() - deadline >= 0;
  }

  // ---- content rules: secrets and line figures, under the budget ----

  void run() {
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
        found.add(Violation.of(Rule.SECRET_SCAN_CAPPED, c.path(), FastRules.quote(c.path()) + " is " + s.totalBytes()
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
