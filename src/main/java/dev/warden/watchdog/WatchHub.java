package dev.warden.watchdog;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import dev.warden.git.GitPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's one {@link WatchService}. The kernel allows only a few inotify instances per user
 * (128 here), so every feature's watchdog shares this hub instead of opening its own: one inotify
 * instance, one thread taking keys, one watch per directory.
 *
 * <p>A feature's worktree is watched recursively: directories are registered as they appear (and
 * walked at once, so whatever was written into them before the registration took effect is reported
 * as {@code CREATED}) and dropped when they go. Nested {@code .git} directories (and whatever
 * {@link GitPaths} takes for one) are reported but never entered; symlinked directories are never
 * followed. The git admin directories are watched without recursion. Events are delivered in batches
 * of what one drain of the service gives (at most ~20 ms), grouped per feature ({@link WatchBatch}),
 * on the hub thread.
 *
 * <p>Never a silent gap: events the kernel or the JDK dropped ({@code OVERFLOW}) and directories that
 * could not be registered (e.g. the inotify watch limit) are reported through {@link
 * Listener#onOverflow}, counted in {@link #stats()}, and a failed registration marks the feature
 * degraded; the caller then full-scans. Directories of the same inode share one kernel watch (and one
 * {@link WatchKey}), so two features on one repository share the watches of its git directories.
 */
public final class WatchHub implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WatchHub.class);

  private static final WatchEvent.Kind<?>[] KINDS = {ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY};
  /** After the first key of a batch, keep collecting keys that become ready within this gap... */
  private static final long DRAIN_GAP_MILLIS = 2;
  /** ...but deliver no later than this after the first key was taken. */
  private static final long DRAIN_LIMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(15);

  /** Receives one feature's changes. Called on the hub thread: must not block. */
  public interface Listener {
    void onChanges(List<PathChange> changes);

    /**
     * Events were lost ({@code OVERFLOW}) or a directory could not be watched (e.g. the inotify watch
     * limit): the caller must full-scan. Failures while {@link #watch} itself registers the worktree
     * are reported before {@code watch} returns, on the caller's thread.
     */
    void onOverflow(String reason);
  }

  public enum Kind { CREATED, MODIFIED, DELETED }

  /** One change to an absolute path, worktree or git admin directory alike. */
  public record PathChange(Path path, Kind kind, Instant at) {
    public PathChange {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(at, "at");
    }
  }

  /** A feature's watch; closing it cancels the watches only it used and stops its callbacks. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();

    /** Directories watched for this feature (worktree directories plus git admin directories). */
    int watchedDirectories();

    /** True once a directory of this feature could not be watched: only full scans see everything. */
    boolean degraded();
  }

  /**
   * @param watchedDirectories kernel watches held (a directory shared by features counts once)
   * @param overflows how many times a feature was told that events were lost
   * @param failedRegistrations directories that could not be watched
   */
  public record Stats(int features, int watchedDirectories, long overflows, long failedRegistrations, List<String> degradedFeatures) {
    public Stats {
      degradedFeatures = List.copyOf(degradedFeatures);
    }
  }

  /** How a directory gets its watch; a seam for tests that need the kernel's limit to be reached. */
  @FunctionalInterface
  interface Registrar {
    WatchKey register(WatchService service, Path dir) throws IOException;
  }

  private final String name;
  private final WatchService service;
  private final Registrar registrar;
  private final Thread thread;
  private final AtomicLong overflows = new AtomicLong();
  private final AtomicLong failedRegistrations = new AtomicLong();

  /** Guards the maps below and every registration's directory maps; never held while calling a listener. */
  private final Object lock = new Object();
  /** Which feature sees a watched directory under which path; a key may be shared by features. */
  private final Map<WatchKey, Map<Watched, Path>> owners = new HashMap<>();
  private final Set<Watched> features = new LinkedHashSet<>();
  private volatile boolean closed;

  public WatchHub(String name) {
    this(name, (service, dir) -> dir.register(service, KINDS));
  }

  WatchHub(String name, Registrar registrar) {
    this.name = name;
    this.registrar = registrar;
    try {
      this.service = FileSystems.getDefault().newWatchService();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the watch service " + name + ": " + e.getMessage(), e);
    }
    this.thread = new Thread(this::run, "warden-watch-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Starts watching a feature: {@code worktree} recursively, plus {@code extraDirs} (the git admin
   * directories) without recursion. Extra directories that do not exist yet are picked up when they
   * appear inside another watched directory (e.g. {@code <common>/info}).
   *
   * @throws IllegalArgumentException when {@code worktree} is not a directory
   */
  public Registration watch(String featureId, Path worktree, List<Path> extraDirs, Listener listener) {
    Objects.requireNonNull(featureId, "featureId");
    Objects.requireNonNull(listener, "listener");
    Path root = worktree.toAbsolutePath().normalize();
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("[" + featureId + "] worktree " + root + " is not a directory");
    }
    Set<Path> extras = new LinkedHashSet<>();
    for (Path dir : extraDirs) {
      extras.add(dir.toAbsolutePath().normalize());
    }
    Watched feature = new Watched(featureId, root, Set.copyOf(extras), listener);
    WatchBatch<Watched> batch = new WatchBatch<>();
    int watched;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("watch service " + name + " is closed");
      }
      features.add(feature);
      watchTree(feature, root, batch, false);
      for (Path extra : extras) {
        if (Files.isDirectory(extra)) {
          addWatch(feature, extra, false, batch);
        }
      }
      watched = feature.treeDirs.size() + feature.extraDirs.size();
    }
    log.info("[{}] watching {} directories of {} and its git admin directories", featureId, watched, root);
    deliver(batch);
    return feature;
  }

  public Stats stats() {
    synchronized (lock) {
      List<String> degraded = features.stream().filter(f -> f.degraded).map(f -> f.featureId).distinct().toList();
      return new Stats(features.size(), owners.size(), overflows.get(), failedRegistrations.get(), degraded);
    }
  }

  /** Closes the watch service (all registrations end) and waits briefly for the hub thread. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      features.clear();
      owners.clear();
    }
    try {
      service.close();
    } catch (IOException e) {
      log.warn("closing watch service {} failed: {}", name, e.getMessage());
    }
    if (Thread.currentThread() != thread) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- the hub thread ----

  private void run() {
    while (true) {
      WatchKey first;
      try {
        first = service.take();
      } catch (ClosedWatchServiceException | InterruptedException e) {
        return;
      }
      WatchBatch<Watched> batch = new WatchBatch<>();
      try {
        process(first, batch);
        long deadline = System.nanoTime() + DRAIN_LIMIT_NANOS;
        WatchKey next;
        while (System.nanoTime() < deadline && (next = service.poll(DRAIN_GAP_MILLIS, TimeUnit.MILLISECONDS)) != null) {
          process(next, batch);
        }
        resync(batch);
      } catch (ClosedWatchServiceException | InterruptedException e) {
        return;
      } catch (RuntimeException | Error e) {
        // a bug here must not end the daemon's only watcher: what was collected still goes out
        log.error("watch service {} failed while processing events", name, e);
      }
      deliver(batch);
    }
  }

  private void process(WatchKey key, WatchBatch<Watched> batch) {
    List<WatchEvent<?>> events = key.pollEvents();
    Instant at = Instant.now();
    synchronized (lock) {
      try {
        Map<Watched, Path> keyOwners = owners.get(key);
        if (keyOwners != null) {
          for (Map.Entry<Watched, Path> owner : List.copyOf(keyOwners.entrySet())) {
            handle(owner.getKey(), owner.getValue(), key, events, at, batch);
          }
        }
      } finally {
        if (!key.reset()) {
          forget(key, at, batch);
        }
      }
    }
  }

  private void handle(Watched feature, Path dir, WatchKey key, List<WatchEvent<?>> events, Instant at, WatchBatch<Watched> batch) {
    boolean tree = feature.treeDirs.get(dir) == key;
    if (!tree && feature.extraDirs.get(dir) != key) {
      return; // a stale path of a renamed directory
    }
    boolean overflowed = false;
    for (WatchEvent<?> event : events) {
      if (event.kind() == OVERFLOW) {
        overflowed = true;
        continue;
      }
      Path child = dir.resolve((Path) event.context());
      if (event.kind() == ENTRY_CREATE) {
        batch.change(feature, child, Kind.CREATED, at);
        if (tree) {
          if (!GitPaths.isGitName(child) && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
            watchTree(feature, child, batch, true);
          }
        } else if (feature.extras.contains(child) && !feature.extraDirs.containsKey(child) && Files.isDirectory(child)) {
          addWatch(feature, child, false, batch);
          reportEntries(feature, child, at, batch);
        }
      } else if (event.kind() == ENTRY_DELETE) {
        batch.change(feature, child, Kind.DELETED, at);
        if (tree) {
          dropTree(feature, child);
        } else if (feature.extraDirs.containsKey(child)) {
          unlink(feature.extraDirs.remove(child), feature, child);
        }
      } else if (event.kind() == ENTRY_MODIFY) {
        batch.change(feature, child, Kind.MODIFIED, at);
      }
    }
    if (overflowed) {
      batch.lost(feature, dir, tree);
    }
  }

  /**
   * After lost events: the lost ones may have created or removed directories. Watch the new ones now
   * (without reporting them) and drop the vanished, so that the caller's full scan, which starts after
   * it hears of the overflow, is the last one needed.
   */
  private void resync(WatchBatch<Watched> batch) {
    synchronized (lock) {
      for (Map.Entry<Watched, Set<Path>> lost : batch.lostTreeDirs.entrySet()) {
        Watched feature = lost.getKey();
        if (feature.closed) {
          continue;
        }
        feature.treeDirs.entrySet().removeIf(entry -> {
          if (Files.isDirectory(entry.getKey(), LinkOption.NOFOLLOW_LINKS)) {
            return false;
          }
          unlink(entry.getValue(), feature, entry.getKey());
          return true;
        });
        for (Path dir : lost.getValue()) {
          if (feature.treeDirs.containsKey(dir)) {
            watchChildren(feature, dir, batch);
          }
        }
      }
      for (Watched feature : batch.lostExtraDirs) {
        if (feature.closed) {
          continue;
        }
        for (Path extra : feature.extras) {
          if (!feature.extraDirs.containsKey(extra) && Files.isDirectory(extra)) {
            addWatch(feature, extra, false, batch);
          }
        }
      }
    }
  }

  /** The key's directory is gone (or its watch was removed): forget it everywhere. */
  private void forget(WatchKey key, Instant at, WatchBatch<Watched> batch) {
    Map<Watched, Path> keyOwners = owners.remove(key);
    if (keyOwners == null) {
      return;
    }
    for (Map.Entry<Watched, Path> owner : keyOwners.entrySet()) {
      Watched feature = owner.getKey();
      Path dir = owner.getValue();
      boolean root = feature.treeDirs.remove(dir, key) && dir.equals(feature.root);
      boolean extra = feature.extraDirs.remove(dir, key);
      // no watched parent reports these two: say it here
      if ((root || extra) && !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        batch.change(feature, dir, Kind.DELETED, at);
        log.warn("[{}] watched directory {} is gone", feature.featureId, dir);
      }
    }
  }

  // ---- registering (all under lock) ----

  /**
   * Watches {@code top} and every directory below it, skipping nested {@code .git} directories and
   * directories already watched under the same path (they were walked when they were registered).
   * With {@code report}, everything found below {@code top} is reported as created.
   */
  private void watchTree(Watched feature, Path top, WatchBatch<Watched> batch, boolean report) {
    Instant at = Instant.now();
    try {
      Files.walkFileTree(top, Set.of(), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
          boolean isTop = dir.equals(top);
          if (report && !isTop) {
            batch.change(feature, dir, Kind.CREATED, at);
          }
          if (!isTop && GitPaths.isGitName(dir)) {
            return FileVisitResult.SKIP_SUBTREE;
          }
          WatchKey before = feature.treeDirs.get(dir);
          WatchKey key = addWatch(feature, dir, true, batch);
          return key == null || key == before ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          if (report) {
            batch.change(feature, file, Kind.CREATED, at);
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
          if (!(e instanceof NoSuchFileException)) {
            log.debug("[{}] cannot read {}: {}", feature.featureId, file, e.toString());
          }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      log.warn("[{}] cannot walk {}: {}", feature.featureId, top, e.toString());
    }
  }

  /** Watches the subdirectories of {@code dir} not watched yet (and what is below them). */
  private void watchChildren(Watched feature, Path dir, WatchBatch<Watched> batch) {
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
      for (Path child : children) {
        if (!GitPaths.isGitName(child) && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
          watchTree(feature, child, batch, false);
        }
      }
    } catch (IOException e) {
      log.debug("[{}] cannot list {}: {}", feature.featureId, dir, e.toString());
    }
  }

  private void reportEntries(Watched feature, Path dir, Instant at, WatchBatch<Watched> batch) {
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
      for (Path child : children) {
        batch.change(feature, child, Kind.CREATED, at);
      }
    } catch (IOException e) {
      log.debug("[{}] cannot list {}: {}", feature.featureId, dir, e.toString());
    }
  }

  /** Registers {@code dir} for {@code feature}; null when it vanished or could not be watched. */
  private WatchKey addWatch(Watched feature, Path dir, boolean tree, WatchBatch<Watched> batch) {
    WatchKey key;
    try {
      key = registrar.register(service, dir);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return null; // gone or replaced already: the parent's events say so
    } catch (IOException e) {
      failedRegistrations.incrementAndGet();
      feature.degraded = true;
      batch.failed(feature, dir, e.getMessage());
      log.debug("[{}] cannot watch {}: {}", feature.featureId, dir, e.getMessage());
      return null;
    }
    if (tree && Files.isSymbolicLink(dir)) {
      // replaced by a link between our check and the registration, which follows links
      if (!owners.containsKey(key)) {
        key.cancel();
      }
      return null;
    }
    owners.computeIfAbsent(key, k -> new HashMap<>()).put(feature, dir);
    WatchKey previous = (tree ? feature.treeDirs : feature.extraDirs).put(dir, key);
    if (previous != null && previous != key) {
      unlink(previous, feature, dir);
    }
    return key;
  }

  /** Forgets {@code dir} and everything watched below it (deleted, or moved away). */
  private void dropTree(Watched feature, Path dir) {
    if (!feature.treeDirs.containsKey(dir)) {
      return;
    }
    Iterator<Map.Entry<Path, WatchKey>> entries = feature.treeDirs.entrySet().iterator();
    while (entries.hasNext()) {
      Map.Entry<Path, WatchKey> entry = entries.next();
      if (entry.getKey().startsWith(dir)) {
        entries.remove();
        unlink(entry.getValue(), feature, entry.getKey());
      }
    }
  }

  /**
   * {@code feature} no longer sees {@code key} as {@code dir}. A renamed directory keeps its key under
   * the new path, so the key stays; a key nobody uses any more is cancelled.
   */
  private void unlink(WatchKey key, Watched feature, Path dir) {
    Map<Watched, Path> keyOwners = owners.get(key);
    if (keyOwners == null) {
      return;
    }
    if (dir == null || dir.equals(keyOwners.get(feature))) {
      keyOwners.remove(feature);
    }
    if (keyOwners.isEmpty()) {
      owners.remove(key);
      key.cancel();
    }
  }

  // ---- delivery (never under lock) ----

  private void deliver(WatchBatch<Watched> batch) {
    for (Watched feature : batch.features()) {
      synchronized (feature.deliveryLock) {
        if (feature.closed) {
          continue;
        }
        List<PathChange> changes = batch.changesOf(feature);
        if (!changes.isEmpty()) {
          safely(feature, () -> feature.listener.onChanges(changes));
        }
        String reason = batch.overflowOf(feature);
        if (reason != null) {
          overflows.incrementAndGet();
          log.warn("[{}] watch gap, full scan needed: {}", feature.featureId, reason);
          safely(feature, () -> feature.listener.onOverflow(reason));
        }
      }
    }
  }

  private static void safely(Watched feature, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException | Error e) {
      // a dead hub thread would be a silent gap for every feature: log and go on
      log.error("[{}] watch listener failed", feature.featureId, e);
    }
  }

  /** One feature's registration. Its maps are guarded by the hub's lock. */
  private final class Watched implements Registration {
    final String featureId;
    final Path root;
    /** Every git admin directory asked for, watched or not (yet). */
    final Set<Path> extras;
    final Listener listener;
    final Map<Path, WatchKey> treeDirs = new HashMap<>();
    final Map<Path, WatchKey> extraDirs = new HashMap<>();
    /** Held while calling the listener, so that after close() returns no callback is running or follows. */
    final Object deliveryLock = new Object();
    volatile boolean closed;
    volatile boolean degraded;

    Watched(String featureId, Path root, Set<Path> extras, Listener listener) {
      this.featureId = featureId;
      this.root = root;
      this.extras = extras;
      this.listener = listener;
    }

    @Override
    public void close() {
      synchronized (deliveryLock) {
        if (closed) {
          return;
        }
        closed = true;
      }
      synchronized (lock) {
        features.remove(this);
        if (WatchHub.this.closed) {
          return;
        }
        for (Map<Path, WatchKey> dirs : List.of(treeDirs, extraDirs)) {
          for (WatchKey key : dirs.values()) {
            unlink(key, this, null);
          }
          dirs.clear();
        }
      }
      log.info("[{}] stopped watching {}", featureId, root);
    }

    @Override
    public int watchedDirectories() {
      synchronized (lock) {
        return treeDirs.size() + extraDirs.size();
      }
    }

    @Override
    public boolean degraded() {
      return degraded;
    }

    @Override
    public String toString() {
      return "WatchHub.Registration[" + featureId + " " + root + "]";
    }
  }
}
