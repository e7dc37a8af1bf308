package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BoundedOutputTest {

  @Test
  void keepsTheFirstAndLastBytesWhateverTheWriteSizes() {
    byte[] all = new byte[10_000];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) (i % 251);
    }
    for (int chunk : new int[] {1, 3, 7, 100, 4096, 10_000}) {
      BoundedOutput out = new BoundedOutput(100, 37);
      for (int off = 0; off < all.length; off += chunk) {
        out.write(all, off, Math.min(chunk, all.length - off));
      }
      assertArrayEquals(Arrays.copyOf(all, 100), out.headBytes(), "chunk " + chunk);
      assertArrayEquals(Arrays.copyOfRange(all, all.length - 37, all.length), out.tailBytes(), "chunk " + chunk);
      assertEquals(10_000 - 137, out.droppedBytes());
      assertEquals(10_000, out.totalBytes());
    }
  }

  @Test
  void holdsAFixedAmountHoweverMuchGoesThrough() {
    BoundedOutput out = new BoundedOutput(64 * 1024, 64 * 1024);
    byte[] chunk = new byte[1 << 20];
    Arrays.fill(chunk, (byte) 'x');
    for (int i = 0; i < 100; i++) {
      out.write(chunk, 0, chunk.length);
    }
    assertEquals(128 * 1024, out.capacity());
    assertEquals(100L * (1 << 20) - 128 * 1024, out.droppedBytes());
  }

  @Test
  void zeroLimitsKeepNothingAndCountEverything() {
    BoundedOutput out = new BoundedOutput(0, 0);
    out.write("hello".getBytes(StandardCharsets.UTF_8), 0, 5);
    assertEquals(0, out.headBytes().length);
    assertEquals(0, out.tailBytes().length);
    assertEquals(5, out.droppedBytes());
  }
}
