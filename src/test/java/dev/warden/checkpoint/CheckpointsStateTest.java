package dev.warden.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.warden.checkpoint.Checkpoints.CheckpointRecord;
import dev.warden.plan.Trigger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The chain's state as the snapshot store keeps it: serialized by the same Jackson/CBOR serializer
 * (serialization.conf), bounded however long the chain gets, and snapshots written before it was
 * bounded still read (into the bounded shape).
 */
class CheckpointsStateTest {

  /** The stated bound (docs/architecture.md, "### Checkpoints"): a chain's snapshot after 10,000 checkpoints. */
  static final int MAX_SNAPSHOT_BYTES = 32 * 1024;
  /** The same with every record naming the most skipped files a record keeps ({@link Snapshotter#OVERSIZED_LISTED}). */
  static final int MAX_SNAPSHOT_BYTES_WORST = 512 * 1024;

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseResources("serialization.conf")
      .withFallback(akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.config()).resolve());
  private static final Serialization serialization = SerializationExtension.get(testKit.system());

  private static final Checkpoints.ChainSetup SETUP = new Checkpoints.ChainSetup("f-1", "/repo/.git", "/worktrees/f-1",
      "refs/warden/f-1/checkpoints", "b".repeat(40));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static CheckpointRecord record(long seq, int skipped) {
    String hex = String.format("%040x", seq);
    List<Checkpoints.SkippedFile> files = new ArrayList<>();
    for (int i = 0; i < skipped; i++) {
      files.add(new Checkpoints.SkippedFile("assets/generated/large-file-" + i + ".bin", 5_000_000_000L, 1L << 30));
    }
    return new CheckpointRecord(seq, hex, hex.replace('0', 'a'), String.format("%040x", seq - 1), Trigger.DEBOUNCE, seq % 7 != 0,
        seq % 7 == 0 ? Optional.of("the agent did not acknowledge the pause within 5 s") : Optional.empty(),
        12, 340, 56, 120, 85, Instant.parse("2026-12-07T20:00:00Z").plusSeconds(seq),
        skipped == 0 ? Optional.empty() : Optional.of(files));
  }

  private static CheckpointsState after(int checkpoints, int skippedEach) {
    CheckpointsState.Started state = new CheckpointsState.Started(SETUP, 0, List.of());
    for (int seq = 1; seq <= checkpoints; seq++) {
      state = state.taken(record(seq, skippedEach));
    }
    return state;
  }

  private static byte[] snapshot(Object state) {
    return serialization.serialize(state).get();
  }

  private static Object read(byte[] bytes, Object like, String manifest) {
    return serialization.deserialize(bytes, serialization.findSerializerFor(like).identifier(), manifest).get();
  }

  @Test
  void tenThousandCheckpointsLeaveTheSnapshotUnderItsStatedSize() {
    CheckpointsState state = after(10_000, 0);
    byte[] bytes = snapshot(state);

    assertTrue(bytes.length < MAX_SNAPSHOT_BYTES, "10,000 checkpoints: " + bytes.length + " bytes");
    assertEquals(bytes.length, snapshot(after(1_000, 0)).length, "the same size after 1,000 as after 10,000");
    assertEquals(10_000, state.count());
    assertEquals(CheckpointsState.RECENT_KEPT, state.recent().size());
    assertEquals(record(10_000, 0), state.latest().orElseThrow());
    assertEquals(state, read(bytes, state, Serializers.manifestFor(serialization.findSerializerFor(state), state)));
    System.out.println("Checkpoints snapshot after 10,000 checkpoints: " + bytes.length + " bytes");

    byte[] worst = snapshot(after(10_000, Snapshotter.OVERSIZED_LISTED));
    assertTrue(worst.length < MAX_SNAPSHOT_BYTES_WORST, "10,000 checkpoints each naming 100 skipped files: " + worst.length + " bytes");
    System.out.println("Checkpoints snapshot, every record naming 100 skipped files: " + worst.length + " bytes");
  }

  @Test
  void aSnapshotWrittenBeforeTheStateWasBoundedRecoversWithItsCountAndNewestRecords() throws Exception {
    ObjectMapper cbor = akka.serialization.jackson.JacksonObjectMapperProvider.get(testKit.system())
        .getOrCreate("jackson-cbor", Optional.of(new com.fasterxml.jackson.dataformat.cbor.CBORFactory()));
    List<CheckpointRecord> all = new ArrayList<>();
    ObjectNode old = cbor.createObjectNode(); // the old mutable class: {"setup": ..., "checkpoints": [every record]}
    old.set("setup", cbor.valueToTree(SETUP));
    ArrayNode list = old.putArray("checkpoints");
    for (int seq = 1; seq <= 250; seq++) {
      all.add(record(seq, seq == 249 ? 2 : 0));
      list.add(cbor.<ObjectNode>valueToTree(all.get(seq - 1)));
    }

    // the manifest old snapshots were stored with: the old class's name, no version
    Object recovered = read(cbor.writeValueAsBytes(old), after(1, 0), "dev.warden.checkpoint.Checkpoints$State");

    CheckpointsState.Started started = assertInstanceOf(CheckpointsState.Started.class, recovered);
    assertEquals(SETUP, started.setup());
    assertEquals(250, started.count());
    assertEquals(all.subList(250 - CheckpointsState.RECENT_KEPT, 250), started.recent());
    assertEquals(Optional.of(all.get(248)), started.bySeq(249));
    assertTrue(started.onlyInJournal(1) && started.bySeq(1).isEmpty(), "the rest is read from the journal");
    // and what it continues with is numbered on from there
    assertEquals(251, started.taken(record(251, 0)).latest().orElseThrow().seq());
  }
}
