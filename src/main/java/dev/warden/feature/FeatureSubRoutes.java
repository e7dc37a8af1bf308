package dev.warden.feature;

import akka.http.javadsl.server.Route;
import dev.warden.auth.Caller;

/** Routes under {@code /api/v1/features/{id}/...} that belong to another capability (checkpoints, agent, changes). */
public interface FeatureSubRoutes {
  Route route(Caller caller, String featureId);
}
