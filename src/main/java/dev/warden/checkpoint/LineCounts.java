package dev.warden.checkpoint;

import java.io.IOException;
import java.util.List;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * Line counts, shared out: a helper thread starts on them while the capturing thread writes the pack
 * and the ref, then the capturing thread takes whatever is left, so it never sits waiting for a
 * helper the scheduler put aside. Each side uses its own ObjectReader. A new side not kept in memory
 * (a large file) is only in the pending pack: it is counted after the flush.
 */
final class LineCounts {
  final List<PendingChange> pending;
  final LineCounter.Counts[] counts;
  private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
  /** 0: helper not started, 1: helping, 2: finished or not wanted any more. */
  private final java.util.concurrent.atomic.AtomicInteger helper = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.CountDownLatch helperDone = new java.util.concurrent.CountDownLatch(1);
  volatile Throwable helperFailure;

  LineCounts(List<PendingChange> pending) {
    this.pending = pending;
    this.counts = new LineCounter.Counts[pending.size()];
  }

  /** On the diff thread; does nothing when the capturing thread got there first. */
  void help(ObjectReader reader) {
    if (!helper.compareAndSet(0, 1)) {
      return;
    }
    try {
      work(reader);
    } catch (Throwable t) {
      helperFailure = t;
    } finally {
      helper.set(2);
      helperDone.countDown();
    }
  }

  void work(ObjectReader reader) throws IOException {
    int i;
    while ((i = next.getAndIncrement()) < counts.length) {
      PendingChange c = pending.get(i);
      if (c.after() != null && c.afterContent() == null && c.after().mode() != Nodes.GITLINK
          && (c.before() == null || !c.before().id().equals(c.after().id()))) {
        continue;
      }
      counts[i] = CheckpointHistory.counts(reader, c.before(), c.after(), c.afterContent());
    }
  }

  void stop() {
    next.set(counts.length);
  }

  /** Waits for the helper to leave its last item (or makes sure it never starts). */
  void awaitHelper() {
    if (helper.compareAndSet(0, 2)) {
      helperDone.countDown();
      return;
    }
    boolean interrupted = false;
    while (true) {
      try {
        helperDone.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** A path that differs from the last checkpoint; afterContent: its new bytes when kept in memory. */
  record PendingChange(String path, FileState before, FileState after, byte[] afterContent) {}
}
