package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A verdict as {@code GET .../checkpoints/{seq}/validation} shows it (moved from SecretViewsTest with the masking). */
class VerdictRoutesTest {

  private static final String KEY_ID = "AKIAPNXZAEHSJL4OA8J0";

  @Test
  void aChecksOutputIsMaskedEvenAcrossTheSeamBetweenHeadAndTail() {
    // nothing dropped: head and tail are one text, and a key may straddle them
    Validator.CheckOutcome whole = outcome("cat keys\nid = AKIAPNXZ", "AEHSJL4OA8J0\nok\n", 0);
    Validator.CheckOutcome cut = outcome("id = " + KEY_ID + "\n", "\nsecond = " + KEY_ID + "\n", 5000);
    Validator.VerdictRecord verdict = new Validator.VerdictRecord(3, "c0ffee", VerdictStatus.VALID, VerdictStatus.VALID, 1, List.of(), List.of(),
        List.of(whole, cut), Optional.empty(), Instant.EPOCH, Optional.of(Instant.EPOCH));
    Validator.VerdictRecord masked = VerdictRoutes.maskedOutputs(verdict);
    assertEquals("cat keys\nid = «secret:aws-access-key-id masked»\nok\n", masked.checks().get(0).outputHead());
    assertEquals("", masked.checks().get(0).outputTail());
    assertEquals("id = «secret:aws-access-key-id masked»\n", masked.checks().get(1).outputHead());
    assertEquals("\nsecond = «secret:aws-access-key-id masked»\n", masked.checks().get(1).outputTail());
    assertEquals(5000, masked.checks().get(1).droppedBytes());
    for (Validator.CheckOutcome c : masked.checks()) {
      assertFalse((c.outputHead() + c.outputTail()).contains(KEY_ID));
    }
    assertTrue(masked.checks().get(0).passed());
    // output without secrets keeps its head and tail as they were
    Validator.CheckOutcome clean = outcome("compiling\n", "done\n", 0);
    Validator.VerdictRecord plain = new Validator.VerdictRecord(4, "c0ffee", VerdictStatus.VALID, VerdictStatus.VALID, 1, List.of(), List.of(),
        List.of(clean), Optional.empty(), Instant.EPOCH, Optional.of(Instant.EPOCH));
    assertEquals(plain, VerdictRoutes.maskedOutputs(plain));
    assertEquals(verdict.seq(), masked.seq());
    assertEquals(verdict.status(), masked.status());
  }

  private static Validator.CheckOutcome outcome(String head, String tail, long dropped) {
    return new Validator.CheckOutcome("show", List.of("cat", "keys"), true, Optional.of(0), false, 5, head, tail, dropped, Optional.empty());
  }
}
