package dev.warden.daemon;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import akka.cluster.sharding.typed.ClusterShardingSettings;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import dev.warden.agent.AgentLink;
import dev.warden.apply.Applier;
import dev.warden.apply.ProposalService;
import dev.warden.agent.AgentMessage;
import dev.warden.agent.AgentSettings;
import dev.warden.checkpoint.CheckpointPeers;
import dev.warden.checkpoint.CheckpointSettings;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.plan.Trigger;
import dev.warden.feature.Feature;
import dev.warden.feature.FeatureRuntime;
import dev.warden.plan.Plan;
import dev.warden.validate.Validator;
import dev.warden.validate.ValidatorPeers;
import dev.warden.watchdog.WatchHub;
import dev.warden.watchdog.Watchdog;
import dev.warden.watchdog.WatchdogPeers;
import dev.warden.watchdog.WatchdogSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires what runs beside each live feature: the sharded Watchdog, Checkpoints and AgentLink
 * entities (keyed by feature id), and how they reach each other. Implements {@link FeatureRuntime}
 * for the Feature entity.
 */
public final class FeatureRuntimeWiring implements FeatureRuntime {

  private static final Logger log = LoggerFactory.getLogger(FeatureRuntimeWiring.class);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Executor blocking;
  private final Duration askTimeout;
  private final Duration pauseTimeout;
  private final int maxOpenQuestions;
  private volatile ProposalService proposals;

  public FeatureRuntimeWiring(ActorSystem<?> system, WatchHub hub, AgentSettings agent, CheckpointSettings checkpoints,
      WatchdogSettings watchdog, Validator.ValidationServices validation, Duration askTimeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("warden-blocking-dispatcher"));
    this.askTimeout = askTimeout;
    this.maxOpenQuestions = agent.maxOpenQuestions();
    // every try doubles the deadline: d + 2d + 4d ..., plus slack for the capture queue
    this.pauseTimeout = agent.ackDeadline().multipliedBy((1L << agent.ackTries()) - 1).plusSeconds(5);
    ClusterShardingSettings unpassivated = ClusterShardingSettings.create(system).withNoPassivationStrategy();
    Props blockingProps = DispatcherSelector.fromConfig("warden-blocking-dispatcher");

    sharding.init(Entity.of(AgentLink.ENTITY_KEY, ctx -> AgentLink.create(ctx.getEntityId(), agent, sinkFor(ctx.getEntityId())))
        .withSettings(unpassivated));
    sharding.init(Entity.of(Checkpoints.ENTITY_KEY, ctx -> Checkpoints.create(ctx.getEntityId(), this::checkpointPeers, checkpoints, blocking))
        .withSettings(unpassivated));
    sharding.init(Entity.of(Validator.ENTITY_KEY, ctx -> Validator.create(ctx.getEntityId(), this::validatorPeers, validation))
        .withSettings(unpassivated));
    sharding.init(Entity.of(Watchdog.ENTITY_KEY, ctx -> Watchdog.create(ctx.getEntityId(), hub, this::watchdogPeers, watchdog, blocking))
        .withSettings(unpassivated)
        .withEntityProps(blockingProps));
  }

  /** Proposals the agent makes with its {@code propose} message go here; set once the service exists. */
  /**
   * Who each feature's agent connection authenticated as (this node's connections): its proposals are
   * made in that name, so the proposer is on record and cannot approve its own high-tier work.
   */
  private final java.util.concurrent.ConcurrentMap<String, String> agentCallers = new java.util.concurrent.ConcurrentHashMap<>();

  public void agentConnected(String featureId, String callerName) {
    agentCallers.put(featureId, callerName);
  }

  public void useProposals(ProposalService service) {
    this.proposals = service;
  }

  /** How long a checkpoint may wait for the agent's pause acknowledgement, all tries included. */
  public Duration pauseTimeout() {
    return pauseTimeout;
  }

  // ---- FeatureRuntime ----

  @Override
  public void start(Feature.FeatureSummary feature) {
    CompletableFuture.supplyAsync(() -> setups(feature), blocking)
        .thenCompose(setups -> sharding.entityRefFor(Checkpoints.ENTITY_KEY, feature.id())
            .<Done>ask(replyTo -> new Checkpoints.Start(setups.chain(), replyTo), askTimeout)
            .thenCompose(done -> sharding.entityRefFor(Watchdog.ENTITY_KEY, feature.id())
                .<Done>ask(replyTo -> new Watchdog.Start(setups.watch(), replyTo), askTimeout)))
        // wake the validator too: a validation a restart cut short runs again as soon as it recovers
        .thenRun(() -> sharding.entityRefFor(Validator.ENTITY_KEY, feature.id()).tell(new Validator.GetVerdict(0, system.ignoreRef())))
        .whenComplete((done, failure) -> {
          if (failure != null) {
            log.error("[{}] cannot start the watchdog and checkpoints: {}", feature.id(), failure.toString());
          }
        });
  }

  @Override
  public void hold(String featureId, boolean paused) {
    agent(featureId).tell(new AgentLink.HoldPaused(paused));
  }

  @Override
  public CompletionStage<Done> finish(Feature.FeatureSummary feature, String reason) {
    String id = feature.id();
    // an open proposal of an abandoned feature must never land (after an apply or a rejection there is none)
    return sharding.entityRefFor(Applier.ENTITY_KEY, id)
        .<Applier.Reply>ask(replyTo -> new Applier.Withdraw("warden", "withdrawn: the feature ended (" + reason + ")", replyTo), askTimeout)
        .exceptionally(failure -> new Applier.Refused(dev.warden.Rejection.Kind.CONFLICT, failure.toString()))
        .thenCompose(withdrawn -> sharding.entityRefFor(Checkpoints.ENTITY_KEY, id)
        .<Checkpoints.Outcome>ask(replyTo -> new Checkpoints.Request(Trigger.FINAL, List.of(), true, replyTo), askTimeout.plus(pauseTimeout)))
        .exceptionally(failure -> new Checkpoints.Failed(dev.warden.Rejection.Kind.CONFLICT, failure.toString()))
        .thenCompose(outcome -> {
          if (outcome instanceof Checkpoints.Failed failed) {
            log.warn("[{}] no final checkpoint: {}", id, failed.message());
          }
          // the validator answers once the final checkpoint has its fast-rule verdict, which needs the watchdog's disk
          // usage: stop the watchdog only then. The validator stops by itself once its checks are done too.
          return sharding.entityRefFor(Validator.ENTITY_KEY, id).<Done>ask(Validator.Stop::new, askTimeout.plusSeconds(30))
              .exceptionally(failure -> {
                log.warn("[{}] the validator did not finish the final checkpoint's fast rules in time: {}", id, failure.toString());
                return Done.getInstance();
              });
        })
        .thenCompose(done -> sharding.entityRefFor(Watchdog.ENTITY_KEY, id).<Done>ask(Watchdog.Stop::new, askTimeout))
        .thenCompose(done -> sharding.entityRefFor(Checkpoints.ENTITY_KEY, id).<Done>ask(Checkpoints.Stop::new, askTimeout))
        .thenApply(done -> {
          agent(id).tell(new AgentLink.Disconnect("feature '" + id + "' ended: " + reason));
          return done;
        });
  }

  // ---- who talks to whom ----

  private EntityRef<AgentLink.Command> agent(String featureId) {
    return sharding.entityRefFor(AgentLink.ENTITY_KEY, featureId);
  }

  private void tellAgent(String featureId, String json) {
    agent(featureId).tell(new AgentLink.Notify(json));
  }

  /** Puts the feature in needs_attention; {@code holdAgent} also keeps its agent paused until a person resumes. */
  private void escalateFeature(String featureId, String reason, boolean holdAgent) {
    sharding.entityRefFor(Feature.ENTITY_KEY, featureId).tell(new Feature.Escalate(reason, holdAgent, system.ignoreRef()));
  }

  private CheckpointPeers checkpointPeers(String featureId) {
    return new CheckpointPeers() {
      @Override
      public CompletionStage<AgentLink.PauseOutcome> pauseAgent(String reason) {
        return sharding.entityRefFor(AgentLink.ENTITY_KEY, featureId)
            .<AgentLink.PauseOutcome>ask(replyTo -> new AgentLink.PauseForCheckpoint(reason, replyTo), pauseTimeout)
            .exceptionally(failure -> new AgentLink.NotPaused("the agent link did not answer: " + failure, true));
      }

      @Override
      public void resumeAgent() {
        agent(featureId).tell(new AgentLink.ResumeAfterCheckpoint());
      }

      @Override
      public void notifyAgent(String json) {
        tellAgent(featureId, json);
      }

      @Override
      public void escalate(String reason) {
        escalateFeature(featureId, reason, false);
      }

      @Override
      public CompletionStage<Optional<Long>> planMaxFileBytes() {
        return sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .<Feature.Reply>ask(Feature.Get::new, askTimeout)
            .thenApply(reply -> {
              if (reply instanceof Feature.Accepted accepted) {
                return accepted.feature().plan().limits().maxFileBytes();
              }
              throw new IllegalStateException(((Feature.Rejected) reply).message());
            });
      }

      @Override
      public void validate(Checkpoints.ChainSetup setup, long seq, String commit, Trigger trigger) {
        sharding.entityRefFor(Validator.ENTITY_KEY, featureId)
            .tell(new Validator.Validate(setup.gitDir(), setup.baseCommit(), seq, commit, trigger));
        // an open proposal of an older checkpoint is stale now
        sharding.entityRefFor(Applier.ENTITY_KEY, featureId).tell(new Applier.NoticeCheckpoint(seq));
      }
    };
  }

  /** Asks the watchdog; one that is still starting (after a restart) is asked again a few times. */
  private CompletionStage<java.util.OptionalLong> diskUsageOf(String featureId, int triesLeft) {
    return sharding.entityRefFor(Watchdog.ENTITY_KEY, featureId)
        .<Watchdog.WatchStatus>ask(Watchdog.GetStatus::new, askTimeout)
        .thenApply(status -> status.watching() ? java.util.OptionalLong.of(status.diskUsageBytes()) : java.util.OptionalLong.empty())
        .exceptionally(failure -> java.util.OptionalLong.empty())
        .thenCompose(usage -> usage.isPresent() || triesLeft <= 1 ? CompletableFuture.completedFuture(usage)
            : akka.pattern.Patterns.after(Duration.ofMillis(500), system.classicSystem().scheduler(), system.executionContext(),
                () -> diskUsageOf(featureId, triesLeft - 1)));
  }

  private ValidatorPeers validatorPeers(String featureId) {
    return new ValidatorPeers() {
      @Override
      public CompletionStage<Plan> plan() {
        return sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .<Feature.Reply>ask(Feature.Get::new, askTimeout)
            .thenApply(reply -> {
              if (reply instanceof Feature.Accepted accepted) {
                return accepted.feature().plan();
              }
              throw new IllegalStateException(((Feature.Rejected) reply).message());
            });
      }

      @Override
      public CompletionStage<Optional<String>> latestCheckpoint() {
        var chain = sharding.entityRefFor(Checkpoints.ENTITY_KEY, featureId);
        return chain.<Checkpoints.Listing>ask(replyTo -> new Checkpoints.ListCheckpoints(Integer.MAX_VALUE, 0, replyTo), askTimeout)
            .thenApply(Checkpoints.Page.class::cast) // offset and limit are never negative here
            .thenCompose(count -> count.total() == 0 ? CompletableFuture.completedFuture(Optional.<String>empty())
                : chain.<Checkpoints.Listing>ask(replyTo -> new Checkpoints.ListCheckpoints((int) count.total() - 1, 1, replyTo), askTimeout)
                    .thenApply(Checkpoints.Page.class::cast)
                    .thenApply(last -> Optional.of(last.checkpoints().get(0).commit())));
      }

      @Override
      public CompletionStage<Checkpoints.Outcome> promote(String commit, List<String> paths, String by) {
        return sharding.entityRefFor(Checkpoints.ENTITY_KEY, featureId)
            .ask(replyTo -> new Checkpoints.Promote(commit, paths, by, replyTo), askTimeout.plus(pauseTimeout));
      }

      @Override
      public CompletionStage<Checkpoints.Outcome> rollback(long to, List<String> paths, String by) {
        return sharding.entityRefFor(Checkpoints.ENTITY_KEY, featureId)
            .ask(replyTo -> new Checkpoints.Rollback(to, Optional.of(paths), by, replyTo), askTimeout.plus(pauseTimeout));
      }

      @Override
      public CompletionStage<java.util.OptionalLong> diskUsage() {
        return diskUsageOf(featureId, 10);
      }

      @Override
      public void notifyAgent(String json) {
        tellAgent(featureId, json);
      }

      @Override
      public void critical(String reason) {
        escalateFeature(featureId, reason, true);
      }
    };
  }

  private WatchdogPeers watchdogPeers(String featureId) {
    return new WatchdogPeers() {
      @Override
      public void requestCheckpoint(Trigger trigger, List<String> paths, boolean fullScan) {
        sharding.entityRefFor(Checkpoints.ENTITY_KEY, featureId)
            .tell(new Checkpoints.Request(trigger, paths, fullScan, system.ignoreRef()));
      }

      @Override
      public void notifyAgent(String json) {
        tellAgent(featureId, json);
      }

      @Override
      public void critical(String reason) {
        escalateFeature(featureId, reason, true);
      }
    };
  }

  private AgentLink.FeatureSink sinkFor(String featureId) {
    return new AgentLink.FeatureSink() {
      @Override
      public void questionAsked(String questionId, String text) {
        // a refused question (too many open, or a feature that takes none) is answered with an error
        sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .<Feature.Reply>ask(replyTo -> new Feature.AskQuestion(questionId, text, maxOpenQuestions, replyTo), askTimeout)
            .thenAccept(reply -> {
              if (reply instanceof Feature.Rejected rejected) {
                agent(featureId).tell(new AgentLink.Notify(AgentMessage.error("question refused: " + rejected.message(), "question")));
              }
            });
      }

      @Override
      public void proposed(String description) {
        ProposalService service = proposals;
        if (service == null) {
          agent(featureId).tell(new AgentLink.Notify(AgentMessage.text("proposal failed: Warden is still starting; propose again")));
          return;
        }
        service.propose(featureId, description, agentCallers.getOrDefault(featureId, "agent"))
            .whenComplete((proposal, failure) -> agent(featureId).tell(new AgentLink.Notify(AgentMessage.text(failure == null
                ? "proposal " + proposal.id() + " of checkpoint " + proposal.draft().checkpointSeq() + " is " + proposal.status().label()
                    + " (tier " + proposal.draft().tier().label() + ")"
                : "proposal refused: " + dev.warden.Failures.describe(failure)))));
      }

      @Override
      public void patch(String diff) {
        sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .<Feature.Reply>ask(Feature.Get::new, askTimeout)
            .thenCompose(reply -> {
              Feature.FeatureSummary feature = ((Feature.Accepted) reply).feature();
              Path gitDir = dev.warden.git.SupervisedRepository.atRoot(Path.of(feature.repo())).gitDir();
              return sharding.entityRefFor(Validator.ENTITY_KEY, featureId).<Validator.PatchOutcome>ask(
                  replyTo -> new Validator.ValidatePatch(gitDir.toString(), feature.baseCommit(), diff, "agent", replyTo),
                  askTimeout.plus(pauseTimeout).plusMinutes(30));
            })
            .whenComplete((outcome, failure) -> agent(featureId).tell(new AgentLink.Notify(AgentMessage.text(
                failure != null ? "patch failed: " + failure.getMessage()
                    : outcome instanceof Validator.PatchPromoted promoted ? "patch accepted as checkpoint " + promoted.checkpoint().seq()
                    : outcome instanceof Validator.PatchRefused refused ? "patch refused (" + refused.verdict() + "): "
                        + String.join("; ", java.util.stream.Stream.concat(
                            refused.violations().stream().map(v -> v.severity().label() + " " + v.rule() + " " + v.path() + ": " + v.message()),
                            refused.checks().stream().filter(c -> !c.passed()).map(c -> "check " + c.name() + " failed")).toList())
                    : outcome instanceof Validator.PatchDoesNotApply no ? "patch does not apply: " + no.output()
                    : "patch failed: " + ((Validator.PatchFailed) outcome).reason()))));
      }

      @Override
      public void ran(boolean sandboxed, Optional<String> reason, String agent) {
        sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .tell(new Feature.RecordRun(sandboxed, reason, agent, "agent", system.ignoreRef()));
      }

      @Override
      public void exited(int code, String agent) {
        sharding.entityRefFor(Feature.ENTITY_KEY, featureId).tell(new Feature.RecordExit(code, agent, system.ignoreRef()));
      }

      @Override
      public void connection(boolean connected, String agent, Optional<String> version, Optional<String> reason) {
        sharding.entityRefFor(Feature.ENTITY_KEY, featureId)
            .tell(new Feature.RecordConnection(connected, agent, version, reason, system.ignoreRef()));
      }

      @Override
      public void unresponsive(String reason) {
        escalateFeature(featureId, reason, false);
      }
    };
  }

  /** What the watchdog and the chain need to know about a feature's files. */
  private record Setups(Checkpoints.ChainSetup chain, Watchdog.WatchSetup watch) {}

  private static Setups setups(Feature.FeatureSummary feature) {
    Path common = dev.warden.git.SupervisedRepository.atRoot(Path.of(feature.repo())).gitDir();
    Path worktree = Path.of(feature.worktree());
    Path admin = dev.warden.git.PrivateGitDir.adminDirOf(worktree, common);
    return new Setups(
        new Checkpoints.ChainSetup(feature.id(), common.toString(), worktree.toString(), "refs/warden/" + feature.id() + "/checkpoints",
            feature.baseCommit()),
        new Watchdog.WatchSetup(feature.id(), worktree.toString(), admin.toString(), common.toString(),
            feature.plan().limits().diskQuotaBytes()));
  }
}
