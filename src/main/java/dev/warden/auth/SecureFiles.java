package dev.warden.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read Warden's own files: the data directory is 0700 (created so, and tightened at start
 * when it is looser), the database files and the token files 0600. Other local users must not read
 * tokens, the journal or other features' worktrees.
 */
public final class SecureFiles {

  private static final Logger log = LoggerFactory.getLogger(SecureFiles.class);
  public static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  public static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private SecureFiles() {}

  /**
   * Creates {@code dir} (and missing parents) with mode 0700, or tightens an existing one to 0700,
   * logging what it was. Returns its real path.
   */
  public static Path ownerOnlyDirectory(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    }
    tighten(dir, OWNER_ONLY_DIR);
    return dir.toRealPath();
  }

  /**
   * Sets {@code path}'s mode to {@code wanted} when it grants anything more (logging the old mode);
   * a symlink is not followed (and left alone). Returns whether it changed anything.
   */
  public static boolean tighten(Path path, Set<PosixFilePermission> wanted) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(path)) {
      return false;
    }
    Set<PosixFilePermission> current = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
    if (wanted.containsAll(current)) {
      return false;
    }
    Files.setPosixFilePermissions(path, wanted);
    log.info("{} was mode {}: tightened to {}", path, PosixFilePermissions.toString(current), PosixFilePermissions.toString(wanted));
    return true;
  }

  /** Every regular file directly in {@code dir} to 0600 (the embedded database's files); the directory to 0700. */
  public static void ownerOnlyFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    tighten(dir, OWNER_ONLY_DIR);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
        tighten(file, OWNER_ONLY_FILE);
      }
    }
  }
}
