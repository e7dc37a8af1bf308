package dev.warden.policy;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import dev.warden.http.ApiDirectives;
import dev.warden.plan.Tier;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /api/v1/policy} (viewer): the blast-radius policy in force — where it was read from, when,
 * its rules and tier settings, and the error of a bad file that was refused (the last good policy
 * stays in force).
 */
public final class PolicyRoutes extends ApiDirectives {

  private final PolicyStore store;

  public PolicyRoutes(ActorSystem<?> system, PolicyStore store, long maxBodyBytes) {
    super(system, maxBodyBytes);
    this.store = store;
  }

  public Route route() {
    return path("policy", () -> get(() -> completeJson(StatusCodes.OK, PolicyView.of(store))));
  }

  /** The policy as the API shows it. */
  public record PolicyView(String file, Instant loadedAt, String lastError, List<RuleView> rules, String unmatchedTier,
      long mediumReviewWindowSeconds, int highApprovers, long expirySeconds) {
    static PolicyView of(PolicyStore store) {
      Policy policy = store.current();
      return new PolicyView(store.file().toString(), store.loadedAt(), store.lastError().orElse(null),
          policy.rules().stream().map(r -> new RuleView(r.index(), r.glob().glob(), r.tier().label())).toList(),
          Tier.HIGH.label(), policy.mediumReviewWindow().toSeconds(), policy.highApprovers(), policy.expiry().toSeconds());
    }
  }

  public record RuleView(int index, String paths, String tier) {}
}
