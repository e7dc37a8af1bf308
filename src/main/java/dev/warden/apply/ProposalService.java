package dev.warden.apply;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.pattern.Patterns;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.plan.Trigger;
import dev.warden.feature.Feature;
import dev.warden.feature.FeatureService;
import dev.warden.feature.FeatureStatus;
import dev.warden.git.SupervisedRepository;
import dev.warden.policy.Policy;
import dev.warden.policy.PolicyStore;
import dev.warden.plan.Tier;
import dev.warden.validate.Validator;
import dev.warden.validate.VerdictStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The operations on proposals the API, the agent link and the CLI share. Proposing orders the work
 * so that nothing is left half done: a final checkpoint, its verdict (an invalid one is refused with
 * its violations), the diff against the target (over the plan's {@code maxChangedLines} is refused),
 * the tier from the policy and the plan, then the proposal in the feature's {@link Applier}, then the
 * feature marked proposed.
 */
public final class ProposalService {

  private static final List<FeatureStatus> PROPOSABLE =
      List.of(FeatureStatus.ACTIVE, FeatureStatus.PAUSED, FeatureStatus.NEEDS_ATTENTION, FeatureStatus.PROPOSED);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final FeatureService features;
  private final PolicyStore policy;
  private final ProposalDiff diffs;
  private final ApplySettings settings;
  private final Executor blocking;
  private final Duration askTimeout;
  private final Duration captureTimeout;
  private final ApprovalIndex index;

  public ProposalService(ActorSystem<?> system, FeatureService features, PolicyStore policy, ProposalDiff diffs, ApplySettings settings,
      ApprovalIndex index, Executor blocking, Duration askTimeout, Duration captureTimeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.features = features;
    this.policy = policy;
    this.diffs = diffs;
    this.settings = settings;
    this.blocking = blocking;
    this.askTimeout = askTimeout;
    this.captureTimeout = captureTimeout;
    this.index = index;
  }

  /** Proposes the feature's work as of a final checkpoint taken now. */
  public CompletionStage<Proposal> propose(String featureId, String description, String by) {
    return features.get(featureId).thenCompose(feature -> {
      if (feature.status() == FeatureStatus.AWAITING_INPUT) {
        throw Rejection.conflict("cannot propose feature '" + featureId + "': it is awaiting an answer to its open question");
      }
      if (!PROPOSABLE.contains(feature.status())) {
        throw Rejection.conflict("cannot propose feature '" + featureId + "': it is " + feature.status().label());
      }
      return finalCheckpoint(featureId)
          .thenCompose(checkpoint -> awaitVerdict(featureId, checkpoint.seq(), Instant.now().plus(settings.proposeWait()))
              .thenCompose(verdict -> CompletableFuture.supplyAsync(() -> draft(feature, checkpoint, verdict, description, by), blocking)
                  .thenCompose(draft -> applier(featureId).<Applier.Reply>ask(
                      replyTo -> new Applier.Propose(draft, verdict.filter(v -> v.status() == VerdictStatus.VALID).isPresent()
                          ? Proposal.VALID : Proposal.PENDING, replyTo), askTimeout)))
              .thenApply(ProposalService::proposalOrThrow))
          .thenCompose(proposal -> features.recordProposal(featureId, description, proposal.draft().checkpointSeq(), by, proposal.id())
              .thenApply(done -> proposal)
              // the feature refused it meanwhile (an agent's question came in, say): no proposal must outlive the refusal
              .exceptionallyCompose(refused -> applier(featureId)
                  .<Applier.Reply>ask(replyTo -> new Applier.Withdraw(by, "withdrawn: the feature refused it: " + dev.warden.Failures.describe(refused), replyTo),
                      askTimeout)
                  .handle((withdrawn, failure) -> { throw refused instanceof java.util.concurrent.CompletionException c
                      ? c : new java.util.concurrent.CompletionException(refused); })));
    });
  }

  private CompletionStage<Checkpoints.CheckpointRecord> finalCheckpoint(String featureId) {
    return sharding.entityRefFor(Checkpoints.ENTITY_KEY, featureId)
        .<Checkpoints.Outcome>ask(replyTo -> new Checkpoints.Request(Trigger.FINAL, List.of(), true, replyTo), captureTimeout)
        .thenApply(outcome -> {
          if (outcome instanceof Checkpoints.Taken taken) {
            return taken.checkpoint();
          }
          if (outcome instanceof Checkpoints.NoChange same && same.latest().isPresent()) {
            return same.latest().get();
          }
          if (outcome instanceof Checkpoints.NoChange) {
            throw Rejection.conflict("nothing to propose: feature '" + featureId + "' has no changes since it started");
          }
          throw Rejection.conflict("cannot take the final checkpoint of feature '" + featureId + "': "
              + ((Checkpoints.Failed) outcome).message());
        });
  }

  /** The checkpoint's verdict once it is final, or what it is at {@code deadline}; empty when there is none yet. */
  private CompletionStage<Optional<Validator.VerdictRecord>> awaitVerdict(String featureId, long seq, Instant deadline) {
    return sharding.entityRefFor(Validator.ENTITY_KEY, featureId)
        .<Validator.Lookup>ask(replyTo -> new Validator.GetVerdict(seq, replyTo), askTimeout)
        .thenCompose(lookup -> {
          Optional<Validator.VerdictRecord> verdict = lookup instanceof Validator.Found found ? Optional.of(found.verdict()) : Optional.empty();
          boolean settled = verdict.filter(v -> v.status().isFinal()).isPresent();
          if (settled || Instant.now().isAfter(deadline)) {
            return CompletableFuture.completedFuture(verdict);
          }
          return Patterns.after(Duration.ofMillis(100), system.classicSystem().scheduler(), system.executionContext(),
              () -> awaitVerdict(featureId, seq, deadline));
        });
  }

  /** Blocking: the diff against the target, the limits, the tier. */
  private Proposal.Draft draft(Feature.FeatureSummary feature, Checkpoints.CheckpointRecord checkpoint,
      Optional<Validator.VerdictRecord> verdict, String description, String by) {
    if (verdict.isPresent() && verdict.get().status() != VerdictStatus.VALID && verdict.get().status().isFinal()) {
      Validator.VerdictRecord v = verdict.get();
      throw Rejection.unprocessable(null, "checkpoint " + checkpoint.seq() + " is " + v.status() + "; only a valid checkpoint can be proposed"
          + v.failure().map(f -> " (" + f + ")").orElse(""), Map.of(
              "checkpoint", checkpoint.seq(),
              "verdict", v.status().label(),
              "violations", v.violations().stream().map(x -> Map.of("rule", x.rule(), "path", x.path(),
                  "severity", x.severity().label(), "message", x.message())).toList()));
    }
    Path gitDir = SupervisedRepository.atRoot(Path.of(feature.repo())).gitDir();
    ProposalDiff.Stats stats = diffs.stats(gitDir, feature.target(), checkpoint.commit());
    if (stats.paths().isEmpty()) {
      throw Rejection.conflict("nothing to propose: checkpoint " + checkpoint.seq() + " changes nothing on " + feature.target());
    }
    long maxLines = feature.plan().limits().maxChangedLines();
    if (stats.lines() > maxLines) {
      throw Rejection.unprocessable(null, "the proposal changes " + stats.lines() + " lines, more than the plan's maxChangedLines of "
          + maxLines, Map.of("checkpoint", checkpoint.seq(), "changedLines", stats.lines(), "maxChangedLines", maxLines));
    }
    Policy current = policy.current();
    List<Proposal.ChangedPath> paths = stats.paths().stream()
        .map(p -> new Proposal.ChangedPath(p.path(), p.added(), p.deleted(), current.tierOf(p.path()))).toList();
    Tier tier = current.tierOf(paths.stream().map(Proposal.ChangedPath::path).toList(), feature.plan().minimumTier());
    int required = switch (tier) {
      case LOW -> 0;
      case MEDIUM -> 1;
      case HIGH -> Math.max(1, current.highApprovers());
    };
    Instant now = Instant.now();
    Proposal.Changes changes = new Proposal.Changes(paths.size(),
        paths.stream().mapToLong(Proposal.ChangedPath::added).sum(), paths.stream().mapToLong(Proposal.ChangedPath::deleted).sum(), paths);
    return new Proposal.Draft("", feature.id(), 0, description, checkpoint.seq(), checkpoint.commit(), checkpoint.tree(),
        gitDir.toString(), feature.target(), stats.base(), changes, tier, required,
        tier == Tier.MEDIUM ? Optional.of(now.plus(current.mediumReviewWindow())) : Optional.empty(),
        now.plus(current.expiry()), feature.plan().test(), by, now, feature.plan().sandbox());
  }

  public CompletionStage<Proposal> get(String proposalId) {
    return ask(proposalId, replyTo -> new Applier.Get(proposalId, replyTo)).thenApply(ProposalService::proposalOrThrow);
  }

  /**
   * Every proposal of every feature, newest first, optionally in one status, from the query view
   * (no entity is started); finished ones older than the history retention are left out.
   */
  public CompletionStage<List<Proposal>> list(Optional<ProposalStatus> status) {
    return CompletableFuture.completedFuture(index.list(status));
  }

  public CompletionStage<Proposal> approve(String proposalId, Caller caller, Optional<String> reason, boolean bypass) {
    if (caller.isBound()) {
      // a feature-bound token (a run token) speaks for an agent: it never approves (the routes refuse it first)
      return CompletableFuture.failedFuture(Rejection.forbidden(null, "token '" + caller.name() + "' is bound to feature(s) "
          + String.join(", ", new java.util.TreeSet<>(caller.features())) + " and may not approve proposals"));
    }
    return ask(proposalId, replyTo -> new Applier.Approve(proposalId, caller.name(), caller.role(), reason, bypass, replyTo))
        .thenApply(ProposalService::proposalOrThrow);
  }

  public CompletionStage<Proposal> reject(String proposalId, Caller caller, String reason) {
    return ask(proposalId, replyTo -> new Applier.Reject(proposalId, caller.name(), reason, replyTo))
        .thenApply(ProposalService::proposalOrThrow);
  }

  /** Tries an approved proposal that is waiting to land again, now: 404 unknown, 409 when not approved. */
  public CompletionStage<Proposal> landNow(String proposalId, Caller caller) {
    return ask(proposalId, replyTo -> new Applier.LandNow(proposalId, caller.name(), replyTo))
        .thenApply(ProposalService::proposalOrThrow);
  }

  /** Reverts an applied proposal; waits for the tests on the reverted target. */
  public CompletionStage<Proposal> rollback(String proposalId, Caller caller, String reason, Duration timeout) {
    return applier(featureOf(proposalId))
        .<Applier.Reply>ask(replyTo -> new Applier.Rollback(proposalId, caller.name(), reason, replyTo), timeout)
        .thenApply(ProposalService::proposalOrThrow);
  }

  /** The unified diff the proposal would bring to its target (from the merge base it was proposed on). */
  public CompletionStage<String> diff(String proposalId) {
    return get(proposalId).thenComposeAsync(p -> CompletableFuture.completedFuture(
        diffs.text(Path.of(p.draft().gitDir()), p.draft().base(), p.draft().checkpointCommit(), settings.diffMaxBytes())), blocking);
  }

  /** {@code <feature>.<n>}: the feature part, or 404 for anything else. */
  public static String featureOf(String proposalId) {
    int dot = proposalId.lastIndexOf('.');
    if (dot <= 0 || dot == proposalId.length() - 1 || !proposalId.substring(dot + 1).chars().allMatch(Character::isDigit)
        || !dev.warden.feature.FeatureId.isValid(proposalId.substring(0, dot))) {
      throw Rejection.notFound("no proposal '" + proposalId + "' (proposal ids look like login-form.1)");
    }
    return proposalId.substring(0, dot);
  }

  private CompletionStage<Applier.Reply> ask(String proposalId, Function<ActorRef<Applier.Reply>, Applier.Command> command) {
    String featureId;
    try {
      featureId = featureOf(proposalId);
    } catch (Rejection e) {
      return CompletableFuture.failedFuture(e);
    }
    return applier(featureId).ask(command::apply, askTimeout);
  }

  private EntityRef<Applier.Command> applier(String featureId) {
    return sharding.entityRefFor(Applier.ENTITY_KEY, featureId);
  }

  private static Proposal proposalOrThrow(Applier.Reply reply) {
    if (reply instanceof Applier.Refused refused) {
      throw refused.toRejection();
    }
    return ((Applier.Accepted) reply).proposal();
  }
}
