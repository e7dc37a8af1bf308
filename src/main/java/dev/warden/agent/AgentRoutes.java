package dev.warden.agent;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureSubRoutes;
import dev.warden.http.ApiDirectives;
import dev.warden.http.JsonFields;
import dev.warden.http.SocketQuota;
import java.util.concurrent.CompletionStage;
import dev.warden.http.OriginGuard;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /api/v1/features/{id}/agent}: the agent's WebSocket (agent token; a plain GET without an
 * upgrade shows the connection's status to a viewer), and
 * {@code POST /api/v1/features/{id}/questions/{qid}/answer} and {@code POST /api/v1/features/{id}/message} for
 * operators (approver token).
 */
public final class AgentRoutes extends ApiDirectives implements FeatureSubRoutes {

  private final ClusterSharding sharding;
  private final FeatureService features;
  private final Duration askTimeout;
  private final Materializer materializer;
  private final ActorSystem<?> system;
  private final AgentSettings settings;
  private final SocketQuota connections;
  private final OriginGuard origins;

  private final java.util.function.BiConsumer<String, String> connected;

  /** {@code connected} hears (feature, caller name) of each agent connection: its proposals are made in that name. */
  public AgentRoutes(ActorSystem<?> system, FeatureService features, long maxBodyBytes, Duration askTimeout, AgentSettings settings,
      OriginGuard origins, java.util.function.BiConsumer<String, String> connected) {
    super(system, maxBodyBytes);
    this.system = system;
    this.origins = origins;
    this.connected = connected;
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.askTimeout = askTimeout;
    this.settings = settings;
    this.materializer = SystemMaterializer.get(system).materializer();
    this.connections = new SocketQuota("agent connections", settings.maxConnectionsPerToken(), 0, limits.retryAfter(),
        settings.reservationTimeout());
  }

  @Override
  public Route route(Caller caller, String id) {
    return concat(
        path("agent", () -> get(() -> extractWebSocketUpgrade(upgrade -> origins.check(() -> caller.role().includes(Role.AGENT) ? connect(caller, id)
                : complete(dev.warden.http.Problems.response(StatusCodes.FORBIDDEN, "connecting as an agent needs an agent token", null))))
            .orElse(onSuccess(features.get(id), feature -> onSuccess(
                sharding.entityRefFor(AgentLink.ENTITY_KEY, id).<AgentLink.AgentStatus>ask(AgentLink.GetStatus::new, askTimeout),
                status -> completeJson(StatusCodes.OK, AgentView.fromDomain(status))))))),
        path("message", () -> post(() -> requireRole(caller, Role.APPROVER, () -> bodyText(text -> {
          JsonFields body = JsonFields.parseObject(mapper, text, false).onlyKeys(Set.of("text"));
          String note = limitedText("text", body.requiredText("text"));
          if (note.isBlank()) {
            throw Rejection.invalid("text", "must not be blank");
          }
          if (dev.warden.http.TextLimits.utf8Length(note) > settings.maxTextBytes()) {
            throw Rejection.invalid("text", "is longer than the limit of " + settings.maxTextBytes() + " bytes (warden.agent.max-text-bytes)");
          }
          return onSuccess(message(id, note, caller), delivery -> completeJson(StatusCodes.ACCEPTED, delivery));
        })))),
        pathPrefix("questions", () -> pathPrefix(akka.http.javadsl.server.PathMatchers.segment(), questionId ->
            path("answer", () -> post(() -> requireRole(caller, Role.APPROVER, () -> bodyText(text -> {
              JsonFields body = JsonFields.parseObject(mapper, text, false).onlyKeys(Set.of("text"));
              String answer = limitedText("text", body.requiredText("text"));
              if (answer.isBlank()) {
                throw Rejection.invalid("text", "must not be blank");
              }
              return onSuccess(features.answer(id, questionId, answer, caller), feature -> {
                sharding.entityRefFor(AgentLink.ENTITY_KEY, id).tell(new AgentLink.Notify(AgentMessage.answer(questionId, answer)));
                return completeJson(StatusCodes.OK, dev.warden.feature.FeatureJson.FeatureView.fromDomain(feature));
              });
            })))))));
  }

  /**
   * A person's note to the feature's agent: 404/409 for an unknown or ended feature, 409 when no agent is connected
   * (nothing recorded); once sent, the feed's {@code agent.messaged} says who wrote and how much, not what.
   */
  private CompletionStage<AgentLink.Delivery> message(String id, String note, Caller caller) {
    return features.requireLive(id)
        .thenCompose(feature -> sharding.entityRefFor(AgentLink.ENTITY_KEY, id)
            .<AgentLink.Delivery>ask(replyTo -> new AgentLink.Deliver(AgentMessage.text(note, caller.name()), replyTo), askTimeout))
        .thenCompose(delivery -> {
          if (!delivery.delivered()) {
            throw Rejection.conflict("no agent is connected to feature '" + id + "'");
          }
          return sharding.entityRefFor(dev.warden.feature.Feature.ENTITY_KEY, id)
              .<dev.warden.feature.Feature.Reply>ask(replyTo -> new dev.warden.feature.Feature.RecordMessage(caller.name(),
                  dev.warden.http.TextLimits.utf8Length(note), replyTo), askTimeout)
              .thenApply(recorded -> delivery);
        });
  }

  /** Counted against the token's agent connections (429 past the cap) from here until the WebSocket ends. */
  private Route connect(Caller caller, String id) {
    java.util.Optional<SocketQuota.Permit> permit = connections.tryAcquire(caller.name());
    if (permit.isEmpty()) {
      return complete(connections.refusal(caller.name()));
    }
    String connectionId = UUID.randomUUID().toString();
    CompletionStage<AgentLink.Reservation> reserving = features.requireLive(id).thenCompose(feature -> sharding.entityRefFor(AgentLink.ENTITY_KEY, id)
        .<AgentLink.Reservation>ask(replyTo -> new AgentLink.Reserve(connectionId, replyTo), askTimeout));
    reserving.whenComplete((reservation, failure) -> {
      if (!(reservation instanceof AgentLink.Reserved)) {
        permit.get().release();
      }
    });
    return onSuccess(reserving,
        reservation -> {
          if (reservation instanceof AgentLink.Refused refused) {
            throw Rejection.of(refused.kind(), refused.reason());
          }
          AgentLink.Reserved reserved = (AgentLink.Reserved) reservation;
          connected.accept(id, caller.name());
          return handleWebSocketMessages(permit.get().guard(AgentSocket.flow(reserved.link(), connectionId, settings.maxMessageBytes(),
              askTimeout, system.scheduler(), materializer)));
        });
  }

  /** The agent connection as the API shows it. */
  public record AgentView(boolean connected, String agent, String version, List<String> capabilities, Instant lastSeen,
      boolean paused, List<String> recentLog) {
    static AgentView fromDomain(AgentLink.AgentStatus s) {
      return new AgentView(s.connected(), s.agent().orElse(null), s.version().orElse(null), s.capabilities(),
          s.lastSeen().orElse(null), s.paused(), s.recentLog());
    }
  }
}
