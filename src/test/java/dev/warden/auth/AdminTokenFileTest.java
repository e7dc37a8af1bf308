package dev.warden.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminTokenFileTest {

  @TempDir Path dataDir;

  @Test
  void theFirstStartCreatesAnOwnerOnlyTokenAndLaterStartsReadTheSameOne() throws Exception {
    String first = AdminTokenFile.readOrCreate(dataDir);
    Path file = dataDir.resolve("admin.token");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertTrue(first.startsWith("wdn_") && first.length() > 40, first);

    assertEquals(first, AdminTokenFile.readOrCreate(dataDir));
  }

  @Test
  void everyDataDirectoryGetsItsOwnToken(@TempDir Path other) {
    assertNotEquals(AdminTokenFile.readOrCreate(dataDir), AdminTokenFile.readOrCreate(other));
  }
}
