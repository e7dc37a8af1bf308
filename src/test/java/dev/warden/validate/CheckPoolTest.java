package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckPoolTest {

  @TempDir Path dir;

  private final List<CheckPool> pools = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void shutDownPools() throws Exception {
    release.countDown();
    for (CheckPool pool : pools) {
      pool.shutdown(Duration.ofSeconds(10));
    }
  }

  @Test
  void moreUrgentWorkOvertakesQueuedWorkAndEqualPrioritiesKeepTheirOrder() throws Exception {
    CheckPool pool = pool(1, 10);
    occupy(pool, CheckPriority.PERIODIC);
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    List<CompletionStage<String>> stages = new ArrayList<>();
    for (String name : List.of("p1", "p2", "p3", "m1", "f1", "p4", "f2", "m2")) {
      CheckPriority priority = switch (name.charAt(0)) {
        case 'f' -> CheckPriority.FINAL;
        case 'm' -> CheckPriority.MANUAL;
        default -> CheckPriority.PERIODIC;
      };
      stages.add(pool.submit(priority, () -> {
        order.add(name);
        return name;
      }));
    }
    assertEquals(8, pool.stats().queued());

    release.countDown();

    for (CompletionStage<String> stage : stages) {
      stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertEquals(List.of("f1", "f2", "m1", "m2", "p1", "p2", "p3", "p4"), order);
    CheckPool.Stats stats = pool.stats();
    assertEquals(9, stats.completed());
    assertEquals(0, stats.queued());
    assertEquals(0, stats.rejected());
  }

  @Test
  void aFullQueueTurnsWorkAwayLoudly() throws Exception {
    CheckPool pool = pool(1, 2);
    occupy(pool, CheckPriority.PERIODIC);
    CompletionStage<String> a = pool.submit(CheckPriority.PERIODIC, () -> "a");
    CompletionStage<String> b = pool.submit(CheckPriority.PERIODIC, () -> "b");

    CheckPool.PoolFull full = assertThrows(CheckPool.PoolFull.class, () -> pool.submit(CheckPriority.PERIODIC, () -> "c"));
    assertEquals(CheckPriority.PERIODIC, full.priority());
    assertFalse(full.displaced());
    assertEquals(1, pool.stats().rejected());

    // a final check pushes out the newest periodic one, whose caller is told
    CompletionStage<String> f = pool.submit(CheckPriority.FINAL, () -> "f");
    CheckPool.PoolFull displaced = failure(b, CheckPool.PoolFull.class);
    assertTrue(displaced.displaced());
    assertEquals(CheckPriority.PERIODIC, displaced.priority());
    CompletionStage<String> g = pool.submit(CheckPriority.FINAL, () -> "g");
    assertTrue(failure(a, CheckPool.PoolFull.class).displaced());
    // nothing less urgent left to push out
    assertThrows(CheckPool.PoolFull.class, () -> pool.submit(CheckPriority.FINAL, () -> "h"));
    assertThrows(CheckPool.PoolFull.class, () -> pool.submit(CheckPriority.MANUAL, () -> "m"));
    CheckPool.Stats stats = pool.stats();
    assertEquals(5, stats.rejected());
    assertEquals(2, stats.queued());
    assertEquals(1, stats.running());

    release.countDown();

    assertEquals("f", f.toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals("g", g.toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @Test
  void aFailingTaskFailsItsStageAndTheWorkerGoesOn() throws Exception {
    CheckPool pool = pool(1, 5);
    CompletionStage<String> broken = pool.submit(CheckPriority.MANUAL, () -> {
      throw new IllegalStateException("broken check");
    });
    assertEquals("broken check", failure(broken, IllegalStateException.class).getMessage());
    assertEquals("next", pool.submit(CheckPriority.MANUAL, () -> "next").toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @Test
  void cancellingARunningCheckKillsItsProcessesAndCancellingAQueuedOneDropsIt() throws Exception {
    CheckPool pool = pool(1, 5);
    String marker = "warden-pool-cancel-" + System.nanoTime();
    CompletionStage<CheckResult> hanging = pool.submit(CheckPriority.MANUAL, hangingCheck(marker));
    CompletionStage<String> queued = pool.submit(CheckPriority.PERIODIC, () -> "never");
    long pgid = awaitRunning(marker);

    assertTrue(queued.toCompletableFuture().cancel(false));
    assertEquals(0, pool.stats().queued());
    assertTrue(hanging.toCompletableFuture().cancel(false), "even without mayInterruptIfRunning");

    Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(10), "group " + pgid + " killed");
    Procs.await(() -> pool.stats().running() == 0, Duration.ofSeconds(10), "the worker is free again");
    assertEquals("after", pool.submit(CheckPriority.MANUAL, () -> "after").toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(2, pool.stats().cancelled());
  }

  @Test
  void aTimeBudgetOnTheStageKillsTheCheckWhenItRunsOut() throws Exception {
    CheckPool pool = pool(1, 5);
    String marker = "warden-pool-budget-" + System.nanoTime();
    CompletableFuture<CheckResult> budgeted =
        pool.submit(CheckPriority.PERIODIC, hangingCheck(marker)).toCompletableFuture();
    long pgid = awaitRunning(marker);

    budgeted.orTimeout(200, TimeUnit.MILLISECONDS);

    failure(budgeted, java.util.concurrent.TimeoutException.class);
    Procs.await(() -> Procs.liveMembers(pgid).isEmpty(), Duration.ofSeconds(10), "group " + pgid + " killed");
    Procs.await(() -> pool.stats().running() == 0, Duration.ofSeconds(10), "the worker is free again");
    assertEquals(1, pool.stats().cancelled());
  }

  @Test
  void shutdownCancelsQueuedWorkAndKillsRunningChecks() throws Exception {
    CheckPool pool = pool(1, 5);
    String marker = "warden-pool-shutdown-" + System.nanoTime();
    CompletionStage<CheckResult> hanging = pool.submit(CheckPriority.FINAL, hangingCheck(marker));
    CompletionStage<String> queued = pool.submit(CheckPriority.PERIODIC, () -> "never");
    long pgid = awaitRunning(marker);

    assertTrue(pool.shutdown(Duration.ofSeconds(30)), "workers finished");

    assertTrue(Procs.liveMembers(pgid).isEmpty(), "the check's whole group is gone when shutdown returns");
    failure(hanging, CancellationException.class);
    failure(queued, CancellationException.class);
    assertThrows(IllegalStateException.class, () -> pool.submit(CheckPriority.FINAL, () -> "late"));
    CheckPool.Stats stats = pool.stats();
    assertEquals(2, stats.cancelled());
    assertEquals(0, stats.queued());
  }

  private CheckPool pool(int concurrency, int maxQueued) {
    CheckPool pool = new CheckPool(concurrency, maxQueued);
    pools.add(pool);
    return pool;
  }

  /** Fills the pool's only worker until {@link #release}. */
  private void occupy(CheckPool pool, CheckPriority priority) throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    pool.submit(priority, () -> {
      started.countDown();
      release.await();
      return "blocker";
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
  }

  private java.util.concurrent.Callable<CheckResult> hangingCheck(String marker) {
    CheckRunner runner = new CheckRunner(CheckRunner.Settings.defaults());
    return () -> runner.run("hang", List.of("sh", "-c", "sleep 1000 & sleep 1000", marker), dir, Duration.ofSeconds(600));
  }

  /** The check's group, once sh and its sleeps run. */
  private static long awaitRunning(String marker) throws InterruptedException {
    return Procs.awaitGroup(marker, 2, Duration.ofSeconds(10));
  }

  private static <X extends Throwable> X failure(CompletionStage<?> stage, Class<X> type) throws Exception {
    CompletableFuture<?> future = stage.toCompletableFuture();
    try {
      future.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(type, e.getCause());
    } catch (CancellationException e) {
      return assertInstanceOf(type, e);
    }
    throw new AssertionError("expected " + type.getSimpleName() + ", got a value");
  }
}
