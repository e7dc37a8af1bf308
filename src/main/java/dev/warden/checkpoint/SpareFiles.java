package dev.warden.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empty files in the pack directory made ahead of time: creating an inode costs 0.1-1 ms on some
 * filesystems (measured on the VM the performance figures come from), renaming one ~30 us, so a
 * capture renames spares into pack, index and ref lock instead of creating them. Made on the
 * executor given, named with a prefix of the chain's own so a crashed predecessor's are found.
 */
final class SpareFiles implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SpareFiles.class);
  private static final int COUNT = 4;

  private final Path dir;
  private final String prefix;
  private final Executor background;
  /** Guarded by {@code this}. */
  private final Deque<Path> spares = new ArrayDeque<>();
  private boolean refilling;
  private boolean closed;

  SpareFiles(Path dir, String prefix, Executor background) {
    this.dir = dir;
    this.prefix = prefix;
    this.background = background;
    deleteOld();
  }

  /** Spares a crashed predecessor left (the prefix is this ref's: no other snapshotter uses them). */
  private void deleteOld() {
    try (var files = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path p : files) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      log.debug("cannot clean spare files in {}: {}", dir, e.toString());
    }
  }

  /** Makes spares up to the count, in the background. */
  void refill() {
    synchronized (this) {
      if (closed || refilling || spares.size() >= COUNT) {
        return;
      }
      refilling = true;
    }
    background.execute(() -> {
      try {
        while (true) {
          synchronized (this) {
            if (closed || spares.size() >= COUNT) {
              return;
            }
          }
          Path p = fresh();
          synchronized (this) {
            if (closed) {
              Files.deleteIfExists(p);
              return;
            }
            spares.add(p);
          }
        }
      } catch (IOException e) {
        log.debug("cannot make spare files in {}: {}", dir, e.toString());
      } finally {
        synchronized (this) {
          refilling = false;
        }
      }
    });
  }

  /** A spare made ahead of time, or a fresh one; the taker owns it. */
  Path take() throws IOException {
    synchronized (this) {
      Path p = spares.poll();
      if (p != null) {
        return p;
      }
    }
    return fresh();
  }

  /** A new empty file named like the spares (so one left by a crash is cleaned up by the next open). */
  Path fresh() throws IOException {
    return Files.createTempFile(dir, prefix, ".tmp");
  }

  @Override
  public void close() {
    List<Path> left;
    synchronized (this) {
      closed = true;
      left = new ArrayList<>(spares);
      spares.clear();
    }
    for (Path p : left) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        log.debug("cannot delete spare {}: {}", p, e.toString());
      }
    }
  }
}
