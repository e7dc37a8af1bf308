package dev.warden.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import dev.warden.auth.Caller;
import java.util.List;

/**
 * {@code GET /api/v1/whoami} (any token, bound ones included): the caller's token name, role and the
 * features it is bound to, so a client (the dashboard) can say up front what this token may not do
 * instead of letting a person find out from a 403.
 */
public final class WhoAmIRoutes extends ApiDirectives {

  public WhoAmIRoutes(ActorSystem<?> system, long maxBodyBytes) {
    super(system, maxBodyBytes);
  }

  public Route route(Caller caller) {
    return path("whoami", () -> get(() -> completeJson(StatusCodes.OK, WhoAmI.of(caller))));
  }

  /** {@code features}: the features a bound token may reach, sorted; empty for an unbound token (it reaches all). */
  public record WhoAmI(String name, String role, List<String> features) {
    static WhoAmI of(Caller caller) {
      return new WhoAmI(caller.name(), caller.role().label(), caller.features().stream().sorted().toList());
    }
  }
}
