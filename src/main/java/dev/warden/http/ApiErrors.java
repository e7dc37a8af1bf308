package dev.warden.http;

import static akka.http.javadsl.server.Directives.complete;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.AuthenticationFailedRejection;
import akka.http.javadsl.server.AuthorizationFailedRejection;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MalformedRequestContentRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamException;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.pattern.AskTimeoutException;
import dev.warden.Rejection;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps everything that can go wrong in a request to one problem+json response: our rejections to
 * 400/404/409/413, Akka HTTP's own rejections to their usual status, timeouts to 503, and anything
 * unexpected to a logged 500 that leaks no internals.
 */
public final class ApiErrors {

  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  private ApiErrors() {}

  public static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().matchAny(ApiErrors::handle).build();
  }

  public static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handle(AuthenticationFailedRejection.class, rejection -> complete(
            Problems.response(StatusCodes.UNAUTHORIZED,
                    rejection.cause() == akka.http.scaladsl.server.AuthenticationFailedRejection.CredentialsMissing$.MODULE$
                        ? "a bearer token is required (Authorization: Bearer <token>)"
                        : "the bearer token is not valid",
                    null)
                .addHeader(WWWAuthenticate.create(HttpChallenge.createOAuth2("warden")))
                // a client without a valid token keeps no connection: see NewConnections
                .addHeader(akka.http.javadsl.model.headers.Connection.create("close"))))
        .handle(AuthorizationFailedRejection.class, rejection -> complete(
            Problems.response(StatusCodes.FORBIDDEN, "this token's role may not do this", null)))
        .handle(MalformedRequestContentRejection.class, rejection -> unwrap(rejection.getCause()) instanceof EntityStreamSizeException
            ? handle(rejection.getCause())
            : complete(Problems.response(StatusCodes.BAD_REQUEST, rejection.message(), "body")))
        .handleNotFound(complete(Problems.response(StatusCodes.NOT_FOUND, "no such resource", null)))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(Problems::fromPlainResponse);
  }

  /**
   * Around the sealed route: {@code Cache-Control: no-store} and {@code X-Content-Type-Options: nosniff}
   * on every {@code /api} response (errors carry both wherever they come from), nosniff on the rest
   * (health, the dashboard's files); a request that outlives its timeout gets a 503 problem, not
   * Akka's plain text.
   */
  public static Route withSafetyHeaders(Route sealed) {
    return Directives.withRequestTimeoutResponse(
        request -> Problems.response(StatusCodes.SERVICE_UNAVAILABLE, "Warden did not answer in time; try again", null),
        () -> Directives.extractUri(uri -> Directives.respondWithDefaultHeaders(
            uri.path().startsWith("/api/") || uri.path().equals("/api")
                ? java.util.List.of(Problems.NO_STORE, Problems.NOSNIFF)
                : java.util.List.of(Problems.NOSNIFF),
            () -> sealed)));
  }

  private static Route handle(Throwable thrown) {
    Throwable cause = unwrap(thrown);
    if (cause instanceof Rejection rejection) {
      return complete(Problems.of(rejection));
    }
    if (cause instanceof EntityStreamSizeException tooLarge) {
      return complete(Problems.response(StatusCodes.PAYLOAD_TOO_LARGE,
          "the request body is larger than the limit of " + tooLarge.limit() + " bytes", "body"));
    }
    if (cause instanceof EntityStreamException streamFailure) {
      // the body broke off while it was read: a chunk over akka.http.server.parsing.max-chunk-size (which
      // follows warden.http.max-body-bytes) is a body too large; anything else a body that is malformed
      String summary = streamFailure.info().summary();
      boolean tooLarge = summary.contains("exceeds the configured limit") || summary.contains("too large");
      return complete(Problems.response(tooLarge ? StatusCodes.PAYLOAD_TOO_LARGE : StatusCodes.BAD_REQUEST,
          (tooLarge ? "the request body is too large: " : "the request body could not be read: ") + summary, "body"));
    }
    if (cause instanceof AskTimeoutException || cause instanceof TimeoutException) {
      return complete(Problems.response(StatusCodes.SERVICE_UNAVAILABLE, "Warden did not answer in time; try again", null));
    }
    log.error("request failed", cause);
    return complete(Problems.response(StatusCodes.INTERNAL_SERVER_ERROR, "internal error: " + cause.getClass().getSimpleName() + ": " + cause.getMessage(), null));
  }

  static Throwable unwrap(Throwable thrown) {
    Throwable cause = thrown;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
