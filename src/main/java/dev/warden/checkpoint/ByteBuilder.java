package dev.warden.checkpoint;

import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;

/** A growable byte buffer for serialising trees, reused from one capture to the next. */
final class ByteBuilder {
  private byte[] bytes = new byte[8192];
  private int length;

  void reset() {
    length = 0;
  }

  ByteBuilder append(byte b) {
    ensure(1);
    bytes[length++] = b;
    return this;
  }

  ByteBuilder append(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, bytes, length, b.length);
    length += b.length;
    return this;
  }

  ByteBuilder append(ObjectId id) {
    ensure(Constants.OBJECT_ID_LENGTH);
    id.copyRawTo(bytes, length);
    length += Constants.OBJECT_ID_LENGTH;
    return this;
  }

  private void ensure(int more) {
    if (length + more > bytes.length) {
      bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
    }
  }

  byte[] array() {
    return bytes;
  }

  int length() {
    return length;
  }
}
