package dev.warden.feature;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.persistence.jdbc.query.javadsl.JdbcReadJournal;
import akka.persistence.query.PersistenceQuery;
import akka.stream.javadsl.Sink;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.plan.Plan;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The operations the API offers on features. Orders the git work around the entity so that nothing
 * is left half done: a feature is registered only once its branch and worktree exist (and they are
 * removed again if registration is refused), and abandonment is recorded before the worktree goes,
 * so repeating an interrupted DELETE finishes the cleanup.
 */
public final class FeatureService {

  private static final String PERSISTENCE_ID_PREFIX = Feature.ENTITY_KEY.name() + "|";

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final FeatureWorkspaces workspaces;
  private final Duration askTimeout;
  private final Executor blocking;
  private final JdbcReadJournal readJournal;
  private final FeatureRuntime runtime;

  public FeatureService(ActorSystem<?> system, FeatureWorkspaces workspaces, FeatureRuntime runtime, Duration askTimeout) {
    this.system = system;
    this.runtime = runtime;
    this.sharding = ClusterSharding.get(system);
    this.workspaces = workspaces;
    this.askTimeout = askTimeout;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("warden-blocking-dispatcher"));
    this.readJournal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
  }

  /** A request to create a feature, already checked for shape at the edge. */
  public record NewFeature(String id, String repo, String target, Plan plan) {}

  public CompletionStage<Feature.FeatureSummary> create(NewFeature request, Caller caller) {
    return ask(request.id(), Feature.Get::new)
        .thenCompose(existing -> {
          if (existing instanceof Feature.Accepted) {
            throw Rejection.conflict("id", "feature '" + request.id() + "' already exists");
          }
          return CompletableFuture.supplyAsync(
              () -> workspaces.prepare(request.id(), request.repo(), request.target(), request.plan()), blocking);
        })
        .thenCompose(registration -> ask(request.id(), replyTo -> new Feature.Register(registration, caller.name(), replyTo))
            .thenCompose(reply -> {
              if (reply instanceof Feature.Rejected rejected) {
                // lost a race for the id: the branch and worktree just made are ours to take back
                return CompletableFuture.runAsync(
                        () -> workspaces.remove(request.id(), registration.repo(), registration.branch(), registration.worktree()),
                        blocking)
                    .thenApply(done -> { throw rejected.toRejection(); });
              }
              return CompletableFuture.completedFuture(((Feature.Accepted) reply).feature());
            }));
  }

  public CompletionStage<Feature.FeatureSummary> get(String id) {
    return ask(id, Feature.Get::new).thenApply(FeatureService::summaryOrThrow);
  }

  public CompletionStage<Feature.FeatureSummary> pause(String id, Optional<String> reason, Caller caller) {
    return ask(id, replyTo -> new Feature.Pause(reason.orElse(null), caller.name(), replyTo)).thenApply(FeatureService::summaryOrThrow);
  }

  public CompletionStage<Feature.FeatureSummary> resume(String id, Caller caller) {
    return ask(id, replyTo -> new Feature.Resume(caller.name(), replyTo)).thenApply(FeatureService::summaryOrThrow);
  }

  /**
   * Records the abandonment, takes a final checkpoint and stops watching, then removes worktree and
   * branch (also when it was recorded before, so a repeated DELETE finishes an interrupted one). The
   * checkpoint chain's ref stays in the repository for audit.
   */
  public CompletionStage<Feature.FeatureSummary> abandon(String id, Optional<String> reason, Caller caller) {
    return ask(id, replyTo -> new Feature.Abandon(reason.orElse(null), caller.name(), replyTo))
        .thenApply(FeatureService::summaryOrThrow)
        .thenCompose(feature -> runtime.finish(feature, "abandoned by " + caller.name()).thenApply(done -> feature))
        .thenCompose(feature -> CompletableFuture.supplyAsync(
            () -> {
              workspaces.remove(feature.id(), feature.repo(), feature.branch(), feature.worktree());
              return feature;
            },
            blocking));
  }

  /** The feature, if it is live (has a worktree and an agent); 409 when it ended, 404 when unknown. */
  public CompletionStage<Feature.FeatureSummary> requireLive(String id) {
    return get(id).thenApply(feature -> {
      if (!feature.isLive()) {
        throw Rejection.conflict("feature '" + id + "' is " + feature.status().label());
      }
      return feature;
    });
  }

  public CompletionStage<Feature.FeatureSummary> changePlan(String id, Plan plan, Caller caller) {
    return ask(id, replyTo -> new Feature.ChangePlan(plan, caller.name(), replyTo)).thenApply(FeatureService::summaryOrThrow);
  }

  public CompletionStage<Feature.FeatureSummary> answer(String id, String questionId, String text, Caller caller) {
    return ask(id, replyTo -> new Feature.AnswerQuestion(questionId, text, caller.name(), replyTo))
        .thenApply(FeatureService::summaryOrThrow);
  }

  /** Marks the feature proposed with the applier's proposal {@code proposalId} (harmless to repeat). */
  public CompletionStage<Feature.FeatureSummary> recordProposal(String id, String description, long checkpoint, String by,
      String proposalId) {
    return ask(id, replyTo -> new Feature.RecordProposal(description, Optional.of(checkpoint), by, Optional.of(proposalId), replyTo))
        .thenApply(FeatureService::summaryOrThrow);
  }

  /**
   * Tells the feature how proposal {@code proposalId} ended. Applied or rejected end the feature: its
   * watchers stop (after a final checkpoint) and its worktree and branch are removed, also when the
   * end was recorded before (a restart in between), so repeating it finishes an interrupted cleanup.
   * The checkpoint chain's ref stays in the repository for audit.
   */
  public CompletionStage<Feature.FeatureSummary> settleProposal(String id, String proposalId, Feature.ProposalEnd end, String reason,
      String by) {
    return ask(id, replyTo -> new Feature.SettleProposal(proposalId, end, reason, by, replyTo))
        .thenApply(FeatureService::summaryOrThrow)
        .thenCompose(feature -> {
          boolean ended = (end == Feature.ProposalEnd.APPLIED && feature.status() == FeatureStatus.APPLIED)
              || (end == Feature.ProposalEnd.REJECTED && feature.status() == FeatureStatus.REJECTED);
          if (!ended) {
            return CompletableFuture.completedFuture(feature);
          }
          return runtime.finish(feature, feature.status().label() + ": " + reason)
              .thenCompose(done -> CompletableFuture.supplyAsync(() -> {
                workspaces.remove(feature.id(), feature.repo(), feature.branch(), feature.worktree());
                return feature;
              }, blocking));
        });
  }

  /** Every feature ever registered, optionally only those in one status, ordered by id. */
  public CompletionStage<List<Feature.FeatureSummary>> list(Optional<FeatureStatus> status) {
    return readJournal
        .currentPersistenceIds()
        .filter(pid -> pid.startsWith(PERSISTENCE_ID_PREFIX))
        .map(pid -> pid.substring(PERSISTENCE_ID_PREFIX.length()))
        .mapAsyncUnordered(8, id -> ask(id, Feature.Get::new))
        .filter(reply -> reply instanceof Feature.Accepted)
        .map(reply -> ((Feature.Accepted) reply).feature())
        .filter(feature -> status.map(s -> s == feature.status()).orElse(true))
        .runWith(Sink.seq(), system)
        .thenApply(features -> features.stream().sorted(Comparator.comparing(Feature.FeatureSummary::id)).toList());
  }

  private CompletionStage<Feature.Reply> ask(String id, Function<akka.actor.typed.ActorRef<Feature.Reply>, Feature.Command> command) {
    EntityRef<Feature.Command> ref = sharding.entityRefFor(Feature.ENTITY_KEY, id);
    return ref.ask(command::apply, askTimeout);
  }

  private static Feature.FeatureSummary summaryOrThrow(Feature.Reply reply) {
    if (reply instanceof Feature.Rejected rejected) {
      throw rejected.toRejection();
    }
    return ((Feature.Accepted) reply).feature();
  }
}
