package dev.warden.http;

import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Rejections;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.server.directives.SecurityDirectives.ProvidedCredentials;
import dev.warden.auth.Caller;
import dev.warden.auth.RunTokens;
import dev.warden.auth.TokenRegistry;
import java.util.Optional;
import java.util.function.Function;

/** Bearer-token authentication for everything under {@code /api}: no token 401, unknown token 401. */
public final class Authentication extends AllDirectives {

  private final TokenRegistry tokens;
  private final Optional<RunTokens> runTokens;

  public Authentication(TokenRegistry tokens) {
    this(tokens, Optional.empty());
  }

  /** Also accepts {@code bin/warden agent}'s run tokens (see {@link RunTokens}). */
  public Authentication(TokenRegistry tokens, Optional<RunTokens> runTokens) {
    this.tokens = tokens;
    this.runTokens = runTokens;
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
            : authenticate(token.get()).map(inner)
                .orElseGet(() -> reject(Rejections.authenticationCredentialsRejected(HttpChallenge.createOAuth2("warden"))))));
  }

  private Optional<Caller> verify(Optional<ProvidedCredentials> credentials) {
    return credentials.flatMap(provided -> authenticate(provided.identifier()));
  }

  private Optional<Caller> authenticate(String token) {
    if (runTokens.isPresent() && token.startsWith(RunTokens.PREFIX)) {
      return runTokens.get().authenticate(token);
    }
    return tokens.authenticate(token);
  }
}
