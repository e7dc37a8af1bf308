package dev.warden.apply;

import dev.warden.git.GitCli;
import dev.warden.git.GitFailure;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Landing on a branch that is checked out in a user's working tree (main or linked, not one of
 * Warden's own): as if the user had run {@code git merge --ff-only <landed commit>} there. Before the
 * compare-and-swap of the branch, {@link #blocked} refuses when a path the landing changes has local
 * changes (staged, unstaged, untracked or ignored) or when the worktree's index is locked; after it,
 * {@link #update} moves that worktree's index entries and files of exactly those paths with
 * {@code git read-tree -m -u <old> <new>} (a two-way merge: unrelated staged and unstaged edits stay
 * as they are). Git runs there with hooks and fsmonitor off.
 *
 * <p>Crash safety: {@link #record} writes a small "landing in progress" file under
 * {@code <data>/landings} before the swap and {@link #forget} removes it once the files moved;
 * {@link #recover} (at boot and before every landing) finishes what a killed daemon left: the branch
 * at the new commit and the worktree still at the old one gets the same {@code read-tree}; when that
 * cannot be done, {@link Pending#command} is what the user must run.
 */
public final class CheckedOutTargets {

  private static final Logger log = LoggerFactory.getLogger(CheckedOutTargets.class);
  private static final String SUFFIX = ".landing";

  /** {@code warden.apply.checked-out-target}. */
  public enum Policy {
    /** Move the branch and the working tree together (the default). */
    UPDATE,
    /** Wait until the branch is checked out nowhere (the behaviour before 0.11). */
    WAIT
  }

  /** Why the worktree cannot take the landing now: local changes of landed {@code paths}, or a held index lock. */
  public record Blocked(List<String> paths, boolean indexLocked) {
    public Blocked {
      paths = List.copyOf(paths);
    }

    public String describe() {
      return indexLocked ? "its index is locked (index.lock: a git command is running there, or one crashed and left it)"
          : "it has local changes to " + String.join(", ", paths.size() > 20 ? paths.subList(0, 20) : paths)
              + (paths.size() > 20 ? " and " + (paths.size() - 20) + " more" : "") + " (commit, stash or revert them)";
    }
  }

  /** A landing whose branch moved but whose working tree could not follow yet. */
  public record Pending(String commit, Path worktree, String ref, String before, String reason) {
    /** What the user runs to finish it by hand. */
    public String command() {
      return "git -C " + worktree + " read-tree -m -u " + before + " " + commit;
    }
  }

  /** Test hook: called between the branch move and the working tree update. */
  @FunctionalInterface
  public interface Hold {
    void run();
  }

  /** No hold (production). */
  public static final Hold NO_HOLD = () -> { };

  /**
   * {@code warden.apply.hold-after-branch-move}, tests only: creates {@code marker} and stops there
   * (the test kills the daemon); blank for none.
   */
  public static Hold holdAt(String marker) {
    if (marker == null || marker.isBlank()) {
      return NO_HOLD;
    }
    return () -> {
      try {
        Files.writeString(Path.of(marker), "held\n");
        log.warn("holding between the branch move and the working tree update until killed ({})", marker);
        Thread.sleep(120_000);
      } catch (IOException e) {
        log.warn("cannot write {}: {}", marker, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  private final GitCli git;
  private final Path records;
  private final List<Path> ownTrees;
  private final Policy policy;
  private final Hold hold;

  /**
   * @param records where "landing in progress" files live ({@code <data>/landings})
   * @param ownTrees Warden's own worktree parents ({@code <data>/worktrees}, {@code <data>/scratch}): never updated
   */
  public CheckedOutTargets(GitCli git, Path records, List<Path> ownTrees, Policy policy, Hold hold) {
    this.git = git;
    this.records = records.toAbsolutePath().normalize();
    this.ownTrees = ownTrees.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    this.policy = policy;
    this.hold = hold;
  }

  public Policy policy() {
    return policy;
  }

  /** Whether Warden may move this worktree with its branch: the setting says update and it is not Warden's own. */
  public boolean mayUpdate(Path worktree) {
    Path w = worktree.toAbsolutePath().normalize();
    return policy == Policy.UPDATE && ownTrees.stream().noneMatch(w::startsWith);
  }

  /** Why {@code worktree} (at {@code before}) cannot move to {@code after} now, if anything stops it. */
  public Optional<Blocked> blocked(Path gitDir, Path worktree, String before, String after) {
    if (Files.exists(adminDir(worktree).resolve("index.lock"), LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of(new Blocked(List.of(), true));
    }
    List<String> changed = changedPaths(gitDir, before, after);
    TreeSet<String> dirty = new TreeSet<>();
    for (int from = 0; from < changed.size(); from += 500) {
      List<String> args = new ArrayList<>(List.of("--work-tree=" + worktree, "--no-optional-locks", "--literal-pathspecs",
          "status", "--porcelain=v2", "-z", "--untracked-files=all", "--ignored=matching", "--no-renames", "--"));
      args.addAll(changed.subList(from, Math.min(changed.size(), from + 500)));
      String out = checked(worktree, args);
      for (String entry : out.split("\0")) {
        statusPath(entry).ifPresent(dirty::add);
      }
    }
    if (Files.exists(adminDir(worktree).resolve("index.lock"), LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of(new Blocked(List.of(), true));
    }
    return dirty.isEmpty() ? Optional.empty() : Optional.of(new Blocked(List.copyOf(dirty), false));
  }

  /** The path of one {@code git status --porcelain=v2 -z} entry (changed, unmerged, untracked or ignored). */
  static Optional<String> statusPath(String entry) {
    if (entry.startsWith("1 ")) {
      String[] fields = entry.split(" ", 9);
      return fields.length == 9 ? Optional.of(fields[8]) : Optional.empty();
    }
    if (entry.startsWith("2 ")) {
      String[] fields = entry.split(" ", 10);
      return fields.length == 10 ? Optional.of(fields[9]) : Optional.empty();
    }
    if (entry.startsWith("u ")) {
      String[] fields = entry.split(" ", 11);
      return fields.length == 11 ? Optional.of(fields[10]) : Optional.empty();
    }
    if (entry.startsWith("? ") || entry.startsWith("! ")) {
      return Optional.of(entry.substring(2));
    }
    return Optional.empty();
  }

  /** The paths whose content differs between the two commits. */
  public List<String> changedPaths(Path gitDir, String before, String after) {
    GitCli.Result diff = git.run(gitDir, List.of("diff", "--name-only", "-z", "--no-renames", before, after));
    if (!diff.ok()) {
      throw new GitFailure("git diff " + before + " " + after + " failed: " + diff.output());
    }
    return Stream.of(diff.output().split("\0")).filter(p -> !p.isEmpty()).distinct().toList();
  }

  /** Writes the "landing in progress" record, before the branch moves. */
  public void record(Path worktree, String ref, String before, String after) {
    Properties p = new Properties();
    p.setProperty("worktree", worktree.toString());
    p.setProperty("ref", ref);
    p.setProperty("before", before);
    p.setProperty("after", after);
    try {
      Files.createDirectories(records);
      Path tmp = records.resolve(after + SUFFIX + ".tmp");
      try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(out, "warden: landing in progress; the branch may have moved before the working tree");
      }
      Files.move(tmp, records.resolve(after + SUFFIX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new GitFailure("cannot record the landing in " + records + ": " + e.getMessage(), e);
    }
  }

  public void forget(String after) {
    try {
      Files.deleteIfExists(records.resolve(after + SUFFIX));
    } catch (IOException e) {
      log.warn("cannot remove the landing record of {}: {}", after, e.getMessage());
    }
  }

  /** Between the branch move and the files: the test hook. */
  void afterBranchMoved() {
    hold.run();
  }

  /** Moves the worktree's index and files of the landed paths from {@code before} to {@code after}: the failure, if any. */
  public Optional<String> update(Path worktree, String before, String after) {
    // as git merge does first: an entry whose file was touched or edited and reverted (content as
    // committed, stat changed) would otherwise stop read-tree with "not uptodate". Exit 1 only says
    // that some files really have local changes; those are not landed paths (see blocked)
    git.run(worktree.resolve(".git"), List.of("--work-tree=" + worktree, "update-index", "-q", "--refresh"));
    GitCli.Result result = git.run(worktree.resolve(".git"), List.of("--work-tree=" + worktree, "read-tree", "-m", "-u", before, after));
    return result.ok() ? Optional.empty() : Optional.of(result.output().strip());
  }

  /** Finishes every landing a killed daemon left half done; what is still pending (logged with the command to run). */
  public synchronized List<Pending> recover() {
    if (!Files.isDirectory(records)) {
      return List.of();
    }
    List<Pending> pending = new ArrayList<>();
    try (Stream<Path> files = Files.list(records)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).toList()) {
        recoverOne(file).ifPresent(pending::add);
      }
    } catch (IOException e) {
      throw new GitFailure("cannot read " + records + ": " + e.getMessage(), e);
    }
    return pending;
  }

  /** The landing of {@code commit} that is still pending, if any (after trying to finish it). */
  public synchronized Optional<Pending> pending(String commit) {
    Path file = records.resolve(commit + SUFFIX);
    return Files.exists(file) ? recoverOne(file) : Optional.empty();
  }

  private Optional<Pending> recoverOne(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new GitFailure("cannot read " + file + ": " + e.getMessage(), e);
    }
    Path worktree = Path.of(p.getProperty("worktree", ""));
    String ref = p.getProperty("ref", "");
    String before = p.getProperty("before", "");
    String after = p.getProperty("after", "");
    if (!Files.isDirectory(worktree) || before.isEmpty() || after.isEmpty()) {
      log.warn("landing record {} names no working tree any more; dropped", file);
      forget(after);
      return Optional.empty();
    }
    Path gitLink = worktree.resolve(".git");
    GitCli.Result head = git.run(gitLink, List.of("symbolic-ref", "-q", "HEAD"));
    GitCli.Result at = git.run(gitLink, List.of("rev-parse", "--verify", "-q", ref));
    if (!head.ok() || !head.output().strip().equals(ref) || !at.ok()) {
      log.info("landing record {}: {} no longer has {} checked out; nothing to finish", file, worktree, ref);
      forget(after);
      return Optional.empty();
    }
    String now = at.output().strip();
    if (now.equals(before)) {
      log.info("landing record {}: {} never moved (killed before the swap); dropped", file, ref);
      forget(after);
      return Optional.empty();
    }
    if (!now.equals(after)) {
      Pending moved = new Pending(after, worktree, ref, before, ref + " moved on to " + now + " since");
      log.warn("landing record {}: {} moved on to {}; if {} shows the landed change reversed, run: {}", file, ref, now, worktree,
          moved.command());
      forget(after);
      return Optional.empty();
    }
    Optional<String> failed = update(worktree, before, after);
    if (failed.isEmpty()) {
      log.info("finished the landing of {} in {} (the daemon stopped between the branch move and the files)", after, worktree);
      forget(after);
      return Optional.empty();
    }
    Pending pending = new Pending(after, worktree, ref, before, failed.get());
    log.warn("{} is at {} but {} still shows {}: {}; to finish, run: {}", ref, after, worktree, before, failed.get(), pending.command());
    return Optional.of(pending);
  }

  /** A cheap fingerprint of what would unblock {@code worktree}: its index, its index lock, the blocked paths' files. */
  public String fingerprint(Path worktree, List<String> paths) {
    StringBuilder s = new StringBuilder();
    Path admin = adminDir(worktree);
    for (Path f : Stream.concat(Stream.of(admin.resolve("index"), admin.resolve("index.lock"), admin.resolve("HEAD")),
        paths.stream().map(worktree::resolve)).toList()) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        s.append(f).append(':').append(a.lastModifiedTime().toMillis()).append(':').append(a.size()).append(';');
      } catch (IOException e) {
        s.append(f).append(":-;");
      }
    }
    return s.toString();
  }

  /** The worktree's own git directory: {@code <wt>/.git}, or where its {@code .git} file points. */
  Path adminDir(Path worktree) {
    Path dotGit = worktree.resolve(".git");
    if (Files.isDirectory(dotGit, LinkOption.NOFOLLOW_LINKS)) {
      return dotGit;
    }
    GitCli.Result dir = git.run(dotGit, List.of("rev-parse", "--absolute-git-dir"));
    if (!dir.ok()) {
      throw new GitFailure("cannot find the git directory of " + worktree + ": " + dir.output());
    }
    return Path.of(dir.output().strip());
  }

  private String checked(Path worktree, List<String> args) {
    GitCli.Result result = git.run(worktree.resolve(".git"), args);
    if (!result.ok()) {
      throw new GitFailure("git " + String.join(" ", args) + " failed in " + worktree + ": " + result.output());
    }
    return result.output();
  }
}
