package dev.warden.checkpoint;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What {@code lstat} says about a path (never following a symlink): the fields git's index compares
 * to decide whether a file must be hashed again.
 */
record Stat(Type type, long size, long mtime, long ctime, long inode, boolean executable) {

  enum Type { DIRECTORY, FILE, SYMLINK, OTHER }

  private static final String ATTRIBUTES = "unix:mode,ino,ctime,size,lastModifiedTime";
  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;

  /** The path's status, or null when nothing is there (or a parent is not a directory). */
  static Stat of(Path path) throws IOException {
    Map<String, Object> a;
    try {
      a = Files.readAttributes(path, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return null;
    } catch (FileSystemException e) {
      if (e.getReason() != null && e.getReason().contains("Not a directory")) {
        return null;
      }
      throw e;
    }
    int mode = (Integer) a.get("mode");
    Type type = switch (mode & S_IFMT) {
      case S_IFDIR -> Type.DIRECTORY;
      case S_IFREG -> Type.FILE;
      case S_IFLNK -> Type.SYMLINK;
      default -> Type.OTHER;
    };
    return new Stat(type, (Long) a.get("size"), nanos((FileTime) a.get("lastModifiedTime")),
        nanos((FileTime) a.get("ctime")), (Long) a.get("ino"), (mode & 0100) != 0);
  }

  /** Whether {@code path} is a real directory (not a symlink to one); cheaper than {@link #of}. */
  static boolean isDirectory(Path path) {
    try {
      return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory();
    } catch (IOException e) {
      return false;
    }
  }

  private static long nanos(FileTime t) {
    return t.to(TimeUnit.NANOSECONDS);
  }

  boolean sameFile(Stat other) {
    return other != null && type == other.type && size == other.size && mtime == other.mtime
        && ctime == other.ctime && inode == other.inode && executable == other.executable;
  }
}
