package dev.warden.watchdog;

import static org.junit.jupiter.api.Assertions.fail;

import dev.warden.watchdog.WatchHub.Kind;
import dev.warden.watchdog.WatchHub.PathChange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** Collects what the hub delivers to one feature, and waits for it by polling. */
class RecordingListener implements WatchHub.Listener {

  static final Duration PATIENCE = Duration.ofSeconds(10);

  final List<PathChange> changes = new CopyOnWriteArrayList<>();
  final List<List<PathChange>> batches = new CopyOnWriteArrayList<>();
  final List<String> overflows = new CopyOnWriteArrayList<>();
  final List<String> threads = new CopyOnWriteArrayList<>();

  @Override
  public void onChanges(List<PathChange> batch) {
    threads.add(Thread.currentThread().getName());
    batches.add(batch);
    changes.addAll(batch);
  }

  @Override
  public void onOverflow(String reason) {
    overflows.add(reason);
  }

  Set<Path> paths() {
    return changes.stream().map(PathChange::path).collect(Collectors.toSet());
  }

  boolean saw(Path path, Kind kind) {
    return changes.stream().anyMatch(c -> c.path().equals(path) && c.kind() == kind);
  }

  void awaitChange(Path path, Kind kind) {
    await(() -> saw(path, kind), () -> kind + " " + path + " was not reported; got " + changes);
  }

  void awaitPaths(Set<Path> expected) {
    await(() -> paths().containsAll(expected), () -> {
      Set<Path> missing = new TreeSet<>(expected);
      missing.removeAll(paths());
      return "not reported: " + missing;
    });
  }

  /** Waits until nothing new arrived for {@code quiet}: git writes its admin files in several steps. */
  void awaitQuiet(Duration quiet) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    int seen = -1;
    long since = System.nanoTime();
    while (System.nanoTime() < deadline) {
      int now = changes.size() + overflows.size();
      if (now != seen) {
        seen = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quiet.toNanos()) {
        return;
      }
      sleep(10);
    }
    fail("events kept arriving for " + PATIENCE);
  }

  static void await(BooleanSupplier condition, Supplier<String> message) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail(message.get());
      }
      sleep(10);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
