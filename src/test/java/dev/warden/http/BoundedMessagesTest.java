package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.Materializer;
import akka.stream.javadsl.Source;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A WebSocket message is read up to its limit and no further; past it, the rest is drained, not kept. */
class BoundedMessagesTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local"));
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static BoundedMessages.Read read(TextMessage message, long limit) throws Exception {
    return BoundedMessages.read(message, limit, Duration.ofSeconds(5), materializer).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aStreamedMessageWithinTheLimitIsReadWhole() throws Exception {
    TextMessage message = TextMessage.create(Source.range(1, 100).map(i -> "x".repeat(100)));
    assertEquals("x".repeat(10_000), assertInstanceOf(BoundedMessages.Text.class, read(message, 10_000)).text());
  }

  @Test
  void aStreamedMessageOverTheLimitIsDrainedToTheEndAndReportedTooLarge() throws Exception {
    AtomicLong drained = new AtomicLong();
    String piece = "y".repeat(64 * 1024);
    TextMessage message = TextMessage.create(Source.range(1, 160).map(i -> {
      drained.addAndGet(piece.length());
      return piece;
    }));
    assertEquals(1_048_576, assertInstanceOf(BoundedMessages.TooLarge.class, read(message, 1_048_576)).limit());
    assertEquals(160L * 64 * 1024, drained.get(), "all 10 MiB were read off the socket, none of it kept");
  }

  @Test
  void aStrictMessageIsMeasuredInUtf8Bytes() throws Exception {
    assertInstanceOf(BoundedMessages.Text.class, read(TextMessage.create("€".repeat(10)), 30));
    assertInstanceOf(BoundedMessages.TooLarge.class, read(TextMessage.create("€".repeat(11)), 30));
  }

  @Test
  void aMessageThatNeverEndsFailsAfterTheWait() {
    TextMessage endless = TextMessage.create(Source.repeat("z").throttle(1, Duration.ofMillis(10)));
    ExecutionException failed = assertThrows(ExecutionException.class, () -> BoundedMessages.read(endless, 1_000_000,
        Duration.ofMillis(300), materializer).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertInstanceOf(java.util.concurrent.TimeoutException.class, failed.getCause());
  }
}
