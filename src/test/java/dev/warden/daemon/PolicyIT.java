package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.RunningDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policy file as the daemon sees it: read at start, reloaded on change, a bad edit refused loudly. */
class PolicyIT {

  @TempDir Path tmp;

  private static void await(String what, int millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what + " within " + millis + " ms");
  }

  @Test
  void thePolicyInForceIsShownReloadedAndABadEditKeepsTheLastGoodOne() throws Exception {
    Path file = tmp.resolve("policy.conf");
    Files.writeString(file, "rules = [ { paths = \"docs/**\", tier = low }, { paths = \"src/**\", tier = medium } ]\n");
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(file.toString()))
        .withValue("warden.policy.poll-interval", ConfigValueFactory.fromAnyRef("100ms"));
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      JsonNode policy = daemon.get("/api/v1/policy", RunningDaemon.VIEWER).json();
      assertEquals(2, policy.get("rules").size());
      assertEquals("low", policy.get("rules").get(0).get("tier").asText());
      assertEquals("high", policy.get("unmatchedTier").asText());
      assertTrue(policy.get("lastError").isNull());

      Files.writeString(file, "rules = [ { paths = \"docs/**\", tier = urgent } ]\n");
      await("the bad edit reported", 5000, () -> !daemon.get("/api/v1/policy", RunningDaemon.VIEWER).json().get("lastError").isNull());
      JsonNode kept = daemon.get("/api/v1/policy", RunningDaemon.VIEWER).json();
      assertTrue(kept.get("lastError").asText().contains("rules[0].tier"), kept.toString());
      assertEquals(2, kept.get("rules").size(), "a bad file must keep the last good policy");

      Files.writeString(file, "rules = [ { paths = \"**\", tier = medium } ]\ntiers { high { approvers = 2 } }\n");
      await("the good edit in force", 5000, () -> daemon.get("/api/v1/policy", RunningDaemon.VIEWER).json().get("rules").size() == 1);
      assertEquals(2, daemon.get("/api/v1/policy", RunningDaemon.VIEWER).json().get("highApprovers").asInt());
      daemon.get("/api/v1/policy", null).assertProblem(401, null);
    }
  }

  @Test
  void aBadPolicyFileStopsStartupNamingTheProblem() throws Exception {
    Path file = tmp.resolve("policy.conf");
    Files.writeString(file, "rules = [ { paths = \"src/[a\", tier = low } ]\n");
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(file.toString()));
    RuntimeException failed = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
        () -> RunningDaemon.start(config));
    assertTrue(failed.getMessage().contains("rules[0]"), failed.getMessage());
  }
}
