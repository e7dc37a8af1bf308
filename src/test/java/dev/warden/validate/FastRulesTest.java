package dev.warden.validate;

import static dev.warden.testing.GitRepos.git;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.plan.Plan;
import dev.warden.secrets.SecretScanner;
import dev.warden.testing.GitRepos;
import dev.warden.validate.Change.Mode;
import dev.warden.validate.FastRules.Input;
import dev.warden.validate.FastRules.Result;
import dev.warden.validate.FastRules.Unchecked;
import dev.warden.validate.FastRules.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each rule on hostile and on innocent input, against real repositories made with the git CLI. */
class FastRulesTest {

  /** Fake, random, in GitHub's shape: see src/test/resources/secrets/README.md. */
  private static final String TOKEN = "ghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8";

  @TempDir
  Path tmp;
  private Path repo;
  private ObjectId base;

  @BeforeEach
  void setUp() {
    repo = GitRepos.create(tmp.resolve("repo"));
    base = head();
  }

  // ------------------------------------------------------------------ innocent

  @Test
  void anOrdinaryChangeIsValid() throws IOException {
    write("src/Main.java", "class Main {\n  public static void main(String[] a) {}\n}\n");
    write("a.txt", "hello\nworld\n");
    write(".gitignore", "target/\n");
    write(".github/workflows/ci.yml", "on: push\n");
    Result r = check(Plan.defaults(), commit());
    assertEquals(Verdict.VALID, r.verdict(), r.toString());
    assertEquals(List.of(), r.violations());
    assertEquals(List.of(), r.unchecked());
  }

  // ------------------------------------------------------------------ paths

  @Test
  void nonCanonicalPathsAreCritical() throws IOException {
    write("ok.txt", "x\n");
    write("win\\dows.txt", "backslash\n");
    Result fromGit = check(Plan.defaults(), commit());
    assertEquals(List.of("path win\\dows.txt critical"), summary(fromGit));

    // what git itself will not store, but a patch or a hand-made tree may carry
    List<Change> changes = List.of(added("../escape.txt"), added("/etc/passwd"), added("a/./b"), added("a//b"),
        added("a\0b"), added("tab\there"), added("dir/"), added("fine/name.txt"));
    Result r = FastRules.check(handMade(Plan.defaults(), changes));
    assertEquals(Verdict.INVALID, r.verdict());
    assertEquals(7, r.violations(Severity.CRITICAL).size(), r.toString());
    assertTrue(r.violations().stream().allMatch(v -> v.rule().equals("path")), r.toString());
    assertTrue(message(r, "../escape.txt").contains("'..' segment"), r.toString());
    assertTrue(message(r, "/etc/passwd").contains("absolute"), r.toString());
  }

  @Test
  void gitDirectoriesInAnyDisguiseAreCritical() {
    List<Change> changes = List.of(added(".git/hooks/pre-commit"), added("sub/.git/config"), added(".GIT/config"),
        added("x/.git./HEAD"), added("x/.git /HEAD"), added("GIT~1/config"), added("x/.g\u200cit/hooks/post-checkout"),
        added(".gitignore"), added(".github/dependabot.yml"), added(".gitattributes"), added("src/git/x"),
        added("legit/file"));
    Result r = FastRules.check(handMade(Plan.defaults(), changes));
    List<String> flagged = r.violations().stream().filter(v -> v.rule().equals("git-dir")).map(Violation::path).toList();
    assertEquals(List.of(".git/hooks/pre-commit", "sub/.git/config", ".GIT/config", "x/.git./HEAD", "x/.git /HEAD",
        "GIT~1/config", "x/.g\u200cit/hooks/post-checkout"), flagged);
    assertTrue(r.violations().stream().allMatch(v -> v.severity() == Severity.CRITICAL));
  }

  // ------------------------------------------------------------------ symlinks

  @Test
  void symlinksInsideAreWarningsAndEscapesCritical() throws IOException {
    write("src/lib/real.txt", "x\n");
    symlink("src/inside", "lib/real.txt");
    symlink("src/lib/up-and-back", "../../a.txt");
    symlink("src/escape", "../../etc/passwd");
    symlink("absolute", "/etc/passwd");
    symlink("config-link", ".git/config");
    symlink("dangling-inside", "does/not/exist");
    ObjectId cp = commit();
    Files.delete(repo.resolve("absolute")); // the commit has it; @TempDir need not meet it
    Result r = check(Plan.defaults(), cp);
    Map<String, String> bySeverity = new HashMap<>();
    for (Violation v : r.violations()) {
      assertEquals("symlink", v.rule());
      bySeverity.put(v.path(), v.severity().label());
    }
    assertEquals(Map.of("src/inside", "warning", "src/lib/up-and-back", "warning", "dangling-inside", "warning",
        "src/escape", "critical", "absolute", "critical", "config-link", "critical"), bySeverity);
    assertTrue(message(r, "src/inside").contains("'src/lib/real.txt'"), r.toString());
    assertTrue(message(r, "config-link").contains("into a git directory"), r.toString());
  }

  @Test
  void aLinkCannotEscapeThroughAnotherLinkThatDidNotChange() throws IOException {
    symlink("up", "..");
    ObjectId withUp = commit();
    base = withUp; // the escaping link is in the base, unchanged by the checkpoint
    symlink("src/sneaky", "../up/etc/passwd"); // lexically "up/etc/passwd", inside; really "../etc/passwd"
    symlink("src/loop", "loop");
    Result r = check(Plan.defaults(), commit());
    assertEquals(Severity.CRITICAL, severity(r, "src/sneaky"), r.toString());
    assertTrue(message(r, "src/sneaky").contains("through the link up"), r.toString());
    assertEquals(Severity.WARNING, severity(r, "src/loop"), r.toString());
    assertTrue(message(r, "src/loop").contains("loop"), r.toString());
  }

  // ------------------------------------------------------------------ executables

  @Test
  void newExecutablesAndModeChangesAreWarnings() throws IOException {
    write("tools/already.sh", "#!/bin/sh\n");
    executable("tools/already.sh");
    base = commit();
    write("tools/new.sh", "#!/bin/sh\necho hi\n");
    executable("tools/new.sh");
    executable("a.txt");
    write("tools/already.sh", "#!/bin/sh\necho changed\n"); // stays executable: nothing new
    Result r = check(Plan.defaults(), commit());
    assertEquals(List.of("executable a.txt warning", "executable tools/new.sh warning"), sorted(summary(r)));
    assertTrue(message(r, "a.txt").contains("became executable"), r.toString());
    assertEquals(Verdict.VALID, r.verdict(), "warnings alone keep a checkpoint valid");
  }

  // ------------------------------------------------------------------ allowed, forbidden, planned

  @Test
  void forbiddenAndOutsideAllowedPathsAreErrors() throws IOException {
    write("src/ok.java", "ok\n");
    write("src/keys/server.pem", "not really a key\n");
    write("docs/readme.md", "docs\n");
    git(repo, "rm", "-q", "a.txt"); // deleting outside the allowed paths is a change there too
    Plan plan = plan(List.of("src/**"), List.of("*.pem"), Optional.empty(), limits());
    Result r = check(plan, commit());
    assertEquals(List.of("forbidden-path src/keys/server.pem error", "outside-allowed a.txt error",
        "outside-allowed docs/readme.md error"), sorted(summary(r)));
    assertEquals(Verdict.INVALID, r.verdict());
    assertTrue(message(r, "a.txt").contains("'a.txt' is deleted"), r.toString());
  }

  @Test
  void unplannedFilesAreWarningsOnlyWhenThePlanListsFiles() throws IOException {
    write("src/Main.java", "main\n");
    write("src/Other.java", "other\n");
    write("src/gen/Made.java", "generated\n");
    ObjectId cp = commit();
    Plan planned = plan(List.of("**"), List.of(), Optional.of(List.of("src/Main.java", "src/gen/**")), limits());
    Result r = check(planned, cp);
    assertEquals(List.of("unplanned-file src/Other.java warning"), summary(r));
    assertEquals(List.of(), check(plan(List.of("**"), List.of(), Optional.empty(), limits()), cp).violations());
  }

  @Test
  void aBadGlobInAStoredPlanIsAnErrorNotASilentPass() throws IOException {
    write("src/x.txt", "x\n");
    Result r = check(plan(List.of("src/**"), List.of("[unclosed"), Optional.empty(), limits()), commit());
    assertEquals(Verdict.INVALID, r.verdict());
    assertEquals("plan-glob", r.violations().get(0).rule());
    assertTrue(r.violations().get(0).message().contains("forbiddenPaths[0]"), r.toString());
  }

  // ------------------------------------------------------------------ limits

  @Test
  void tooManyChangedLinesIsAnErrorWithTheExactCount() throws IOException {
    write("big.txt", "line\n".repeat(30));
    Result r = check(plan(List.of("**"), List.of(), Optional.empty(), limits(20, null, null)), commit());
    assertEquals(List.of("max-changed-lines . error"), summary(r));
    assertTrue(r.violations().get(0).message().startsWith("30 lines changed"), r.toString());
  }

  @Test
  void aSmallEditOfALargeFileIsCountedByARealDiffWhenTheBoundIsNotEnough() throws IOException {
    write("big.txt", "line %d\n".repeat(100).formatted(range(100)));
    base = commit();
    String edited = Files.readString(repo.resolve("big.txt")).replace("line 50\n", "line fifty\n");
    write("big.txt", edited);
    ObjectId cp = commit();
    // bound: 100 + 100 lines > 50; the real diff: 1 added, 1 removed
    ValidationCache cache = new ValidationCache(100);
    Plan plan = plan(List.of("**"), List.of(), Optional.empty(), limits(50, null, null));
    assertEquals(List.of(), check(plan, cp, in -> in.withCache(cache)).violations());
    Plan tight = plan(List.of("**"), List.of(), Optional.empty(), limits(1, null, null));
    Result r = check(tight, cp, in -> in.withCache(cache));
    assertEquals(List.of("max-changed-lines . error"), summary(r));
    assertTrue(r.violations().get(0).message().startsWith("2 lines changed"), r.toString());
  }

  @Test
  void tooManyFilesTooLargeFilesAndDiskQuotaAreErrors() throws IOException {
    write("one.txt", "1\n");
    write("two.txt", "2\n");
    write("big.bin", "x".repeat(500));
    Plan plan = plan(List.of("**"), List.of(), Optional.empty(), limits(10_000, 2L, 100L));
    Result r = check(plan, commit(), in -> in.withDiskUsage(2L << 30));
    assertEquals(List.of("disk-quota . error", "max-changed-files . error", "max-file-bytes big.bin error"), sorted(summary(r)));
    assertTrue(message(r, "big.bin").contains("500 bytes, above the plan's limit of 100"), r.toString());
  }

  @Test
  void filesTheCaptureLeftOutForTheirSizeAreErrorsNamingEachPath() throws IOException {
    write("notes.txt", "beside them\n");
    ObjectId cp = commitWithMessage("warden: checkpoint of f (debounce)\n\n"
        + "Warden-Oversized: 2147483648 104857600 assets%2Fhuge+image.img\n"
        + "Warden-Oversized: 5000 1000 data.csv\n");
    Result r = check(Plan.defaults(), cp);
    assertEquals(Verdict.INVALID, r.verdict(), "a checkpoint that lacks a file's content cannot be proposed");
    assertEquals(List.of("file-too-large assets/huge image.img error", "file-too-large data.csv error"), sorted(summary(r)));
    assertTrue(message(r, "assets/huge image.img").contains("2147483648 bytes (its size, sparse or not), above the cap of 104857600"),
        r.toString());

    // more left out than the message names: said for the whole checkpoint; a damaged line still counts
    ObjectId many = commitWithMessage("warden: checkpoint\n\nWarden-Oversized: 9 5 a.bin\nWarden-Oversized: garbage\n"
        + "Warden-Oversized-Total: 250\n");
    Result r2 = check(Plan.defaults(), many);
    assertEquals(List.of("file-too-large . error", "file-too-large a.bin error", "file-too-large garbage error"), sorted(summary(r2)));
    assertTrue(message(r2, ".").startsWith("250 files were left out"), r2.toString());

    // the same tree judged as a tree, or a commit that does not say so, has nothing left out
    try (Repository repository = open(); ObjectReader reader = repository.newObjectReader()) {
      ObjectId tree = GitChanges.treeOf(reader, cp);
      assertEquals(FastRules.Skipped.NONE, GitChanges.oversized(reader, tree));
      assertEquals(FastRules.Skipped.NONE, GitChanges.oversized(reader, base));
    }
  }

  @Test
  void unknownDiskUsageIsReportedUncheckedNeverPassed() throws IOException {
    write("x.txt", "x\n");
    ObjectId cp = commit();
    try (Repository r = open(); ObjectReader reader = r.newObjectReader()) {
      Result result = FastRules.check(Input.fromGit(reader, base, cp, Plan.defaults()));
      assertEquals(Verdict.DEGRADED, result.verdict());
      assertEquals(List.of(new Unchecked("disk-quota", ".", "the worktree's disk usage was not given")), result.unchecked());
    }
  }

  // ------------------------------------------------------------------ secrets

  @Test
  void aNewSecretIsCriticalAndMasked() throws IOException {
    write("deploy.sh", "#!/bin/sh\nexport GITHUB_TOKEN=" + TOKEN + "\n");
    write("notes.md", "tokens look like ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    Result r = check(Plan.defaults(), commit());
    assertEquals(List.of("secret deploy.sh critical"), summary(r));
    assertEquals(Verdict.INVALID, r.verdict());
    String message = r.violations().get(0).message();
    assertTrue(message.contains("line 2") && message.contains("github-token") && message.contains("****2eW8"), message);
    assertFalse(message.contains(TOKEN.substring(4, 20)), message);
  }

  @Test
  void aSecretTheBaseAlreadyHeldIsOnlyInformation() throws IOException {
    write("legacy.env", "GITHUB_TOKEN=" + TOKEN + "\n");
    base = commit();
    write("legacy.env", "# kept from before\nGITHUB_TOKEN=" + TOKEN + "\nOTHER=1\n");
    Result r = check(Plan.defaults(), commit());
    assertEquals(List.of("secret legacy.env info"), summary(r));
    assertTrue(r.violations().get(0).message().contains("already held it"), r.toString());
    assertEquals(Verdict.VALID, r.verdict());
  }

  @Test
  void filesOverTheScanCapAreReported() throws IOException {
    write("data.csv", "a,b,c\n".repeat(100));
    Result r = check(Plan.defaults(), commit(), in -> in.withScanner(new SecretScanner(64)));
    assertEquals(List.of("secret-scan-capped data.csv warning"), summary(r));
    assertTrue(r.violations().get(0).message().contains("only the first 64"), r.toString());
  }

  // ------------------------------------------------------------------ the budget

  @Test
  void aSpentBudgetDegradesAndNamesWhatWasNotChecked() throws IOException {
    write("src/a.java", "a\n");
    write("src/b.java", "b\n");
    ObjectId cp = commit();
    for (Duration budget : List.of(Duration.ZERO, Duration.ofNanos(1))) {
      Result r = check(Plan.defaults(), cp, in -> in.withBudget(budget));
      assertEquals(Verdict.DEGRADED, r.verdict(), r.toString());
      assertEquals(List.of("secret src/a.java", "secret src/b.java", "max-changed-lines ."),
          r.unchecked().stream().map(u -> u.rule() + " " + u.path()).toList());
    }
  }

  @Test
  void aSpentBudgetDoesNotHideWhatIsKnownToBeInvalid() throws IOException {
    write("src/a.java", "a\n");
    Plan plan = plan(List.of("docs/**"), List.of(), Optional.empty(), limits());
    Result r = check(plan, commit(), in -> in.withBudget(Duration.ZERO));
    assertEquals(Verdict.INVALID, r.verdict());
    assertFalse(r.unchecked().isEmpty());
  }

  @Test
  void cachedResultsAreUsedEvenWhenTheBudgetIsSpent() throws IOException {
    write("src/a.java", "a\n");
    ObjectId cp = commit();
    ValidationCache cache = new ValidationCache(10);
    assertEquals(Verdict.VALID, check(Plan.defaults(), cp, in -> in.withCache(cache)).verdict());
    Result r = check(Plan.defaults(), cp, in -> in.withCache(cache).withBudget(Duration.ZERO));
    assertEquals(Verdict.VALID, r.verdict(), r.toString());
  }

  // ------------------------------------------------------------------ the cache

  @Test
  void theSecondRunOfACheckpointHitsTheCache() throws IOException {
    write("src/a.java", "a\n");
    write("src/b.java", "b\nb\n");
    write("deploy.sh", "export GITHUB_TOKEN=" + TOKEN + "\n");
    ObjectId cp = commit();
    ValidationCache cache = new ValidationCache(100);
    Result first = check(Plan.defaults(), cp, in -> in.withCache(cache));
    assertEquals(0, first.cacheHits());
    assertEquals(3, first.cacheMisses());
    Result second = check(Plan.defaults(), cp, in -> in.withCache(cache));
    assertEquals(3, second.cacheHits());
    assertEquals(0, second.cacheMisses());
    assertEquals(1.0, second.cacheHitRate());
    assertEquals(first.violations(), second.violations());
    assertEquals(0.5, cache.hitRate());
    // a new plan version is a new key
    Plan next = new Plan(2, List.of("**"), List.of(), Optional.empty(), Plan.Limits.defaults(), List.of(), Optional.empty());
    assertEquals(3, check(next, cp, in -> in.withCache(cache)).cacheMisses());
  }

  @Test
  void theCacheEvictsTheLeastRecentlyUsed() {
    ValidationCache cache = new ValidationCache(2);
    ValidationCache.Key a = new ValidationCache.Key("a", ObjectId.zeroId(), ObjectId.zeroId(), 1);
    ValidationCache.Key b = new ValidationCache.Key("b", ObjectId.zeroId(), ObjectId.zeroId(), 1);
    ValidationCache.Key c = new ValidationCache.Key("c", ObjectId.zeroId(), ObjectId.zeroId(), 1);
    ValidationCache.FileResult r = new ValidationCache.FileResult(List.of(), 0, 0, true);
    cache.put(a, r);
    cache.put(b, r);
    cache.get(a);
    cache.put(c, r);
    assertEquals(2, cache.size());
    assertTrue(cache.get(a) != null && cache.get(c) != null);
    assertEquals(null, cache.get(b));
    assertEquals(3, cache.hits());
    assertEquals(1, cache.misses());
    ValidationCache off = ValidationCache.disabled();
    off.put(a, r);
    assertEquals(null, off.get(a));
  }

  // ------------------------------------------------------------------ git plumbing

  @Test
  void changesFromGitCarryModesSizesAndTargets() throws IOException {
    write("d", "a file that becomes a directory\n");
    base = commit();
    Files.delete(repo.resolve("d"));
    write("d/inner.txt", "now a directory\n");
    write("a.txt", "hello\nagain\n");
    symlink("link", "a.txt");
    write("run.sh", "#!/bin/sh\n");
    executable("run.sh");
    ObjectId cp = commit();
    try (Repository r = open(); ObjectReader reader = r.newObjectReader()) {
      List<Change> changes = GitChanges.between(reader, base, cp);
      Map<String, Change> byPath = new HashMap<>();
      changes.forEach(c -> byPath.put(c.path(), c));
      assertEquals(List.of("a.txt", "d", "d/inner.txt", "link", "run.sh"), changes.stream().map(Change::path).toList());
      assertEquals(Change.Kind.MODIFIED, byPath.get("a.txt").kind());
      assertEquals(12, byPath.get("a.txt").size());
      assertEquals(Change.Kind.DELETED, byPath.get("d").kind());
      assertEquals(Change.Kind.ADDED, byPath.get("d/inner.txt").kind());
      assertEquals(Mode.SYMLINK, byPath.get("link").newMode());
      assertEquals(Optional.of("a.txt"), byPath.get("link").symlinkTarget());
      assertEquals(Mode.EXECUTABLE, byPath.get("run.sh").newMode());
      assertTrue(changes.stream().allMatch(c -> c.linesAdded() == Change.UNKNOWN_LINES));
    }
  }

  @Test
  void resolvesLinksLexically() throws IOException {
    FastRules.Symlinks none = FastRules.Symlinks.NONE;
    assertEquals(new FastRules.Resolution(FastRules.Outcome.INSIDE, "b/c", List.of()), FastRules.resolve("a/link", "../b/./c", none));
    assertEquals(FastRules.Outcome.ESCAPES, FastRules.resolve("a/link", "../../x", none).outcome());
    assertEquals(FastRules.Outcome.INSIDE, FastRules.resolve("link", "", none).outcome());
    Map<String, String> links = Map.of("a/b", "../c/d", "c/d", "../../..");
    FastRules.Symlinks lookup = p -> Optional.ofNullable(links.get(p));
    assertEquals(new FastRules.Resolution(FastRules.Outcome.ESCAPES, "above the worktree root", List.of("a/b", "c/d")),
        FastRules.resolve("x", "a/b/y", lookup));
    assertNotEquals(FastRules.Outcome.ESCAPES, FastRules.resolve("x", "a/q", lookup).outcome());
  }

  // ------------------------------------------------------------------ helpers

  private Result check(Plan plan, ObjectId checkpoint) throws IOException {
    return check(plan, checkpoint, UnaryOperator.identity());
  }

  private Result check(Plan plan, ObjectId checkpoint, UnaryOperator<Input> tweak) throws IOException {
    try (Repository r = open(); ObjectReader reader = r.newObjectReader()) {
      return FastRules.check(tweak.apply(Input.fromGit(reader, base, checkpoint, plan).withDiskUsage(1000)));
    }
  }

  private Repository open() throws IOException {
    return new FileRepositoryBuilder().setGitDir(repo.resolve(".git").toFile()).setMustExist(true).build();
  }

  private static Input handMade(Plan plan, List<Change> changes) {
    return Input.of(plan, changes, FastRules.Blobs.of(id -> "x\n".getBytes(StandardCharsets.UTF_8))).withDiskUsage(0);
  }

  private static Change added(String path) {
    return Change.added(path, Mode.REGULAR, ObjectId.fromString("2e65efe2a145dda7ee51d1741299f848e5bf752e"), 2);
  }

  private static Plan plan(List<String> allowed, List<String> forbidden, Optional<List<String>> planned, Plan.Limits limits) {
    return new Plan(1, allowed, forbidden, planned, limits, List.of(), Optional.empty());
  }

  private static Plan.Limits limits() {
    return Plan.Limits.defaults();
  }

  private static Plan.Limits limits(long lines, Long files, Long fileBytes) {
    return new Plan.Limits(lines, Optional.ofNullable(files), Optional.ofNullable(fileBytes), Plan.DEFAULT_DISK_QUOTA_BYTES);
  }

  private static Object[] range(int n) {
    Object[] out = new Object[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }

  private void write(String path, String content) throws IOException {
    Path file = repo.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private void symlink(String path, String target) throws IOException {
    Path link = repo.resolve(path);
    Files.createDirectories(link.getParent());
    Files.createSymbolicLink(link, Path.of(target));
  }

  private void executable(String path) throws IOException {
    Files.setPosixFilePermissions(repo.resolve(path), PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private ObjectId commit() {
    git(repo, "add", "-A");
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "--allow-empty", "-m", "change");
    return head();
  }

  private ObjectId commitWithMessage(String message) throws IOException {
    git(repo, "add", "-A");
    Path file = tmp.resolve("message.txt");
    Files.writeString(file, message);
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=Test", "commit", "-q", "--allow-empty", "--cleanup=verbatim",
        "-F", file.toString());
    return head();
  }

  private ObjectId head() {
    return ObjectId.fromString(git(repo, "rev-parse", "HEAD"));
  }

  private static List<String> summary(Result r) {
    return r.violations().stream().map(v -> v.rule() + " " + v.path() + " " + v.severity().label()).toList();
  }

  private static List<String> sorted(List<String> list) {
    return list.stream().sorted().toList();
  }

  private static String message(Result r, String path) {
    return r.violations().stream().filter(v -> v.path().equals(path)).map(Violation::message).findFirst()
        .orElseThrow(() -> new AssertionError("no violation for " + path + " in " + r));
  }

  private static Severity severity(Result r, String path) {
    return r.violations().stream().filter(v -> v.path().equals(path)).map(Violation::severity).findFirst()
        .orElseThrow(() -> new AssertionError("no violation for " + path + " in " + r));
  }
}
