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
import dev.warden.auth.Role;
import dev.warden.http.ApiDirectives;
import dev.warden.http.Authentication;
import dev.warden.http.Problems;

/**
 * {@code GET /api/v1/events}: the live activity feed as a WebSocket (viewer token as a bearer header,
 * or {@code ?token=} for browsers). {@code ?since=}, {@code ?feature=}, {@code ?types=} and {@code ?batch=} are checked
 * before the upgrade (400 naming the parameter); a plain GET without an upgrade is a 400 too. What the
 * client sends is read and ignored.
 */
public final class FeedRoutes extends ApiDirectives {

  private final FeedHub feed;
  private final Materializer materializer;

  public FeedRoutes(ActorSystem<?> system, FeedHub feed, long maxBodyBytes) {
    super(system, maxBodyBytes);
    this.feed = feed;
    this.materializer = SystemMaterializer.get(system).materializer();
  }

  public Route route(Authentication authentication) {
    return path(PathMatchers.segment("api").slash("v1").slash("events"), () -> get(() ->
        authentication.authenticatedOrQueryToken(caller -> caller.isBound() ? complete(boundRefusal(caller)) : requireRole(caller, Role.VIEWER, () ->
            parameterOptional("since", since -> parameterOptional("feature", feature -> parameterOptional("types", types ->
                parameterOptional("batch", batch -> {
              FeedQuery query = FeedQuery.parse(since, feature, types, batch, feed.catalog().knownTypes());
              return extractWebSocketUpgrade(upgrade -> complete(upgrade.handleMessagesWith(flow(query))))
                  .orElse(complete(Problems.response(StatusCodes.BAD_REQUEST,
                      "/api/v1/events is a WebSocket: connect with an upgrade request (ws://.../api/v1/events)", null)));
            }))))))));
  }

  /** Incoming frames are drained and dropped; the feed goes out; either side closing ends both. */
  Flow<Message, Message, NotUsed> flow(FeedQuery query) {
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .to(Sink.foreach(message -> {
          if (message.isText() && !message.asTextMessage().isStrict()) {
            message.asTextMessage().getStreamedText().runWith(Sink.ignore(), materializer);
          } else if (!message.isText() && !message.asBinaryMessage().isStrict()) {
            message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
          }
        }));
    return Flow.fromSinkAndSourceCoupled(in, feed.subscribe(query).map(TextMessage::create));
  }
}
