package dev.warden.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bootstrap admin token for a daemon with no configured tokens: created once at
 * {@code <data>/admin.token}, readable by its owner only, and read back on later starts. The token
 * itself is never logged, only where it is.
 */
public final class AdminTokenFile {

  private static final Logger log = LoggerFactory.getLogger(AdminTokenFile.class);
  public static final String FILE_NAME = "admin.token";

  private AdminTokenFile() {}

  /** Reads the token at {@code <dataDir>/admin.token}, creating it first when it does not exist. */
  public static String readOrCreate(Path dataDir) {
    Path file = dataDir.resolve(FILE_NAME);
    try {
      if (!Files.exists(file)) {
        String token = newToken();
        try {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
          log.info("no API tokens configured: created an admin token in {} (mode 0600)", file);
          return token;
        } catch (FileAlreadyExistsException raced) {
          // another start created it first; read theirs
        }
      }
      SecureFiles.tighten(file, SecureFiles.OWNER_ONLY_FILE); // an older or hand-made file may be readable by others
      String token = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new IllegalStateException(file + " is empty: delete it to have a new admin token created");
      }
      log.info("no API tokens configured: the admin token is in {}", file);
      return token;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or create the admin token " + file + ": " + e.getMessage(), e);
    }
  }

  static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return "wdn_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
