package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Caps per token and in all; a refusal is a 429 problem with Retry-After; a released slot is free again. */
class SocketQuotaTest {

  private static SocketQuota quota(int perToken, int total) {
    return new SocketQuota("feed subscriptions", perToken, total, Duration.ofSeconds(7), Duration.ofMinutes(1));
  }

  @Test
  void oneTokenGetsItsCapAndNoMoreWhileOthersStillGetIn() {
    SocketQuota quota = quota(2, 0);
    SocketQuota.Permit first = quota.tryAcquire("dashboard").orElseThrow();
    quota.tryAcquire("dashboard").orElseThrow();
    assertTrue(quota.tryAcquire("dashboard").isEmpty(), "a third one for the same token is refused");
    assertTrue(quota.tryAcquire("ci").isPresent(), "another token is not held back");
    first.release();
    first.release(); // releasing twice frees one slot only
    assertTrue(quota.tryAcquire("dashboard").isPresent());
    assertTrue(quota.tryAcquire("dashboard").isEmpty());
    assertEquals(2, quota.openOf("dashboard"));
  }

  @Test
  void theTotalCapHoldsAcrossTokens() {
    SocketQuota quota = quota(10, 3);
    for (String token : new String[] {"a", "b", "c"}) {
      quota.tryAcquire(token).orElseThrow();
    }
    assertTrue(quota.tryAcquire("d").isEmpty());
    assertEquals(3, quota.open());
  }

  @Test
  void aRefusalIs429WithRetryAfterAndSaysWhichCap() throws Exception {
    SocketQuota quota = quota(1, 0);
    quota.tryAcquire("dashboard").orElseThrow();
    HttpResponse refusal = quota.refusal("dashboard");
    assertEquals(429, refusal.status().intValue());
    assertEquals("7", refusal.getHeader("Retry-After").orElseThrow().value());
    assertEquals("application/problem+json", refusal.entity().getContentType().mediaType().toString());
    String body = ((HttpEntity.Strict) refusal.entity()).getData().utf8String();
    assertTrue(body.contains("already holds 1 feed subscriptions (the limit per token)"), body);
  }

  @Test
  void aPermitWhoseSocketNeverOpensIsReleasedAfterAWhile() throws Exception {
    SocketQuota quota = new SocketQuota("agent connections", 1, 0, Duration.ofSeconds(1), Duration.ofMillis(100));
    Optional<SocketQuota.Permit> permit = quota.tryAcquire("claude");
    assertTrue(permit.isPresent());
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (quota.openOf("claude") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, quota.openOf("claude"), "the slot came back without a WebSocket");
  }
}
