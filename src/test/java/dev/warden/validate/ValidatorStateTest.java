package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import dev.warden.plan.Trigger;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The Validator's state as it is stored: bounded whatever the number of checkpoints, serialized by the
 * serializer the snapshot store uses; and the stored contracts it must keep reading (events written
 * before verdicts were an enum, snapshots of the state before it was per phase).
 */
class ValidatorStateTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseResources("serialization.conf").withFallback(EventSourcedBehaviorTestKit.config()).resolve());

  /** The bound stated in docs/architecture.md ("### Validator"). */
  static final int MAX_STATE_BYTES = 16 * 1024;

  private static final Instant AT = Instant.parse("2026-12-01T10:00:00Z");

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Serialization serialization() {
    return SerializationExtension.get(testKit.system().classicSystem());
  }

  private static byte[] bytes(Object o) {
    return serialization().serialize(o).get();
  }

  private static String output(char c, int n) {
    return String.valueOf(c).repeat(n);
  }

  @Test
  void tenThousandCheckpointsLeaveTheStateUnderItsStatedSize() {
    Violation warning = new Violation("unplanned-file", "notes/extra.txt", Severity.WARNING, "not in the plan's files");
    Violation secret = new Violation("secret", "config/prod.env", Severity.CRITICAL, "a GitHub token (ending 2eW8)");
    Validator.State state = new Validator.Idle(VerdictLedger.EMPTY);
    long everyVerdict = 0; // what the state kept before issue 12: every verdict, check output included
    for (long seq = 1; seq <= 10_000; seq++) {
      boolean invalid = seq % 10 == 0;
      String commit = String.format("%040x", seq);
      state = ValidatorStates.apply(state, new Validator.ValidationStarted("f1", seq, commit, Trigger.INTERVAL, "/repo/.git",
          "b".repeat(40), AT));
      state = ValidatorStates.apply(state, new Validator.FastRulesChecked("f1", seq, 1,
          invalid ? VerdictStatus.INVALID : VerdictStatus.VALID, List.of(invalid ? secret : warning), List.of(), 10, 2, 900, true, AT));
      if (seq % 100 == 1) {
        state = ValidatorStates.apply(state, new Validator.ValidationFailed("f1", seq, "checks could not run: the pool stopped", AT));
      } else {
        Validator.CheckOutcome check = new Validator.CheckOutcome("unit", List.of("mvn", "-q", "test"), !invalid, Optional.of(invalid ? 1 : 0),
            false, 4200, output('h', 4096), output('t', 4096), 20_000, Optional.of("bubblewrap"));
        state = ValidatorStates.apply(state, new Validator.ChecksCompleted("f1", seq, List.of(check),
            invalid ? VerdictStatus.INVALID : VerdictStatus.VALID, AT));
      }
      everyVerdict += bytes(state.verdict(seq).orElseThrow()).length;
    }

    int size = bytes(state).length;
    System.out.printf("Validator state after 10,000 checkpoints: %,d bytes (every verdict: %,d bytes)%n", size, everyVerdict);
    assertTrue(size < MAX_STATE_BYTES, size + " bytes");
    assertTrue(everyVerdict > 50_000_000L, "the unbounded state it replaces: " + everyVerdict);
    // what decisions need is all there: the latest verdict, the last valid checkpoint, which ones were judged
    assertEquals(10_000, state.ledger().latest().orElseThrow().seq());
    assertEquals(List.of(9_999L), state.ledger().valid());
    assertEquals(List.of(new VerdictLedger.Span(1, 10_000)), state.ledger().seen());
    assertEquals(100, state.ledger().retryable().size(), "the failed validations a later Validate runs again");
    assertTrue(state.ledger().seen(4_321) && !state.ledger().seen(10_001));
    assertEquals(state, serialization().deserialize(bytes(state), Validator.Idle.class).get(), "the snapshot reads back");
  }

  private record Stored(int serializerId, String manifest, byte[] bytes) {
    Object read() {
      return serialization().deserialize(bytes, serializerId, manifest).get();
    }
  }

  private static List<Stored> stored(String resource) throws IOException {
    try (InputStream in = ValidatorStateTest.class.getResourceAsStream(resource)) {
      List<Stored> all = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String[] parts = line.trim().split(" ");
        all.add(new Stored(Integer.parseInt(parts[0]), parts[1], Base64.getDecoder().decode(parts[2])));
      }
      return all;
    }
  }

  /**
   * Events written when verdicts were strings ({@code "valid"}) read as the enum, and are written back byte
   * for byte as they were stored: the journal's contract is unchanged.
   */
  @Test
  void eventsStoredBeforeVerdictsWereAnEnumReadTheSame() throws IOException {
    List<Stored> old = stored("/validator/events-before-enums.txt");
    List<Object> events = old.stream().map(Stored::read).toList();

    Validator.FastRulesChecked valid = (Validator.FastRulesChecked) events.get(1);
    assertEquals(VerdictStatus.VALID, valid.verdict());
    assertEquals(List.of(new Violation("size", "big.bin", Severity.WARNING, "large file")), valid.violations());
    assertEquals(VerdictStatus.INVALID, ((Validator.FastRulesChecked) events.get(5)).verdict());
    assertEquals(Severity.CRITICAL, ((Validator.FastRulesChecked) events.get(5)).violations().get(0).severity());
    assertEquals(VerdictStatus.INVALID, ((Validator.ChecksCompleted) events.get(6)).verdict());
    assertEquals(VerdictStatus.DEGRADED, ((Validator.FastRulesChecked) events.get(8)).verdict());
    Validator.ChecksCompleted completed = (Validator.ChecksCompleted) events.get(3);
    assertEquals(VerdictStatus.VALID, completed.verdict());
    assertEquals(Optional.of("bubblewrap"), completed.checks().get(0).sandbox());
    for (int i = 0; i < old.size(); i++) {
      Object event = events.get(i);
      assertEquals(old.get(i).manifest(), Serializers.manifestFor(serialization().findSerializerFor(event), event));
      assertArrayEquals(old.get(i).bytes(), bytes(event), "written back as stored: " + event);
    }

    // folded, they give the verdicts they always gave
    Validator.State state = new Validator.Idle(VerdictLedger.EMPTY);
    for (Object event : events) {
      state = ValidatorStates.apply(state, (Validator.Event) event);
    }
    assertEquals(List.of(1L), state.ledger().valid());
    assertEquals(List.of(4L), state.ledger().retryable(), "checkpoint 4's validation failed: it may run again");
    Validator.VerdictRecord four = state.verdict(4).orElseThrow();
    assertEquals(List.of(VerdictStatus.DEGRADED, VerdictStatus.RUNNING), List.of(four.status(), four.fastRules()));
    assertEquals(Optional.of(VerdictStatus.INVALID), fold(events, 2).map(Validator.VerdictRecord::status));
    assertEquals(Optional.of(VerdictStatus.DEGRADED), fold(events, 3).map(Validator.VerdictRecord::status));
    assertEquals(Optional.empty(), fold(events, 9));
  }

  private static Optional<Validator.VerdictRecord> fold(List<Object> events, long seq) {
    Optional<Validator.VerdictRecord> verdict = Optional.empty();
    for (Object event : events) {
      verdict = ValidatorStates.fold(verdict, seq, event);
    }
    return verdict;
  }

  /**
   * A snapshot of the state before it was per phase no longer reads; the snapshot store is told that a
   * snapshot is optional, so the entity then recovers from its events (which are never deleted).
   */
  @Test
  void aSnapshotFromBeforeThePhasesIsSkippedNotFatal() throws IOException {
    Stored snapshot = stored("/validator/snapshot-before-records.txt").get(0);
    assertEquals("dev.warden.validate.Validator$State", snapshot.manifest());
    assertThrows(Exception.class, snapshot::read, "the old shape does not read as the new state");

    var persistence = ConfigFactory.parseResources("persistence.conf").resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
    assertTrue(persistence.getBoolean("jdbc-snapshot-store.snapshot-is-optional"), "a snapshot that does not read is skipped");
  }
}
