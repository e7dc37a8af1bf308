package dev.warden.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.NotUsed;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import akka.http.javadsl.settings.ServerSettings;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the one HTTP port (API, health, the dashboard). A failed bind terminates the system;
 * on shutdown the port is unbound and in-flight requests get a few seconds to finish. Every
 * connection passes {@link NewConnections} first: one that sends no request in time is closed.
 * Every error is problem+json, including the ones Akka's parser answers before any route runs
 * ({@link ProblemParsingErrorHandler}) and a request timeout; API responses are never cached or sniffed.
 */
public final class HttpServer {

  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  private HttpServer() {}

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port, Route route) {
    Route sealed = route.seal(ApiErrors.rejectionHandler(), ApiErrors.exceptionHandler());
    ClientLimits limits = ClientLimits.fromConfig(system.settings().config().getConfig("warden"));
    AtomicInteger waiting = new AtomicInteger();
    Flow<HttpRequest, HttpResponse, NotUsed> perConnection = Flow.<HttpRequest>create()
        .via(new NewConnections(waiting, limits.maxNewConnections(), limits.firstRequestTimeout()))
        .via(ApiErrors.withSafetyHeaders(sealed).flow(system));
    return Http.get(system)
        .newServerAt(host, port)
        .withSettings(ServerSettings.create(system.settings().config()).withParsingErrorHandler(ProblemParsingErrorHandler.class.getName()))
        .bindFlow(perConnection)
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(5), system))
        .whenComplete((binding, failure) -> {
          if (failure != null) {
            log.error("cannot bind HTTP to {}:{}: {}", host, port, failure.getMessage());
            system.terminate();
          } else {
            log.info("HTTP listening on {}:{}", binding.localAddress().getHostString(), binding.localAddress().getPort());
          }
        });
  }
}
