package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's config file may hold the database password: it is remembered so that every sandbox hides it. */
class WardenConfigTest {

  @TempDir Path tmp;

  @Test
  void theOperatorsFileIsRememberedForTheSandboxToHide() throws Exception {
    Path file = Files.writeString(tmp.resolve("warden.conf"), "warden.database.password = \"s3cret\"\n");
    var config = WardenConfig.load(Optional.of(file));
    assertEquals(file.toAbsolutePath().normalize().toString(), config.getString(WardenConfig.OPERATOR_FILE));
    assertFalse(WardenConfig.load(Optional.empty()).hasPath(WardenConfig.OPERATOR_FILE));
  }

  @Test
  void aLoneNodeTakesAFreeClusterPortUnlessOneIsConfigured() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("WARDEN_CLUSTER_PORT") == null, "WARDEN_CLUSTER_PORT is set here");
    assertEquals(0, WardenConfig.load(Optional.empty()).getInt(WardenConfig.CLUSTER_PORT),
        "no seed nodes, no port: a free one, so a second daemon on the host needs no setting of its own");
    Path seeded = Files.writeString(tmp.resolve("seeded.conf"), "akka.cluster.seed-nodes = [\"akka://warden@10.0.0.1:25520\"]\n");
    assertEquals(WardenConfig.DEFAULT_CLUSTER_PORT, WardenConfig.load(Optional.of(seeded)).getInt(WardenConfig.CLUSTER_PORT),
        "a node of a real cluster keeps the well-known port");
    Path fixed = Files.writeString(tmp.resolve("fixed.conf"), "akka.remote.artery.canonical.port = 25600\n");
    assertEquals(25600, WardenConfig.load(Optional.of(fixed)).getInt(WardenConfig.CLUSTER_PORT));
  }
}
