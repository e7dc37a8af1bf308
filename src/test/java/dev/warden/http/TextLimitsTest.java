package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.Rejection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Limits are UTF-8 bytes, as the configuration says; a cut never splits a character. */
class TextLimitsTest {

  private static final String MIXED = "a é € 😀 z"; // 1, 2, 3 and 4 bytes a character

  @Test
  void lengthsAreUtf8Bytes() {
    assertEquals(MIXED.getBytes(StandardCharsets.UTF_8).length, TextLimits.utf8Length(MIXED));
    assertEquals(0, TextLimits.utf8Length(""));
  }

  @Test
  void exceedsCountsBytesNotCharacters() {
    assertFalse(TextLimits.exceeds("€€", 6));
    assertTrue(TextLimits.exceeds("€€", 5), "two 3-byte characters are 6 bytes");
    assertFalse(TextLimits.exceeds("x".repeat(1000), 1000));
    assertTrue(TextLimits.exceeds("x".repeat(1001), 1000));
  }

  @Test
  void aCutIsWithinTheLimitAndNeverHalfACharacter() {
    for (int limit = 0; limit <= 16; limit++) {
      String cut = TextLimits.cut(MIXED, limit);
      byte[] bytes = cut.getBytes(StandardCharsets.UTF_8);
      assertTrue(bytes.length <= limit, limit + ": " + bytes.length);
      assertTrue(MIXED.startsWith(cut));
      assertEquals(cut, new String(bytes, StandardCharsets.UTF_8), "no broken character at limit " + limit);
    }
    assertEquals("a é € ", TextLimits.cut(MIXED, 10), "the emoji (4 bytes) does not fit in 10");
    assertSame(MIXED, TextLimits.cut(MIXED, 100));
  }

  @Test
  void aFieldOverTheLimitIsA400NamingIt() {
    assertEquals("short", TextLimits.requireWithin("reason", "short", 8));
    Rejection rejection = assertThrows(Rejection.class, () -> TextLimits.requireWithin("reason", "x".repeat(9), 8));
    assertEquals(Rejection.Kind.INVALID, rejection.kind());
    assertEquals("reason", rejection.field().orElseThrow());
    assertTrue(rejection.getMessage().contains("limit of 8 bytes"), rejection.getMessage());
  }
}
