package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.testing.RunningDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lifecycle on the default embedded H2 database, plus the zero-setup admin token. */
class FeatureLifecycleH2IT extends FeatureLifecycleContract {

  @Override
  protected String[] freshDatabase() {
    return new String[] {"", "", ""};
  }

  @Test
  void withoutConfiguredTokensTheFirstStartWritesAnAdminTokenThatWorks() throws Exception {
    Path dataDir = tmp.resolve("data");
    try (RunningDaemon daemon = RunningDaemon.start(RunningDaemon.config(dataDir, "", "", "", List.of(), false)).awaitReady()) {
      Path file = dataDir.resolve("admin.token");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      String token = Files.readString(file).trim();
      assertEquals(200, daemon.get("/api/v1/features", token).status());
      daemon.get("/api/v1/features", RunningDaemon.ADMIN).assertProblem(401, null);
      assertTrue(Files.exists(dataDir.resolve("db")), "the embedded database lives in the data directory");
    }
  }
}
