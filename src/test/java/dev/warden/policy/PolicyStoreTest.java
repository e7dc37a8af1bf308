package dev.warden.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.plan.Tier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyStoreTest {

  @TempDir Path dir;

  private static final String DOCS_LOW = "rules = [ { paths = \"docs/**\", tier = low } ]\n";
  private static final String DOCS_MEDIUM = "rules = [ { paths = \"docs/**\", tier = medium } ]\n";

  /** Writes and moves the mtime on, so a change is seen even where the clock is coarse. */
  private static void write(Path file, String text) throws Exception {
    FileTime before = Files.exists(file) ? Files.getLastModifiedTime(file) : FileTime.from(Instant.EPOCH);
    Files.writeString(file, text);
    Instant later = before.toInstant().plusSeconds(1);
    Instant now = Instant.now();
    Files.setLastModifiedTime(file, FileTime.from(later.isAfter(now) ? later : now));
  }

  @Test
  void aMissingFileGivesTheDefaults() {
    PolicyStore store = new PolicyStore(dir.resolve("policy.conf"));
    assertEquals(Policy.defaults(), store.current());
    assertEquals(Optional.empty(), store.lastError());
    assertFalse(store.reloadIfChanged());
  }

  @Test
  void aBadFileAtStartStopsTheStartWithItsMessage() throws Exception {
    Path file = dir.resolve("policy.conf");
    write(file, "rules = [ { paths = \"docs/**\", tier = urgent } ]");
    PolicyFile.InvalidPolicyException e = assertThrows(PolicyFile.InvalidPolicyException.class, () -> new PolicyStore(file));
    assertTrue(e.getMessage().contains("rules[0].tier: must be low, medium or high"), e.getMessage());
  }

  @Test
  void aChangedFileIsReloadedAndAnUnchangedOneIsNotReread() throws Exception {
    Path file = dir.resolve("policy.conf");
    write(file, DOCS_LOW);
    PolicyStore store = new PolicyStore(file);
    assertEquals(Tier.LOW, store.current().tierOf("docs/a.md"));
    Instant first = store.loadedAt();
    assertFalse(store.reloadIfChanged());

    write(file, DOCS_MEDIUM);
    assertTrue(store.reloadIfChanged());
    assertEquals(Tier.MEDIUM, store.current().tierOf("docs/a.md"));
    assertFalse(store.loadedAt().isBefore(first));
    assertFalse(store.reloadIfChanged());

    // an editor's atomic replace: a new file moved over the old one
    Path temp = dir.resolve("policy.conf.tmp");
    Files.writeString(temp, DOCS_LOW + "# replaced\n");
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    assertTrue(store.reloadIfChanged());
    assertEquals(Tier.LOW, store.current().tierOf("docs/a.md"));
  }

  @Test
  void aBadFileAfterAGoodOneKeepsTheGoodOneAndSaysWhyUntilFixed() throws Exception {
    Path file = dir.resolve("policy.conf");
    write(file, DOCS_LOW);
    PolicyStore store = new PolicyStore(file);
    Instant loadedAt = store.loadedAt();
    Policy good = store.current();

    write(file, "rules = [ { paths = \"docs/**\", tier = low }, { paths = \"src/[a\", tier = medium } ]");
    assertFalse(store.reloadIfChanged());
    assertEquals(good, store.current());
    assertEquals(loadedAt, store.loadedAt());
    String error = store.lastError().orElseThrow();
    assertTrue(error.contains("rules[1].paths: glob 'src/[a': unclosed '['"), error);
    assertFalse(store.reloadIfChanged()); // not re-read (nor re-logged) until it changes
    assertEquals(Optional.of(error), store.lastError());

    write(file, "rules = [ { paths = \"docs/**\" tier = low ");
    assertFalse(store.reloadIfChanged());
    assertTrue(store.lastError().orElseThrow().contains("syntax: "), store.lastError().toString());
    assertEquals(good, store.current());

    write(file, DOCS_MEDIUM);
    assertTrue(store.reloadIfChanged());
    assertEquals(Tier.MEDIUM, store.current().tierOf("docs/a.md"));
    assertEquals(Optional.empty(), store.lastError());
  }

  @Test
  void aFileThatAppearsIsLoadedAndOneThatDisappearsFallsBackToTheDefaults() throws Exception {
    Path file = dir.resolve("policy.conf");
    PolicyStore store = new PolicyStore(file);
    write(file, DOCS_LOW);
    assertTrue(store.reloadIfChanged());
    assertEquals(Tier.LOW, store.current().tierOf("docs/a.md"));

    Files.delete(file);
    assertTrue(store.reloadIfChanged());
    assertEquals(Policy.defaults(), store.current());
    assertFalse(store.reloadIfChanged());
  }

  @Test
  void aFileCaughtEmptyMidSaveKeepsTheLastGoodPolicy() throws Exception {
    Path file = dir.resolve("policy.conf");
    write(file, DOCS_LOW);
    PolicyStore store = new PolicyStore(file);
    write(file, "");
    assertFalse(store.reloadIfChanged());
    assertEquals(Tier.LOW, store.current().tierOf("docs/a.md"), "an empty file must not mean 'no rules'");
    assertTrue(store.lastError().orElseThrow().contains("empty"));
    write(file, DOCS_MEDIUM);
    assertTrue(store.reloadIfChanged());
    assertEquals(Tier.MEDIUM, store.current().tierOf("docs/a.md"));
  }

  @Test
  void watchingPollsTheFileUntilCancelled() throws Exception {
    Path file = dir.resolve("policy.conf");
    write(file, DOCS_LOW);
    PolicyStore store = new PolicyStore(file);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      ScheduledFuture<?> watching = store.startWatching(scheduler, Duration.ofMillis(20));
      write(file, DOCS_MEDIUM);
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (store.current().tierOf("docs/a.md") != Tier.MEDIUM && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(Tier.MEDIUM, store.current().tierOf("docs/a.md"));

      write(file, "tiers { nope = 1 }");
      deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (store.lastError().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(store.lastError().orElseThrow().contains("tiers.nope: unknown key"));
      assertEquals(Tier.MEDIUM, store.current().tierOf("docs/a.md"));

      watching.cancel(false);
      assertTrue(watching.isCancelled());
    } finally {
      scheduler.shutdownNow();
    }
    assertThrows(IllegalArgumentException.class, () -> store.startWatching(scheduler, Duration.ZERO));
  }
}
