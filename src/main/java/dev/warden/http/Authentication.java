package dev.warden.http;

import akka.http.javadsl.server.AllDirectives;
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

  private Optional<Caller> verify(Optional<ProvidedCredentials> credentials) {
    return credentials.flatMap(provided -> tokens.authenticate(provided.identifier()));
  }
}
