package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SecretViewsTest {

  private static final String KEY_ID = "AKIAPNXZAEHSJL4OA8J0";

  @Test
  void aMaskedViewCountsWhatItHidAndARawOneWhatItLeftIn() {
    String diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+id = " + KEY_ID + "\n";
    SecretViews.View masked = SecretViews.diff(diff, false);
    assertEquals("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+id = «secret:aws-access-key-id masked»\n", masked.text());
    assertEquals(List.of("Warden-Secrets-Masked: 1"), masked.headers().stream().map(h -> h.name() + ": " + h.value()).toList());
    SecretViews.View raw = SecretViews.diff(diff, true);
    assertEquals(diff, raw.text());
    assertEquals(List.of("Warden-Secrets-Raw: 1", "Cache-Control: no-store"),
        raw.headers().stream().map(h -> h.name() + ": " + h.value()).toList());
    assertEquals(List.of("Warden-Secrets-Masked: 0"),
        SecretViews.content("nothing here\n", false).headers().stream().map(h -> h.name() + ": " + h.value()).toList());
  }
}
