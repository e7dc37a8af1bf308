package dev.warden.http;

import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Rejections;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.server.directives.SecurityDirectives.ProvidedCredentials;
import dev.warden.auth.Caller;
import dev.warden.auth.TokenRegistry;
import java.util.Optional;
import java.util.function.Function;

/** Bearer-token authentication for everything under {@code /api}: no token 401, unknown token 401. */
public final class Authentication extends AllDirectives {

  private final TokenRegistry tokens;

  public Authentication(TokenRegistry tokens) {
    this.tokens = tokens;
  }

  public Route authenticated(Function<Caller, Route> inner) {
    return authenticateOAuth2("warden", this::verify, inner);
  }

  /**
   * As {@link #authenticated}, but without an {@code Authorization} header the token may come as
   * {@code ?token=}: a browser's WebSocket cannot set headers. Only for the routes that need it (the
   * live feed), since tokens in URLs end up in proxies' logs.
   */
  public Route authenticatedOrQueryToken(Function<Caller, Route> inner) {
    return optionalHeaderValueByType(Authorization.class, header -> header.isPresent()
        ? authenticated(inner)
        : parameterOptional("token", token -> token.isEmpty()
            ? authenticated(inner)
            : tokens.authenticate(token.get()).map(inner)
                .orElseGet(() -> reject(Rejections.authenticationCredentialsRejected(HttpChallenge.createOAuth2("warden"))))));
  }

  private Optional<Caller> verify(Optional<ProvidedCredentials> credentials) {
    return credentials.flatMap(provided -> tokens.authenticate(provided.identifier()));
  }
}
