package dev.warden.daemon;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One daemon per data directory: {@value #FILE} under it, locked with {@link FileChannel#tryLock()}
 * for as long as the daemon runs (the operating system drops the lock when the process dies, however
 * it dies). A second daemon pointed at the same directory is refused at once, naming the setting to
 * change, before it writes anything else there; the file holds the holder's process id, for the message.
 */
public final class DataDirLock implements AutoCloseable {

  public static final String FILE = "warden.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code dataDir} (which exists) or throws {@link IllegalStateException} saying who holds it and what to change. */
  public static DataDirLock acquire(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    FileChannel channel;
    try {
      channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    } catch (IOException e) {
      throw new IllegalStateException("cannot open " + file + ": " + e.getMessage(), e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException sameJvm) {
      lock = null;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new IllegalStateException("cannot lock " + file + ": " + e.getMessage(), e);
    }
    if (lock == null) {
      closeQuietly(channel);
      throw new IllegalStateException(inUse(dataDir, holder(file)));
    }
    try {
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
      channel.force(false);
    } catch (IOException e) {
      // the lock is what counts; the pid is only for the message
    }
    return new DataDirLock(channel, lock);
  }

  static String inUse(Path dataDir, String holder) {
    return "the data directory " + dataDir + " is in use by another Warden" + holder
        + ": set WARDEN_DATA_DIR (warden.data-dir) to another directory, or stop that one";
  }

  private static String holder(Path file) {
    try {
      String pid = Files.readString(file, StandardCharsets.US_ASCII).strip();
      return pid.matches("[0-9]{1,10}") ? " (process " + pid + ")" : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Releases the lock; the file stays (a lock on it, not its presence, means in use). */
  @Override
  public void close() {
    try {
      if (lock.isValid()) {
        lock.release();
      }
    } catch (IOException ignored) {
      // closing the channel below releases it too
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }
}
