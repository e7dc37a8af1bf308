package dev.warden.validate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The daemon's one bounded pool for heavy checks (design brief §2, "a bounded check pool"): at most
 * {@code concurrency} run at once, across all features; the others wait in a bounded queue ordered
 * by {@link CheckPriority} ({@code FINAL} before {@code MANUAL} before {@code PERIODIC}), first come
 * first served within a priority.
 *
 * <p>Nothing is dropped silently. When the queue is full, a submission displaces the most recently
 * queued job of a strictly lower priority, whose stage then fails with {@link PoolFull}; when there is
 * none, {@link #submit} itself throws {@link PoolFull}. Either way the caller knows and records the
 * verdict as queued or tries again later.
 *
 * <p>Cancelling a returned stage ({@code toCompletableFuture().cancel(..)}), or completing it from
 * outside (a time budget: {@code toCompletableFuture().orTimeout(..)}), takes a queued job out of the
 * queue, or interrupts the worker running it: {@link CheckRunner} answers an interrupt by killing the
 * check's process group. {@link #shutdown} does that to everything. Stages complete on the worker
 * thread: dependent actions should be quick (Akka's {@code pipeToSelf} is) or use the async variants.
 *
 * <p>Workers are platform threads of their own, not the blocking dispatcher's: a check holds its
 * thread for as long as its process runs, and the pool's size is the bound on concurrent checks.
 */
public final class CheckPool {

  /**
   * The queue was full: the job was not accepted ({@link #submit} threw this) or was displaced from
   * the queue by a more urgent one ({@link #displaced()}, its stage failed with this).
   */
  public static final class PoolFull extends RejectedExecutionException {
    private final CheckPriority priority;
    private final boolean displaced;

    PoolFull(String message, CheckPriority priority, boolean displaced) {
      super(message);
      this.priority = priority;
      this.displaced = displaced;
    }

    /** The priority of the job that was turned away. */
    public CheckPriority priority() {
      return priority;
    }

    /** Whether the job had been queued and was pushed out by a more urgent one. */
    public boolean displaced() {
      return displaced;
    }
  }

  /**
   * A snapshot of the pool.
   *
   * @param rejected jobs turned away by a full queue, at submission or displaced later
   * @param completed jobs whose task ran to an end, successful or not, and was not cancelled meanwhile
   * @param cancelled jobs cancelled (or completed from outside, e.g. timed out) by their caller, or by
   *     shutdown, queued or running
   */
  public record Stats(int concurrency, int maxQueued, int running, int queued, long rejected, long completed, long cancelled) {}

  private static final Comparator<Job<?>> ORDER =
      Comparator.<Job<?>>comparingInt(job -> job.priority.ordinal()).thenComparingLong(job -> job.sequence);

  private final int concurrency;
  private final int maxQueued;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  // all guarded by lock
  private final TreeSet<Job<?>> queue = new TreeSet<>(ORDER);
  private final Set<Job<?>> running = new HashSet<>();
  private long nextSequence;
  private long rejected;
  private long completed;
  private long cancelled;
  private boolean shutDown;
  private final List<Thread> workers = new ArrayList<>();

  /**
   * @param concurrency checks running at once (the number of cores is a sensible default:
   *     {@link #defaultConcurrency()})
   * @param maxQueued jobs waiting beyond those running before submissions are turned away
   */
  public CheckPool(int concurrency, int maxQueued) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
    if (maxQueued < 0) {
      throw new IllegalArgumentException("queue length must not be negative, got " + maxQueued);
    }
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
    for (int i = 0; i < concurrency; i++) {
      Thread worker = new Thread(this::work, "warden-check-" + (i + 1));
      worker.setDaemon(true);
      workers.add(worker);
    }
    workers.forEach(Thread::start);
  }

  public static int defaultConcurrency() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Queues {@code task} at {@code priority}. Throws {@link PoolFull} when the queue is full of jobs
   * at least as urgent, and {@link IllegalStateException} after {@link #shutdown}.
   */
  public <T> CompletionStage<T> submit(CheckPriority priority, Callable<T> task) {
    Objects.requireNonNull(priority, "priority");
    Objects.requireNonNull(task, "task");
    Job<T> job;
    Job<?> displaced = null;
    lock.lock();
    try {
      if (shutDown) {
        throw new IllegalStateException("the check pool is shut down");
      }
      job = new Job<>(this, priority, nextSequence++, task);
      int idle = concurrency - running.size();
      if (queue.size() >= maxQueued + idle) {
        Job<?> leastUrgent = queue.isEmpty() ? null : queue.last();
        if (leastUrgent == null || leastUrgent.priority.compareTo(priority) <= 0) {
          rejected++;
          throw new PoolFull("check pool full: " + queue.size() + " queued (limit " + maxQueued + "), " + running.size()
              + " running; " + priority + " check not accepted", priority, false);
        }
        queue.remove(leastUrgent);
        rejected++;
        displaced = leastUrgent;
      }
      queue.add(job);
      work.signal();
    } finally {
      lock.unlock();
    }
    if (displaced != null) { // completed outside the lock: its dependents run right here
      displaced.fail(new PoolFull("check pool full: a " + displaced.priority + " check was displaced by a "
          + priority + " one", displaced.priority, true));
    }
    return job;
  }

  public Stats stats() {
    lock.lock();
    try {
      return new Stats(concurrency, maxQueued, running.size(), queue.size(), rejected, completed, cancelled);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the pool: no more submissions, every queued job cancelled, every running one cancelled and
   * its worker interrupted (its check's processes are killed). Waits up to {@code timeout} for the
   * workers to finish; returns whether they did. Calling it again only waits again.
   */
  public boolean shutdown(Duration timeout) throws InterruptedException {
    List<Job<?>> toCancel = new ArrayList<>();
    lock.lock();
    try {
      if (!shutDown) {
        shutDown = true;
        toCancel.addAll(queue);
        toCancel.addAll(running);
        work.signalAll();
      }
    } finally {
      lock.unlock();
    }
    toCancel.forEach(job -> job.cancel(true));
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread worker : workers) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        worker.join(Math.max(1, left / 1_000_000));
      }
    }
    return workers.stream().noneMatch(Thread::isAlive);
  }

  private void work() {
    while (true) {
      Thread.interrupted(); // an interrupt meant for the previous job must not hit the next one
      Job<?> job;
      lock.lock();
      try {
        while (queue.isEmpty() && !shutDown) {
          work.awaitUninterruptibly();
        }
        if (shutDown) {
          return;
        }
        job = queue.pollFirst();
        job.runner = Thread.currentThread(); // from here on, cancelling the job interrupts this thread
        running.add(job);
      } finally {
        lock.unlock();
      }
      Runnable complete = job.call();
      lock.lock();
      try {
        job.runner = null;
        running.remove(job);
        if (!job.isCancelled()) {
          completed++;
        }
      } finally {
        lock.unlock();
      }
      complete.run(); // counted first, so whoever sees the stage complete sees it in the stats too
    }
  }

  /**
   * Someone other than its worker completed {@code job} (cancelled it, shutdown, {@code orTimeout}):
   * nobody waits for its work any more, so it leaves the queue, or its worker is interrupted.
   */
  private void onAbandoned(Job<?> job) {
    lock.lock();
    try {
      cancelled++;
      if (!queue.remove(job) && job.runner != null) {
        job.runner.interrupt();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A queued or running task and the stage its caller holds. */
  private static final class Job<T> extends CompletableFuture<T> {
    private final CheckPool pool;
    private final CheckPriority priority;
    private final long sequence;
    private final Callable<T> task;
    /** The worker running it, guarded by the pool's lock. */
    private Thread runner;

    Job(CheckPool pool, CheckPriority priority, long sequence, Callable<T> task) {
      this.pool = pool;
      this.priority = priority;
      this.sequence = sequence;
      this.task = task;
    }

    /** Runs the task; returns what completes the stage with its outcome. */
    Runnable call() {
      if (isDone()) {
        return () -> {}; // cancelled while being taken from the queue
      }
      try {
        T value = task.call();
        return () -> super.complete(value);
      } catch (Throwable t) { // the job's outcome, whatever it is; the worker lives on
        return () -> super.completeExceptionally(t);
      }
    }

    /** Completes the stage from the pool's side, which abandons nothing. */
    void fail(Throwable failure) {
      super.completeExceptionally(failure);
    }

    /** Always stops the work, whatever {@code mayInterruptIfRunning} says: nobody waits for it any more. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      return abandonedIf(super.cancel(mayInterruptIfRunning));
    }

    /** A caller completing the stage itself (a time budget through {@code orTimeout}) stops the work too. */
    @Override
    public boolean completeExceptionally(Throwable failure) {
      return abandonedIf(super.completeExceptionally(failure));
    }

    @Override
    public boolean complete(T value) {
      return abandonedIf(super.complete(value));
    }

    private boolean abandonedIf(boolean completedNow) {
      if (completedNow) {
        pool.onAbandoned(this);
      }
      return completedNow;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new CompletableFuture<>(); // dependents are plain futures: cancelling them does not reach the pool
    }
  }
}
