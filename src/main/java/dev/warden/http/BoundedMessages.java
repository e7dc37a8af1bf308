package dev.warden.http;

import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Reads one incoming WebSocket message without ever holding more than a limit of it. Akka HTTP hands
 * a large message over as a stream of pieces; {@code toStrict} would gather all of it, however
 * large. Here the pieces are counted as they come: past the limit what was gathered is dropped and
 * the rest is drained unread, so an endless or 10 MB frame costs at most {@code maxBytes} of memory.
 * A message still arriving after {@code timeout} fails the read.
 */
public final class BoundedMessages {

  private BoundedMessages() {}

  /** What one message turned out to be. */
  public sealed interface Read {}

  /** A text message within the limit. */
  public record Text(String text) implements Read {}

  /** A text message over the limit: {@code limit} bytes, of which it had more; its content is gone. */
  public record TooLarge(long limit) implements Read {}

  /** A binary message, drained unread. */
  public record Binary() implements Read {}

  public static CompletionStage<Read> read(Message message, long maxBytes, Duration timeout, Materializer materializer) {
    if (!message.isText()) {
      if (message.asBinaryMessage().isStrict()) {
        return CompletableFuture.completedFuture(new Binary());
      }
      return message.asBinaryMessage().getStreamedData().completionTimeout(timeout).runWith(Sink.ignore(), materializer)
          .thenApply(done -> new Binary());
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      String strict = text.getStrictText();
      return CompletableFuture.completedFuture(TextLimits.exceeds(strict, maxBytes) ? new TooLarge(maxBytes) : new Text(strict));
    }
    return text.getStreamedText()
        .completionTimeout(timeout)
        .runWith(Sink.fold(new Gathered(maxBytes), Gathered::add), materializer)
        .thenApply(Gathered::result);
  }

  /** The pieces of one streamed message so far, or only their count once past the limit. */
  private static final class Gathered {
    private final long maxBytes;
    private StringBuilder text = new StringBuilder();
    private long bytes;

    Gathered(long maxBytes) {
      this.maxBytes = maxBytes;
    }

    Gathered add(String piece) {
      if (text == null) {
        return this;
      }
      bytes += TextLimits.utf8Length(piece);
      if (bytes > maxBytes) {
        text = null;
      } else {
        text.append(piece);
      }
      return this;
    }

    Read result() {
      return text == null ? new TooLarge(maxBytes) : new Text(text.toString());
    }
  }
}
