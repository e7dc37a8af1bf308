package dev.warden.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Git's pack and pack-index (version 2) files as {@link PackStore} writes and reads them: a pack
 * being written ({@link PendingPack}), index entries, and moving both into place in the order that
 * keeps every reader whole (see {@link PendingPack#finish}).
 */
final class PackFiles {

  private static final Logger log = LoggerFactory.getLogger(PackFiles.class);

  /** Pending objects stay in memory up to this size, then go to a file. */
  static final int MEMORY_LIMIT = 8 << 20;
  private static final byte[] PACK_SIGNATURE = {'P', 'A', 'C', 'K'};
  private static final byte[] IDX_SIGNATURE = {(byte) 0xff, 't', 'O', 'c'};

  private PackFiles() {}

  record PackIndexEntry(ObjectId id, long offset, int crc) {}

  /** Reads a version 2 pack index (ids, CRCs, offsets). */
  static List<PackIndexEntry> readIndex(Path idx) throws IOException {
    byte[] b = Files.readAllBytes(idx);
    if (b.length < 8 + 256 * 4 + 40 || !Arrays.equals(Arrays.copyOf(b, 4), IDX_SIGNATURE) || readInt(b, 4) != 2) {
      throw new IOException(idx + " is not a version 2 pack index");
    }
    int n = readInt(b, 8 + 255 * 4);
    int ids = 8 + 256 * 4;
    int crcs = ids + n * 20;
    int offsets = crcs + n * 4;
    int large = offsets + n * 4;
    List<PackIndexEntry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ObjectId id = ObjectId.fromRaw(b, ids + i * 20);
      int crc32 = readInt(b, crcs + i * 4);
      long offset = readInt(b, offsets + i * 4) & 0xffffffffL;
      if ((offset & 0x80000000L) != 0) {
        int at = large + (int) (offset & 0x7fffffffL) * 8;
        offset = ((readInt(b, at) & 0xffffffffL) << 32) | (readInt(b, at + 4) & 0xffffffffL);
      }
      out.add(new PackIndexEntry(id, offset, crc32));
    }
    return out;
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  static byte[] buildIndex(List<PackIndexEntry> entries, byte[] packChecksum, MessageDigest md) {
    List<PackIndexEntry> sorted = new ArrayList<>(entries);
    sorted.sort((a, b) -> a.id().compareTo(b.id()));
    int n = sorted.size();
    int largeCount = 0;
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        largeCount++;
      }
    }
    ByteBuffer out = ByteBuffer.allocate(8 + 256 * 4 + n * 28 + largeCount * 8 + 40);
    out.put(IDX_SIGNATURE).putInt(2);
    int[] fanout = new int[256];
    for (PackIndexEntry e : sorted) {
      fanout[e.id().getFirstByte()]++;
    }
    int running = 0;
    for (int i = 0; i < 256; i++) {
      running += fanout[i];
      out.putInt(running);
    }
    byte[] raw = new byte[20];
    for (PackIndexEntry e : sorted) {
      e.id().copyRawTo(raw, 0);
      out.put(raw);
    }
    for (PackIndexEntry e : sorted) {
      out.putInt(e.crc());
    }
    int largeIndex = 0;
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        out.putInt(0x80000000 | largeIndex++);
      } else {
        out.putInt((int) e.offset());
      }
    }
    for (PackIndexEntry e : sorted) {
      if (e.offset() > 0x7fffffffL) {
        out.putLong(e.offset());
      }
    }
    out.put(packChecksum);
    md.reset();
    md.update(out.array(), 0, out.position());
    out.put(md.digest());
    return out.array();
  }

  /**
   * A pack being written: in memory up to {@link #MEMORY_LIMIT}, then in a temporary file in the pack
   * directory. The first 12 bytes are reserved for the header, written when the count is known.
   */
  interface FileSource {
    Path get() throws IOException;
  }

  static final class PendingPack {
    private final Path dir;
    private final FileSource files;
    private byte[] memory;
    private int memoryLength = 12;
    private Path tmp;
    private FileChannel file;
    private long fileLength;

    PendingPack(Path dir, FileSource files, byte[] buffer) {
      this.dir = dir;
      this.files = files;
      this.memory = buffer;
    }

    byte[] memory() {
      return memory;
    }

    long position() {
      return file == null ? memoryLength : fileLength;
    }

    void write(byte[] b, int off, int len, CRC32 crc) {
      if (crc != null) {
        crc.update(b, off, len);
      }
      try {
        if (file == null && memoryLength + len <= MEMORY_LIMIT) {
          if (memoryLength + len > memory.length) {
            memory = Arrays.copyOf(memory, Math.max(memory.length * 2, memoryLength + len));
          }
          System.arraycopy(b, off, memory, memoryLength, len);
          memoryLength += len;
          return;
        }
        if (file == null) {
          tmp = files.get();
          file = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
          writeFully(ByteBuffer.wrap(memory, 0, memoryLength), 0);
          fileLength = memoryLength;
          memory = null;
        }
        writeFully(ByteBuffer.wrap(b, off, len), fileLength);
        fileLength += len;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write a checkpoint pack in " + dir, e);
      }
    }

    /** Drops everything written from {@code position} on (a blob that turned out to be a duplicate). */
    void truncate(long position) throws IOException {
      if (file == null) {
        memoryLength = (int) position;
      } else {
        file.truncate(position);
        fileLength = position;
      }
    }

    private void writeFully(ByteBuffer bb, long at) throws IOException {
      while (bb.hasRemaining()) {
        at += file.write(bb, at);
      }
    }

    /** Writes header, trailer and index, moves both into place; returns {@code pack-<checksum>}. */
    String finish(int count, List<PackIndexEntry> idx, MessageDigest md) throws IOException {
      byte[] head = new byte[12];
      System.arraycopy(PACK_SIGNATURE, 0, head, 0, 4);
      head[7] = 2;
      head[8] = (byte) (count >>> 24);
      head[9] = (byte) (count >>> 16);
      head[10] = (byte) (count >>> 8);
      head[11] = (byte) count;
      byte[] checksum;
      md.reset();
      if (file == null) {
        System.arraycopy(head, 0, memory, 0, 12);
        md.update(memory, 0, memoryLength);
        checksum = md.digest();
        tmp = files.get();
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
          ByteBuffer[] parts = {ByteBuffer.wrap(memory, 0, memoryLength), ByteBuffer.wrap(checksum)};
          while (parts[1].hasRemaining()) {
            out.write(parts);
          }
        }
      } else {
        writeFully(ByteBuffer.wrap(head), 0);
        ByteBuffer chunk = ByteBuffer.allocate(256 * 1024);
        long at = 0;
        while (at < fileLength) {
          chunk.clear();
          int n = file.read(chunk, at);
          if (n < 0) {
            throw new IOException("temporary pack " + tmp + " shrank");
          }
          md.update(chunk.array(), 0, n);
          at += n;
        }
        checksum = md.digest();
        writeFully(ByteBuffer.wrap(checksum), fileLength);
        file.close();
        file = null;
      }
      String name = "pack-" + ObjectId.fromRaw(checksum).name();
      Path pack = dir.resolve(name + ".pack");
      Path index = dir.resolve(name + ".idx");
      if (Files.exists(pack)) {
        // the very same objects are already stored (a merge repeated after a crash)
        Files.deleteIfExists(tmp);
        tmp = null;
        return name;
      }
      Path tmpIdx = files.get();
      Files.write(tmpIdx, buildIndex(idx, checksum, md), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      readOnly(tmp);
      readOnly(tmpIdx);
      // the index first, then the pack: JGit lists *.pack and then opens the index (a pack seen
      // without it is logged as an ERROR "Failed to access pack file"); git lists *.idx and skips
      // one whose pack is not there yet. The pack appearing last is what makes both complete
      move(tmpIdx, index);
      move(tmp, pack);
      tmp = null;
      return name;
    }

    void delete() {
      try {
        if (file != null) {
          file.close();
          file = null;
        }
        if (tmp != null) {
          Files.deleteIfExists(tmp);
          tmp = null;
        }
      } catch (IOException e) {
        log.debug("cannot delete temporary pack {}: {}", tmp, e.toString());
      }
      memory = null;
    }
  }

  private static final Set<PosixFilePermission> READ_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);

  static void readOnly(Path p) {
    try {
      Files.setPosixFilePermissions(p, READ_ONLY);
    } catch (IOException | UnsupportedOperationException e) {
      // cosmetic (git does it to protect packs); nothing depends on it
    }
  }

  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }
}
