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
}
