package dev.warden.feed;

import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import dev.warden.auth.Role;
import dev.warden.http.BoundedMessages;
import dev.warden.http.SocketQuota;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import dev.warden.http.ApiDirectives;
import dev.warden.http.Authentication;
import dev.warden.http.OriginGuard;
import dev.warden.http.Problems;

/**
 * {@code GET /api/v1/events}: the live activity feed as a WebSocket (viewer token as a bearer header,
 * or {@code ?token=} for browsers). {@code ?since=}, {@code ?feature=}, {@code ?types=} and {@code ?batch=} are checked
 * before the upgrade (400 naming the parameter); a plain GET without an upgrade is a 400 too. A web page
 * other than Warden's own is refused (403, {@link OriginGuard}). What the client sends is read and
 * ignored, up to {@code warden.feed.max-message-bytes} a message: a larger one is answered with
 * {@code {"type":"error"}} and the end of the feed. Subscriptions are capped per token and in all (429
 * with Retry-After).
 */
public final class FeedRoutes extends ApiDirectives {

  private final FeedHub feed;
  private static final Duration MAX_FRAME_WAIT = Duration.ofSeconds(10);

  private final OriginGuard origins;
  private final Materializer materializer;
  private final SocketQuota subscriptions;

  public FeedRoutes(ActorSystem<?> system, FeedHub feed, long maxBodyBytes, OriginGuard origins) {
    super(system, maxBodyBytes);
    this.feed = feed;
    this.origins = origins;
    this.materializer = SystemMaterializer.get(system).materializer();
    FeedSettings settings = feed.settings();
    this.subscriptions = new SocketQuota("feed subscriptions", settings.maxSubscribersPerToken(), settings.maxSubscribers(),
        limits.retryAfter(), MAX_FRAME_WAIT);
  }

  public Route route(Authentication authentication) {
    return path(PathMatchers.segment("api").slash("v1").slash("events"), () -> get(() -> origins.check(() ->
        authentication.authenticatedOrQueryToken(caller -> caller.isBound() ? complete(boundRefusal(caller)) : requireRole(caller, Role.VIEWER, () ->
            parameterOptional("since", since -> parameterOptional("feature", feature -> parameterOptional("types", types ->
                parameterOptional("batch", batch -> {
              FeedQuery query = FeedQuery.parse(since, feature, types, batch, feed.catalog().knownTypes());
              return extractWebSocketUpgrade(upgrade -> subscriptions.tryAcquire(caller.name())
                      .map(permit -> complete(upgrade.handleMessagesWith(permit.guard(flow(query)))))
                      .orElseGet(() -> complete(subscriptions.refusal(caller.name()))))
                  .orElse(complete(Problems.response(StatusCodes.BAD_REQUEST,
                      "/api/v1/events is a WebSocket: connect with an upgrade request (ws://.../api/v1/events)", null)));
            })))))))));
  }

  /**
   * Incoming frames are drained and dropped, never gathered past the limit; the feed goes out; either
   * side closing ends both. A message over the limit ends the feed with an error.
   */
  Flow<Message, Message, NotUsed> flow(FeedQuery query) {
    long limit = feed.settings().maxMessageBytes();
    CompletableFuture<String> tooLarge = new CompletableFuture<>();
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> BoundedMessages.read(message, limit, MAX_FRAME_WAIT, materializer))
        .to(Sink.foreach(read -> {
          if (read instanceof BoundedMessages.TooLarge) {
            tooLarge.complete(mapper.createObjectNode().put("type", "error")
                .put("message", "a message was larger than the limit of " + limit + " bytes (warden.feed.max-message-bytes); closing")
                .toString());
          }
        }));
    Source<Message, NotUsed> out = feed.subscribe(query).map(text -> (Message) TextMessage.create(text))
        .merge(Source.completionStage(tooLarge).map(text -> (Message) TextMessage.create(text)), true);
    return Flow.fromSinkAndSourceCoupled(in, out);
  }
}
