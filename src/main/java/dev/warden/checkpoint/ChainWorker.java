package dev.warden.checkpoint;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The git side of one feature's checkpoint chain: the open {@link Snapshotter} and the serial lane its
 * work runs on (the blocking pool, one task at a time per feature). Everything here runs on that lane,
 * never on the actor's thread, and touches nothing of the actor: {@link Checkpoints} gets each result
 * back as a message ({@code pipeToSelf}) or replies with it.
 */
final class ChainWorker {

  private static final Logger log = LoggerFactory.getLogger(ChainWorker.class);

  private final String featureId;
  private final Executor serial;
  /** The actor system's blocking dispatcher: reads of the history, the chain's line counts and pack merges run there. */
  private final Executor blocking;
  private Snapshotter snapshotter; // touched only by tasks on `serial`

  ChainWorker(String featureId, Executor blocking) {
    this.featureId = featureId;
    this.serial = new SerialExecutor(blocking);
    this.blocking = blocking;
  }

  /**
   * A capture (or a restore then a capture): refused when the worktree is gone (never record a
   * vanished worktree as "everything deleted"); a failure closes the chain, so the next capture starts
   * over from the recorded tip (this also puts back a ref someone else moved).
   */
  <T> CompletableFuture<T> write(Checkpoints.ChainSetup setup, Optional<ObjectId> tip, Function<Snapshotter, T> work) {
    return CompletableFuture.supplyAsync(() -> {
      if (!Files.exists(Path.of(setup.worktree()).resolve(".git"), LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalStateException("the worktree " + setup.worktree() + " is gone");
      }
      try {
        return work.apply(open(setup, tip));
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }, serial);
  }

  /** A read of the chain's history: straight from the object database, never through the writer nor behind a capture. */
  <T> CompletableFuture<T> read(Checkpoints.ChainSetup setup, Function<CheckpointHistory, T> query) {
    return CompletableFuture.supplyAsync(() -> {
      try (CheckpointHistory history = CheckpointHistory.open(Path.of(setup.gitDir()))) {
        return query.apply(history);
      }
    }, blocking);
  }

  CompletableFuture<Void> shutdown() {
    return CompletableFuture.runAsync(this::close, serial);
  }

  private Snapshotter open(Checkpoints.ChainSetup setup, Optional<ObjectId> tip) {
    if (snapshotter == null) {
      snapshotter = Snapshotter.open(Path.of(setup.gitDir()), Path.of(setup.worktree()), setup.refName(),
          ObjectId.fromString(setup.baseCommit()), tip, blocking);
    }
    return snapshotter;
  }

  private void close() {
    if (snapshotter != null) {
      try {
        snapshotter.close();
      } catch (RuntimeException e) {
        log.warn("[{}] closing the checkpoint chain: {}", featureId, e.toString());
      }
      snapshotter = null;
    }
  }
}
