package dev.warden.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import dev.warden.feature.Feature;
import dev.warden.process.SandboxRules;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A plan is stored inside the feature's events. Plan, Tier and the rest moved package (issue 12); the
 * journal keeps only the event's class name, never the plan's, so an event written before the move
 * must read back the same, and one written now must be byte for byte what was written before.
 */
class StoredPlanTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseResources("serialization.conf")
      .withFallback(ConfigFactory.parseString("akka.actor.provider = local")).resolve());

  /** The event below as the journal held it before the move, with its manifest. */
  private static final String STORED_MANIFEST = "dev.warden.feature.Feature$PlanChanged";
  private static final String STORED_BYTES =
      "v2lmZWF0dXJlSWRjZi0xZHBsYW6/Z3ZlcnNpb24HbGFsbG93ZWRQYXRoc4Fmc3JjLyoqbmZvcmJpZGRlblBhdGhzgWpzZWNyZXRz"
      + "LyoqbHBsYW5uZWRGaWxlc4Fqc3JjL0EuamF2YWZsaW1pdHO/b21heENoYW5nZWRMaW5lcxkB9G9tYXhDaGFuZ2VkRmlsZXMUbG1h"
      + "eEZpbGVCeXRlc/ZuZGlza1F1b3RhQnl0ZXMaABAAAP9mY2hlY2tzgb9kbmFtZWRsaW50ZGFyZ3aCZG1ha2VkbGludGVwYXRoc2Zz"
      + "cmMvKipudGltZW91dFNlY29uZHMYPP9kdGVzdL9kYXJndoJkbWFrZWR0ZXN0bnRpbWVvdXRTZWNvbmRzGQEs/2xhdXRvUm9sbGJh"
      + "Y2tlc21hcnRrbWluaW11bVRpZXJmbWVkaXVtZ3NhbmRib3i/bGFnZW50TmV0d29ya/RsY2hlY2tOZXR3b3Jr9mh3cml0YWJsZYFm"
      + "L3RtcC94ZmhpZGRlboFmfi8uc3NobGhvbWVXcml0YWJsZfb//2ljaGFuZ2VkQnlkbGVhZGJhdHQyMDI2LTEyLTA3VDIwOjAwOjAw"
      + "Wv8=";

  private static Feature.PlanChanged event() {
    Plan plan = new Plan(7, List.of("src/**"), List.of("secrets/**"), Optional.of(List.of("src/A.java")),
        new Plan.Limits(500, Optional.of(20L), Optional.empty(), 1L << 20),
        List.of(new Plan.Check("lint", List.of("make", "lint"), "src/**", 60)),
        Optional.of(new Plan.TestCommand(List.of("make", "test"), 300)), Optional.of(Plan.SMART), Optional.of(Tier.MEDIUM),
        Optional.of(new SandboxRules(Optional.of(false), Optional.empty(), List.of("/tmp/x"), List.of("~/.ssh"), Optional.empty())));
    return new Feature.PlanChanged("f-1", plan, "lead", Instant.parse("2026-12-07T20:00:00Z"));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aPlanChangedWrittenBeforeTheMoveReadsBackTheSame() {
    Serialization serialization = SerializationExtension.get(akka.actor.typed.javadsl.Adapter.toClassic(testKit.system()));
    byte[] stored = Base64.getDecoder().decode(STORED_BYTES);
    var serializer = serialization.findSerializerFor(event());
    Object read = serialization.deserialize(stored, serializer.identifier(), STORED_MANIFEST).get();
    assertEquals(event(), read);
  }

  @Test
  void aPlanChangedWrittenNowIsStoredAsBefore() {
    Serialization serialization = SerializationExtension.get(akka.actor.typed.javadsl.Adapter.toClassic(testKit.system()));
    var serializer = serialization.findSerializerFor(event());
    assertEquals(STORED_MANIFEST, Serializers.manifestFor(serializer, event()));
    assertArrayEquals(Base64.getDecoder().decode(STORED_BYTES), serialization.serialize(event()).get());
  }
}
