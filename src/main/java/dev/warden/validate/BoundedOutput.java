package dev.warden.validate;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Keeps the first {@code headLimit} and the last {@code tailLimit} bytes of a stream and counts the
 * rest, so that a command printing gigabytes costs a fixed {@code headLimit + tailLimit} bytes. Both
 * buffers are allocated up front and never grow. Written by one reader thread, read by any.
 */
final class BoundedOutput {

  private static final int CHUNK = 8192;

  private final byte[] head;
  private final byte[] tail;
  private int headLength;
  /** Bytes ever written into the tail ring; only its value modulo the ring size (the next slot) and whether it reached the size matter. */
  private long tailWritten;
  private long total;

  BoundedOutput(int headLimit, int tailLimit) {
    if (headLimit < 0 || tailLimit < 0) {
      throw new IllegalArgumentException("limits must not be negative");
    }
    this.head = new byte[headLimit];
    this.tail = new byte[tailLimit];
  }

  /**
   * Reads {@code in} to its end on a daemon thread of its own (a pipe must be drained or the writer
   * blocks). The thread ends at end of stream or on a read error, keeping what it had read.
   */
  Thread drain(InputStream in, String threadName) {
    Thread reader = new Thread(() -> {
      byte[] buffer = new byte[CHUNK];
      try (in) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          write(buffer, 0, n);
        }
      } catch (IOException ignored) {
        // the stream was closed under us or the process went away: what was read is what there is
      }
    }, threadName);
    reader.setDaemon(true);
    reader.start();
    return reader;
  }

  synchronized void write(byte[] bytes, int offset, int length) {
    total += length;
    int toHead = Math.min(length, head.length - headLength);
    System.arraycopy(bytes, offset, head, headLength, toHead);
    headLength += toHead;
    offset += toHead;
    length -= toHead;
    if (length == 0 || tail.length == 0) {
      return;
    }
    if (length > tail.length) { // only the last tail.length bytes of this write can survive
      offset += length - tail.length;
      length = tail.length;
    }
    int slot = (int) (tailWritten % tail.length);
    int first = Math.min(length, tail.length - slot);
    System.arraycopy(bytes, offset, tail, slot, first);
    System.arraycopy(bytes, offset + first, tail, 0, length - first);
    tailWritten += length;
  }

  synchronized long totalBytes() {
    return total;
  }

  synchronized byte[] headBytes() {
    return Arrays.copyOf(head, headLength);
  }

  synchronized byte[] tailBytes() {
    if (tailWritten < tail.length || tail.length == 0) {
      return Arrays.copyOf(tail, (int) tailWritten);
    }
    byte[] ordered = new byte[tail.length];
    int oldest = (int) (tailWritten % tail.length);
    System.arraycopy(tail, oldest, ordered, 0, tail.length - oldest);
    System.arraycopy(tail, 0, ordered, tail.length - oldest, oldest);
    return ordered;
  }

  /** Bytes counted but kept neither in the head nor in the tail. */
  synchronized long droppedBytes() {
    long afterHead = total - headLength;
    return afterHead - Math.min(afterHead, tail.length);
  }

  /** Bytes this buffer holds on to, whatever went through it. */
  int capacity() {
    return head.length + tail.length;
  }

  /** UTF-8 with replacement characters: a limit may cut a character in two, and commands print anything. */
  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
