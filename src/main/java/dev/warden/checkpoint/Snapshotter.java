package dev.warden.checkpoint;

import dev.warden.git.GitFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One feature's checkpoint chain and the worktree it snapshots. Not thread-safe: one caller at a time
 * (the feature's checkpoint actor). Blocking.
 *
 * <p>A checkpoint is the whole worktree (tracked and untracked files, minus ignored ones, minus every
 * {@code .git}) as a commit on a hidden ref whose parent is the previous checkpoint (the first one's:
 * the feature's base). The agent's HEAD, index and branch are never read for writing nor moved.
 *
 * <p>Where the time goes, and why it is small: the worktree is kept in memory as a tree of nodes
 * carrying blob ids, stat data and subtree ids ({@link WorktreeImage}, {@link Nodes}), which {@link
 * WorktreeScan} brings up to date with the disk. A capture lstat()s only the reported
 * paths, hashes only files whose stat changed, re-serialises only the trees above a change, and writes
 * the new objects as one small pack ({@link PackStore}) — no index file, no loose objects, no git
 * process. A periodic full scan (stat only, hashing what changed) heals events the watcher missed.
 */
public final class Snapshotter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);

  /**
   * oversized: the files left out of this capture because they were larger than its cap (see {@link
   * #capture(Collection, boolean, boolean, String, long)}), by path; empty when none.
   */
  public record Capture(ObjectId commit, ObjectId tree, ObjectId parent, boolean unchanged, List<FileChange> changes,
                        int filesChangedSinceBase, long captureNanos, boolean fullScan, List<String> skippedPaths,
                        List<Oversized> oversized) {
    public Capture {
      oversized = List.copyOf(oversized);
    }
  }

  /**
   * A file a capture did not read because its size (the apparent size, as {@code lstat} gives it: a
   * sparse file counts in full) was above the cap. The checkpoint's tree keeps what the previous
   * checkpoint had at that path (nothing, for a new file); the commit message names it in a
   * {@value #OVERSIZED_TRAILER} line so the validator can flag it.
   */
  public record Oversized(String path, long bytes, long limit) {}

  /** Commit-message trailer naming a file left out for its size: {@code <trailer>: <bytes> <limit> <url-encoded path>}. */
  public static final String OVERSIZED_TRAILER = "Warden-Oversized";
  /** Commit-message trailer with how many files were left out in all, when more than the message lists. */
  public static final String OVERSIZED_TOTAL_TRAILER = "Warden-Oversized-Total";
  /** At most this many oversized files are named in a checkpoint's commit message (and its record). */
  public static final int OVERSIZED_LISTED = 100;

  /** kind: ADDED, MODIFIED, DELETED, TYPE_CHANGED (file ↔ symlink ↔ submodule); binary files count 0 lines. */
  public record FileChange(String path, Kind kind, int linesAdded, int linesRemoved, boolean binary) {
    public enum Kind { ADDED, MODIFIED, DELETED, TYPE_CHANGED }
  }

  /** The checkpoint ref no longer points where this snapshotter left it: someone else moved it. */
  public static final class TipMoved extends RuntimeException {
    TipMoved(String message) {
      super(message);
    }
  }

  private final Path worktree;
  private final String refName;
  private final ObjectId base;
  private final FileRepository repo;
  private final ObjectReader reader;
  private final CheckpointHistory history;
  private final PackStore store;
  /**
   * The daemon's pool, owned by the actor system: line counts start there while the capturing thread
   * does its I/O, and the pack store merges there.
   */
  private final Executor background;
  private final CheckpointRef ref;
  /** Used by the line-count task only (one at a time); ObjectReaders are not thread-safe. */
  private final ObjectReader diffReader;
  private final Ignores ignores;
  /** The worktree's own git index, read only. */
  private final WorktreeIndex index;
  private final ByteBuilder treeBuffer = new ByteBuilder();
  /** What the chain believes the worktree holds; the scan brings it up to date with the disk. */
  private final WorktreeImage image = new WorktreeImage();
  private final WorktreeScan scan;
  private final Restorer restorer;

  private Optional<ObjectId> tip;
  private ObjectId parentTree;
  /** The paths the tip commit names as left out (empty after open: the next capture with any records them again). */
  private Set<String> tipOversized = Set.of();
  /** The first full scan after open is seeded with git's index (its stat data and blob ids). */
  private boolean seedPending;
  private boolean closed;

  private Snapshotter(Path gitDir, Path worktree, String refName, ObjectId base, FileRepository repo, Executor background,
      java.time.Duration retireAfter) {
    this.background = background;
    this.worktree = worktree;
    this.refName = refName;
    this.base = base.copy();
    this.repo = repo;
    this.reader = repo.newObjectReader();
    this.history = new CheckpointHistory(repo);
    this.store = new PackStore(repo, gitDir, refName, background, retireAfter);
    this.ref = new CheckpointRef(repo, gitDir, refName);
    this.diffReader = repo.newObjectReader();
    this.ignores = new Ignores(gitDir, repo);
    this.index = new WorktreeIndex(worktree);
    this.scan = new WorktreeScan(worktree, image, ignores, index, store, reader);
    this.restorer = new Restorer(worktree, image, scan, reader, ignores, this::fail);
  }

  /**
   * gitDir: the repository's COMMON git dir (objects and refs/warden/* live there; the feature worktree
   * is a linked worktree of it). worktree: the feature's worktree root. refName: e.g.
   * "refs/warden/login/checkpoints". base: the commit the feature started from. expectedTip: the last
   * checkpoint commit the caller has recorded (empty: none yet). If the ref points elsewhere (a capture
   * whose record was lost in a crash), the ref is reset to expectedTip (or deleted when empty) so the
   * chain only holds recorded checkpoints. background: where line counts, pack merges and spare files
   * run (the daemon passes its blocking dispatcher; whoever owns it stops it).
   */
  public static Snapshotter open(Path gitDir, Path worktree, String refName, ObjectId base, Optional<ObjectId> expectedTip,
      Executor background) {
    return open(gitDir, worktree, refName, base, expectedTip, background, PackStore.RETIRE_AFTER);
  }

  /** retireAfter: how long packs merged away stay on disk for readers (tests shorten it). */
  static Snapshotter open(Path gitDir, Path worktree, String refName, ObjectId base, Optional<ObjectId> expectedTip,
      Executor background, java.time.Duration retireAfter) {
    if (!refName.startsWith("refs/") || !Repository.isValidRefName(refName)) {
      throw new IllegalArgumentException("not a valid ref name: " + refName);
    }
    if (!Files.isDirectory(worktree, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("worktree " + worktree + " is not a directory");
    }
    FileRepository repo;
    try {
      repo = (FileRepository) new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
    } catch (IOException | ClassCastException e) {
      throw new GitFailure("cannot open repository " + gitDir + ": " + e.getMessage(), e);
    }
    Snapshotter s = null;
    try {
      s = new Snapshotter(gitDir, worktree.toAbsolutePath().normalize(), refName, base, repo, background, retireAfter);
      s.reconcileRef(expectedTip);
      s.load();
      return s;
    } catch (IOException e) {
      closeQuietly(s, repo);
      throw new GitFailure("cannot open checkpoints " + refName + " in " + gitDir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(s, repo);
      throw e;
    }
  }

  private static void closeQuietly(Snapshotter s, Repository repo) {
    if (s != null) {
      s.close();
    } else {
      repo.close();
    }
  }

  private void reconcileRef(Optional<ObjectId> expectedTip) throws IOException {
    ref.reconcile(reader, base, expectedTip);
    tip = expectedTip.map(ObjectId::copy);
  }

  /** Builds the image of the parent commit's tree; the first capture compares it with the disk. */
  private void load() throws IOException {
    ObjectId parent = tip.orElse(base);
    try (RevWalk walk = new RevWalk(reader)) {
      parentTree = walk.parseCommit(parent).getTree().copy();
      image.load(reader, parentTree, walk.parseCommit(base).getTree());
    }
    tipOversized = Set.of();
    index.forget();
    seedPending = true;
  }

  private void reloadIfBroken() {
    if (image.isBroken()) {
      try {
        load();
      } catch (IOException e) {
        throw new GitFailure("cannot reload checkpoint state of " + refName + ": " + e.getMessage(), e);
      }
    }
  }

  // ================================================================== capture

  /**
   * Captures the worktree. changedPaths: worktree-relative '/'-separated paths the watcher reported
   * (files or directories; a directory means re-scan it recursively; a path that no longer exists means
   * deleted). fullScan: walk everything (the first capture after open always is one). Only files whose
   * stat differs from the private stat cache are hashed. Writes blobs and only the changed trees, a
   * commit with parent = previous tip (or base), then moves the ref with compare-and-swap. When the tree
   * did not change and commitIfUnchanged is false, writes nothing and returns unchanged=true with the
   * previous commit. Paths that are invalid or escape the worktree are skipped and listed in
   * {@link Capture#skippedPaths()}.
   *
   * @throws TipMoved when the ref was moved by someone else (reopen with the recorded tip)
   */
  public Capture capture(Collection<String> changedPaths, boolean fullScan, boolean commitIfUnchanged, String message) {
    return capture(changedPaths, fullScan, commitIfUnchanged, message, Long.MAX_VALUE);
  }

  /**
   * As {@link #capture(Collection, boolean, boolean, String)}, reading no file larger than
   * {@code maxFileBytes} (by size, not blocks: a sparse file counts in full). Such a file is only
   * lstat()ed: its content is neither read, hashed nor written to the object database. The tree keeps
   * the path as the previous checkpoint had it (absent for a new file), the capture lists it in
   * {@link Capture#oversized()} and the commit message names it ({@value #OVERSIZED_TRAILER}), for as
   * long as the file stays over the cap. A file git's index already vouches for (same stat as the
   * index entry: its blob is in the object database) is not read either, and is not oversized; one
   * exactly as large as the version the tree already holds is hashed (never stored) and, when it is
   * that version, not oversized either: a large file of the base does not spoil every checkpoint.
   */
  public Capture capture(Collection<String> changedPaths, boolean fullScan, boolean commitIfUnchanged, String message,
      long maxFileBytes) {
    ensureOpen();
    if (maxFileBytes < 0) {
      throw new IllegalArgumentException("maxFileBytes must not be negative: " + maxFileBytes);
    }
    long started = System.nanoTime();
    reloadIfBroken();
    boolean full = fullScan || image.needsFullScan();
    WorktreeScan.Pass p = scan.newPass();
    scan.cap(maxFileBytes);
    try {
      if (ignores.refresh()) {
        full = true;
      }
      // every file left out for its size is looked at again: it stays reported while it is too large
      List<String> wasOversized = image.takeOversized();
      if (!full) {
        for (String path : wasOversized) {
          scan.processReported(p, path);
        }
        for (String raw : changedPaths) {
          scan.processReported(p, raw);
        }
      } else {
        for (String raw : changedPaths) {
          if (normalize(raw) == null) {
            p.skipped.add(raw);
          }
        }
        Map<String, WorktreeIndex.Seed> seed = null;
        if (seedPending) {
          seedPending = false;
          seed = index.seed(p.number);
        }
        scan.scanAll(p, seed);
      }
      long tScan = System.nanoTime();
      ObjectId tree = Trees.write(store, treeBuffer, image.root());
      long tTrees = System.nanoTime();
      if (tree == null) {
        tree = store.insert(Constants.OBJ_TREE, new byte[0], 0, 0);
      }
      ObjectId parent = tip.orElse(base);
      List<Oversized> leftOut = image.oversized(maxFileBytes);
      // an unchanged tree is a new checkpoint all the same when what it leaves out changed: a file that
      // grew past the cap while its old version stays in the tree must never hide behind the last checkpoint
      if (tree.equals(parentTree) && !commitIfUnchanged && image.oversizedPaths().equals(tipOversized)) {
        store.discard();
        image.captured();
        return new Capture(parent, tree, parent, true, List.of(), image.filesChangedSinceBase(),
            System.nanoTime() - started, full, List.copyOf(p.skipped), leftOut);
      }
      boolean sameTree = tree.equals(parentTree);
      List<LineCounts.PendingChange> pending = image.pendingChanges();
      LineCounts counting = new LineCounts(pending);
      if (!pending.isEmpty()) {
        background.execute(() -> counting.help(diffReader));
      }
      try {
        byte[] commitBytes = CheckpointCommits.commitBytes(tree, parent, withOversized(message, leftOut));
        ObjectId commit = store.insert(Constants.OBJ_COMMIT, commitBytes, 0, commitBytes.length);
        store.flush();
        long tFlush = System.nanoTime();
        if (!ref.compareAndSet(tip.orElse(null), commit, store::spare)) {
          Ref now = repo.exactRef(refName);
          throw new TipMoved(refName + " is at " + (now == null || now.getObjectId() == null ? "(none)" : now.getObjectId().name()) + ", not at "
              + tip.map(ObjectId::name).orElse("(none)") + " as recorded: checkpoint " + commit.name() + " not recorded");
        }
        long tRef = System.nanoTime();
        counting.work(reader);
        List<FileChange> changes = finishChanges(counting);
        long tChanges = System.nanoTime();
        if (log.isDebugEnabled()) {
          log.debug("{} captured {} ({} changes{}): scan {} us, trees {} us, pack {} us, ref {} us, line counts {} us more",
              refName, commit.name(), pending.size(), full ? ", full scan" : "", (tScan - started) / 1000, (tTrees - tScan) / 1000,
              (tFlush - tTrees) / 1000, (tRef - tFlush) / 1000, (tChanges - tRef) / 1000);
        }
        tip = Optional.of(commit);
        parentTree = tree;
        tipOversized = Set.copyOf(image.oversizedPaths());
        image.captured();
        return new Capture(commit, tree, parent, sameTree, changes, image.filesChangedSinceBase(),
            System.nanoTime() - started, full, List.copyOf(p.skipped), leftOut);
      } finally {
        counting.stop();
        counting.awaitHelper(); // the helper's reader must be idle before the next capture
      }
    } catch (IOException e) {
      fail();
      throw new GitFailure("checkpoint of " + worktree + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      fail();
      throw e;
    }
  }

  /** As {@link CheckpointCommits#withOversized}. */
  static String withOversized(String message, List<Oversized> leftOut) {
    return CheckpointCommits.withOversized(message, leftOut);
  }

  /** After a failure the image may disagree with the repository: rebuild it from the tip next time. */
  private void fail() {
    store.discard();
    image.markBroken();
  }

  private List<FileChange> finishChanges(LineCounts counting) throws IOException {
    counting.awaitHelper();
    Throwable failed = counting.helperFailure;
    if (failed instanceof IOException io) {
      throw io;
    } else if (failed instanceof RuntimeException re) {
      throw re;
    } else if (failed instanceof Error error) {
      throw error;
    }
    List<LineCounts.PendingChange> pending = counting.pending;
    List<FileChange> out = new ArrayList<>(pending.size());
    for (int i = 0; i < pending.size(); i++) {
      LineCounts.PendingChange c = pending.get(i);
      LineCounter.Counts n = counting.counts[i] != null ? counting.counts[i] : CheckpointHistory.counts(reader, c.before(), c.after(), c.afterContent());
      image.settle(c.path(), c.after());
      out.add(new FileChange(c.path(), CheckpointHistory.kind(c.before(), c.after()), n.added(), n.removed(), n.binary()));
    }
    return out;
  }

  // ================================================================== queries

  public Optional<ObjectId> tip() {
    return tip;
  }

  /** As {@link CheckpointHistory#diff}; reads need no snapshotter (see {@link CheckpointHistory#open}). */
  public String diff(ObjectId from, ObjectId to, long maxBytes) {
    ensureOpen();
    return history.diff(from, to, maxBytes);
  }

  /** As {@link CheckpointHistory#compare}. */
  public List<FileChange> compare(ObjectId from, ObjectId to) {
    ensureOpen();
    return history.compare(from, to);
  }

  // ================================================================== restore

  /**
   * Rollback: makes the worktree files equal to {@code commit}'s tree — all of it (paths empty) or only
   * the given paths (files or directories); see {@link Restorer}. Returns the paths written or deleted.
   */
  public List<String> restore(ObjectId commit, Optional<Collection<String>> paths) {
    ensureOpen();
    List<String> selection = Restorer.selection(paths);
    reloadIfBroken();
    return restorer.restore(commit, selection);
  }

  // ================================================================== helpers

  static boolean isDotGit(String name) {
    return dev.warden.git.GitPaths.isGitName(name);
  }

  /**
   * Why {@code raw} cannot name files for {@link #restore} to put back, or null when it can: it must
   * be a non-blank path relative to the worktree, without NUL or a {@code ..} segment, and with no
   * {@code .git} segment (in any case). The one rule for rollback and promotion paths, applied by
   * the HTTP route, by {@link Checkpoints} when the command arrives, and here.
   */
  static String restorePathProblem(String raw) {
    if (raw == null || raw.isBlank()) {
      return "must be a path inside the worktree, relative, without '..'";
    }
    String path = normalize(raw);
    if (path == null) {
      return "must be a path inside the worktree, relative, without '..'";
    }
    for (String part : path.split("/")) {
      if (isDotGit(part)) {
        return "is inside git's own files, which checkpoints never hold";
      }
    }
    return null;
  }

  /** As {@link WorktreePaths#normalize}. */
  static String normalize(String raw) {
    return WorktreePaths.normalize(raw);
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("snapshotter for " + refName + " is closed");
    }
  }

  /** For tests and the benchmark: our packs and their tiers. */
  List<PackStore.OurPack> packs() {
    return store.packs();
  }

  /** For the benchmark (dev.warden.bench): the names of our packs, in .git/objects/pack. */
  public List<String> packNames() {
    return packs().stream().map(PackStore.OurPack::name).toList();
  }

  /** For tests and the benchmark: waits (60 s at most) until no pack merge is running. */
  public void awaitPackMerges() {
    store.awaitMerges(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      store.close();
    } finally {
      reader.close();
      diffReader.close();
      repo.close();
    }
  }
}
