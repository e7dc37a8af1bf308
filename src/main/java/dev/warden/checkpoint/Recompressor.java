package dev.warden.checkpoint;

import java.io.IOException;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.eclipse.jgit.lib.Constants;

/**
 * Re-deflates a stored pack entry (written uncompressed by a capture) at level 1: text blobs shrink
 * to about half, trees by about a third (their names compress, their ids do not).
 */
final class Recompressor implements AutoCloseable {
  static final int LIMIT = 16 << 20;
  private final java.util.zip.Inflater inflater = new java.util.zip.Inflater();
  private final Deflater deflater = new Deflater(Deflater.BEST_SPEED);
  private byte[] raw = new byte[64 * 1024];
  private final byte[] chunk = new byte[64 * 1024];

  /** Writes the re-compressed entry to {@code out}; false (nothing written) when it should be copied. */
  boolean recompress(byte[] entry, int length, PackFiles.PendingPack out, CRC32 crc) throws IOException {
    int b = entry[0] & 0xff;
    int type = (b >> 4) & 7;
    long size = b & 0x0f;
    int shift = 4;
    int p = 1;
    while ((b & 0x80) != 0) {
      b = entry[p++] & 0xff;
      size |= (long) (b & 0x7f) << shift;
      shift += 7;
    }
    int data = length - p;
    if (type < Constants.OBJ_COMMIT || type > Constants.OBJ_TAG || size > LIMIT || data < size) {
      return false; // already compressed (or not worth it)
    }
    if (raw.length < size) {
      raw = new byte[(int) size];
    }
    inflater.reset();
    inflater.setInput(entry, p, data);
    int n = 0;
    try {
      while (n < size && !inflater.finished()) {
        int r = inflater.inflate(raw, n, (int) size - n);
        if (r == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          return false;
        }
        n += r;
      }
    } catch (java.util.zip.DataFormatException e) {
      throw new IOException("corrupt object in a checkpoint pack: " + e.getMessage(), e);
    }
    if (n != size) {
      return false;
    }
    out.write(entry, 0, p, crc);
    deflater.reset();
    deflater.setInput(raw, 0, (int) size);
    deflater.finish();
    while (!deflater.finished()) {
      int d = deflater.deflate(chunk);
      out.write(chunk, 0, d, crc);
    }
    return true;
  }

  @Override
  public void close() {
    inflater.end();
    deflater.end();
  }
}
