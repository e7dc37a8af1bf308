package dev.warden.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.ConfigFactory;
import dev.warden.auth.Role;
import dev.warden.plan.Tier;
import dev.warden.validate.Validator;
import dev.warden.validate.VerdictStatus;
import dev.warden.validate.Violation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The applier's decisions where the integration tests cannot steer time or the validator: a
 * proposal made while its checkpoint's verdict is still running, a medium review window that ends
 * during that wait, refusals, and withdrawal. The peers are scripted in memory; git and the journal
 * are exercised by the integration tests (ApprovalFlow*IT, ApplyIT, ApplyCrashIT).
 */
class ApplierTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseResources("serialization.conf").withFallback(EventSourcedBehaviorTestKit.config()).resolve());

  /** Peers that answer from scripts and remember what they were asked. */
  private static final class ScriptedPeers implements ApplierPeers {
    final Queue<Validator.Lookup> verdicts = new ConcurrentLinkedQueue<>();
    final Queue<MergeEngine.Result> reverts = new ConcurrentLinkedQueue<>();
    final List<String> landed = new CopyOnWriteArrayList<>();
    final List<ProposalStatus> settled = new CopyOnWriteArrayList<>();
    final List<String> told = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<Validator.Lookup> verdict(long seq) {
      Validator.Lookup next = verdicts.size() > 1 ? verdicts.poll() : verdicts.peek();
      return CompletableFuture.completedFuture(next == null ? new Validator.NotValidated(seq) : next);
    }

    @Override
    public CompletionStage<Landing.Outcome> land(Proposal.Draft draft) {
      landed.add(draft.id());
      return CompletableFuture.completedFuture(new Landing.Outcome(
          new MergeEngine.Result.Applied("before", "after-" + draft.id(), List.of(), 1), false));
    }

    @Override
    public CompletionStage<Landing.Outcome> revert(Proposal.Draft draft, String appliedCommit, String by, String reason) {
      MergeEngine.Result next = reverts.poll();
      return next == null ? CompletableFuture.failedFuture(new IllegalStateException("not scripted"))
          : CompletableFuture.completedFuture(new Landing.Outcome(next, false));
    }

    @Override
    public CompletionStage<Done> settleFeature(Proposal proposal) {
      settled.add(proposal.status());
      return CompletableFuture.completedFuture(Done.getInstance());
    }

    @Override
    public void tellAgent(String text) {
      told.add(text);
    }
  }

  private ScriptedPeers peers;
  private EventSourcedBehaviorTestKit<Applier.Command, Applier.Event, ApplierState> applier;
  private String feature;

  @BeforeEach
  void fresh() {
    feature = "f-" + UUID.randomUUID().toString().substring(0, 8);
    peers = new ScriptedPeers();
    ApplySettings settings = new ApplySettings(MergeEngine.Mode.MERGE, 1, Duration.ofSeconds(1), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofDays(1), 1 << 20, Duration.ofMinutes(2));
    // done proposals the state let go of are read back from this journal, as the daemon's from its JDBC one
    applier = EventSourcedBehaviorTestKit.create(testKit.system(), Applier.create(feature, peers, settings, Optional.empty(),
        akka.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal.Identifier()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private Proposal.Draft draft(long seq, Tier tier, Optional<Instant> reviewEndsAt) {
    Instant now = Instant.now();
    return new Proposal.Draft("", feature, 0, "work", seq, "c0ffee" + seq, "tree", "/repo/.git", "main", "base",
        new Proposal.Changes(1, 1, 0, List.of(new Proposal.ChangedPath("a.txt", 1, 0, tier))), tier,
        tier == Tier.HIGH ? 2 : tier == Tier.MEDIUM ? 1 : 0, reviewEndsAt, now.plusSeconds(3600), Optional.empty(), "agent", now,
        Optional.empty());
  }

  private Proposal run(Function<ActorRef<Applier.Reply>, Applier.Command> command) {
    return assertInstanceOf(Applier.Accepted.class, applier.runCommand(command).reply()).proposal();
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Applier.Command, Applier.Event, ApplierState, Applier.Reply> ask(
      Function<ActorRef<Applier.Reply>, Applier.Command> command) {
    return applier.runCommand(command);
  }

  private Applier.Refused refused(Function<ActorRef<Applier.Reply>, Applier.Command> command) {
    return assertInstanceOf(Applier.Refused.class, applier.runCommand(command).reply());
  }

  private Proposal current(String id) {
    return applier.getState().proposals().get(id);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
      Thread.sleep(20);
    }
    assertTrue(condition.getAsBoolean(), what);
  }

  private static Validator.Lookup verdict(long seq, VerdictStatus status, List<Violation> violations) {
    return new Validator.Found(new Validator.VerdictRecord(seq, "c0ffee" + seq, status, VerdictStatus.VALID, 1, violations, List.of(), List.of(),
        Optional.empty(), Instant.now(), Optional.of(Instant.now())));
  }

  /** The stated bound (docs/architecture.md, "### Applier state"): the applier's state after 10,000 done proposals. */
  static final int MAX_STATE_BYTES = 64 * 1024;

  @Test
  void theStateKeepsOnlyTheNewestDoneProposalsAndOlderOnesAreStillReadAndRefusedAsTheyWere() throws Exception {
    int made = ApplierState.DONE_KEPT + 3;
    List<Proposal> applied = new java.util.ArrayList<>();
    for (int i = 1; i <= made; i++) {
      long seq = i;
      Proposal p = run(replyTo -> new Applier.Propose(draft(seq, Tier.LOW, Optional.empty()), Proposal.VALID, replyTo));
      assertEquals(feature + "." + i, p.id(), "numbered on, whatever the state let go of");
      int settledSoFar = i;
      await("applied and told", () -> peers.settled.size() == settledSoFar);
      await("recorded as told", () -> applier.getState().proposals().values().stream().allMatch(ApplierState::done));
      applied.add(applier.getState().proposals().get(p.id()));
    }
    ApplierState state = applier.getState();
    assertEquals(made, state.made());
    assertEquals(applied.subList(3, made), List.copyOf(state.proposals().values()), "only the newest " + ApplierState.DONE_KEPT);

    // the first one, let go of, reads as it was (from the journal) and is still refused as applied
    Proposal first = applied.get(0);
    assertEquals(ProposalStatus.APPLIED, first.status());
    assertEquals(first, run(replyTo -> new Applier.Get(first.id(), replyTo)));
    assertTrue(refused(replyTo -> new Applier.Approve(first.id(), "lead", Role.APPROVER, Optional.empty(), false, replyTo))
        .message().contains("it is applied"));
    assertEquals(dev.warden.Rejection.Kind.NOT_FOUND, refused(replyTo -> new Applier.Get(feature + "." + (made + 1), replyTo)).kind());
    // an admin can still revert it; the reply is the reverted proposal
    peers.reverts.add(new MergeEngine.Result.Applied("after", "revert-1", List.of(), 1));
    Proposal reverted = run(replyTo -> new Applier.Rollback(first.id(), "ops", "bad change", replyTo));
    assertEquals(ProposalStatus.REVERTED, reverted.status());
    assertEquals(ProposalStatus.REVERTED, run(replyTo -> new Applier.Get(first.id(), replyTo)).status());

    ApplierState recovered = applier.restart().state();
    assertEquals(state.proposals(), recovered.proposals());
    assertEquals(made, recovered.made());
  }

  @Test
  void tenThousandDoneProposalsLeaveTheStateUnderItsStatedSize() {
    akka.serialization.Serialization serialization = akka.serialization.SerializationExtension.get(testKit.system());
    ApplierState state = ApplierState.empty();
    Instant at = Instant.parse("2026-12-07T20:00:00Z");
    for (int i = 1; i <= 10_000; i++) {
      Proposal.Draft d = draft(i, Tier.LOW, Optional.empty());
      String id = feature + "." + i;
      Proposal.Draft numbered = new Proposal.Draft(id, feature, i, d.description(), d.checkpointSeq(), d.checkpointCommit(), d.tree(),
          d.gitDir(), d.target(), d.base(), d.changes(), d.tier(), d.requiredApprovals(), d.reviewEndsAt(), d.expiresAt(), d.test(),
          d.proposedBy(), d.proposedAt(), d.sandbox());
      for (Applier.Event event : List.<Applier.Event>of(
          new Applier.ProposalCreated(feature, numbered, Proposal.VALID, at),
          new Applier.ProposalApproved(feature, id, Applier.POLICY, "low tier: approved once its checkpoint is valid", at),
          new Applier.ProposalApplied(feature, id, "b".repeat(40), "c".repeat(40), 1, List.of(), false, at),
          new Applier.FeatureSettled(feature, id, at))) {
        state = state.next(event);
      }
    }
    byte[] bytes = serialization.serialize(state).get();

    assertEquals(10_000, state.made());
    assertEquals(ApplierState.DONE_KEPT, state.proposals().size());
    assertTrue(bytes.length < MAX_STATE_BYTES, "10,000 done proposals: " + bytes.length + " bytes");
    System.out.println("Applier state after 10,000 done proposals: " + bytes.length + " bytes");
  }

  @Test
  void aProposalMadeWhileItsVerdictRunsIsDecidedWhenTheVerdictComes() throws Exception {
    peers.verdicts.add(verdict(4, VerdictStatus.RUNNING, List.of()));
    peers.verdicts.add(verdict(4, VerdictStatus.VALID, List.of()));
    Proposal made = run(replyTo -> new Applier.Propose(draft(4, Tier.LOW, Optional.empty()), Proposal.PENDING, replyTo));
    assertEquals(feature + ".1", made.id());
    assertEquals(ProposalStatus.PROPOSED, made.status());
    assertEquals(Proposal.PENDING, made.validation());

    await("applied once the verdict was valid", () -> current(made.id()).status() == ProposalStatus.APPLIED);
    assertEquals(List.of(made.id()), peers.landed);
    assertEquals("valid", current(made.id()).validation());
    assertEquals("auto-approve", current(made.id()).decisions().get(0).decision());
    await("the feature told", () -> current(made.id()).featureSettled());
    assertEquals(List.of(ProposalStatus.APPLIED), peers.settled);
  }

  @Test
  void anInvalidVerdictFailsAPendingProposalAndTellsTheAgentWhy() throws Exception {
    Violation secret = new Violation("secret", "key.pem", dev.warden.validate.Severity.CRITICAL, "a private key");
    peers.verdicts.add(verdict(2, VerdictStatus.INVALID, List.of(secret)));
    Proposal made = run(replyTo -> new Applier.Propose(draft(2, Tier.LOW, Optional.empty()), Proposal.PENDING, replyTo));

    await("failed", () -> current(made.id()).status() == ProposalStatus.FAILED);
    assertEquals(List.of(secret), current(made.id()).violations());
    assertTrue(current(made.id()).note().orElseThrow().contains("checkpoint 2 is invalid"));
    assertTrue(peers.landed.isEmpty(), "an invalid checkpoint never lands");
    await("the agent told", () -> peers.told.stream().anyMatch(t -> t.contains(made.id() + " failed")));
    await("the feature sent back to work", () -> peers.settled.equals(List.of(ProposalStatus.FAILED)));
  }

  @Test
  void aMediumWindowThatEndsWhileTheVerdictRunsApprovesItOnceValid() throws Exception {
    peers.verdicts.add(verdict(3, VerdictStatus.QUEUED, List.of()));
    Proposal made = run(replyTo -> new Applier.Propose(draft(3, Tier.MEDIUM, Optional.of(Instant.now().plusMillis(100))),
        Proposal.PENDING, replyTo));
    Thread.sleep(400); // the window ends; the verdict is still queued: nothing may be decided yet
    assertEquals(ProposalStatus.PROPOSED, current(made.id()).status());
    peers.verdicts.clear();
    peers.verdicts.add(verdict(3, VerdictStatus.VALID, List.of()));
    await("applied", () -> current(made.id()).status() == ProposalStatus.APPLIED);
    assertTrue(current(made.id()).decisions().get(0).reason().orElseThrow().contains("review window"));
  }

  @Test
  void refusalsStalenessAndWithdrawal() throws Exception {
    Proposal high = run(replyTo -> new Applier.Propose(draft(5, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo));
    // the same checkpoint proposed again is the same proposal
    assertEquals(high.id(), run(replyTo -> new Applier.Propose(draft(5, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo)).id());
    // a bypass needs an admin and a reason; an approver may not approve twice
    assertEquals(dev.warden.Rejection.Kind.CONFLICT,
        refused(replyTo -> new Applier.Approve(high.id(), "lead", Role.APPROVER, Optional.of("x"), true, replyTo)).kind());
    assertEquals(dev.warden.Rejection.Kind.INVALID,
        refused(replyTo -> new Applier.Approve(high.id(), "ops", Role.ADMIN, Optional.empty(), true, replyTo)).kind());
    Proposal once = run(replyTo -> new Applier.Approve(high.id(), "lead", Role.APPROVER, Optional.empty(), false, replyTo));
    assertEquals(1, once.approvers().size());
    assertEquals(ProposalStatus.PROPOSED, once.status());
    assertTrue(refused(replyTo -> new Applier.Approve(high.id(), "lead", Role.APPROVER, Optional.empty(), false, replyTo))
        .message().contains("already approved by lead"));

    // a newer checkpoint makes it stale; a proposal of a checkpoint older than the newest is refused
    applier.runCommand(new Applier.NoticeCheckpoint(6));
    await("stale", () -> current(high.id()).status() == ProposalStatus.STALE);
    assertTrue(refused(replyTo -> new Applier.Propose(draft(5, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo))
        .message().contains("checkpoint 6 was taken"));

    Proposal next = run(replyTo -> new Applier.Propose(draft(6, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo));
    assertEquals(feature + ".2", next.id());
    Proposal withdrawn = run(replyTo -> new Applier.Withdraw("warden", "withdrawn: the feature ended", replyTo));
    assertEquals(ProposalStatus.WITHDRAWN, withdrawn.status());
    assertEquals("withdraw", withdrawn.decisions().get(withdrawn.decisions().size() - 1).decision());
    assertEquals(dev.warden.Rejection.Kind.NOT_FOUND, refused(replyTo -> new Applier.Withdraw("warden", "again", replyTo)).kind());
    assertTrue(peers.landed.isEmpty());
  }

  @Test
  void aRejectionEndsAnOpenProposalWithWhoAndWhyAndIsRefusedWhenThereIsNothingToReject() throws Exception {
    Proposal high = run(replyTo -> new Applier.Propose(draft(7, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo));
    var unknown = ask(replyTo -> new Applier.Reject(feature + ".9", "lead", "no", replyTo));
    assertEquals(dev.warden.Rejection.Kind.NOT_FOUND, assertInstanceOf(Applier.Refused.class, unknown.reply()).kind());
    assertTrue(unknown.hasNoEvents());

    var rejected = ask(replyTo -> new Applier.Reject(high.id(), "lead", "touches billing", replyTo));
    assertEquals(ProposalStatus.REJECTED, assertInstanceOf(Applier.Accepted.class, rejected.reply()).proposal().status());
    Applier.ProposalRejected event = rejected.eventOfType(Applier.ProposalRejected.class);
    assertEquals(List.of("lead", "touches billing"), List.of(event.by(), event.reason()));
    assertEquals(ProposalStatus.REJECTED, current(high.id()).status());

    var again = ask(replyTo -> new Applier.Reject(high.id(), "lead", "twice", replyTo));
    assertTrue(assertInstanceOf(Applier.Refused.class, again.reply()).message().contains("it is rejected"));
    assertTrue(again.hasNoEvents());
    await("the feature told it was rejected", () -> peers.settled.equals(List.of(ProposalStatus.REJECTED)));
    assertTrue(peers.landed.isEmpty(), "a rejected proposal never lands");
  }

  @Test
  void getAnswersAProposalAsItIsWithoutEvents() {
    Proposal made = run(replyTo -> new Applier.Propose(draft(8, Tier.HIGH, Optional.empty()), Proposal.VALID, replyTo));
    var got = ask(replyTo -> new Applier.Get(made.id(), replyTo));
    Proposal seen = assertInstanceOf(Applier.Accepted.class, got.reply()).proposal();
    assertEquals(List.of(made.id(), "c0ffee8", "work"), List.of(seen.id(), seen.draft().checkpointCommit(), seen.draft().description()));
    assertTrue(got.hasNoEvents());
    var missing = ask(replyTo -> new Applier.Get(feature + ".5", replyTo));
    assertEquals(dev.warden.Rejection.Kind.NOT_FOUND, assertInstanceOf(Applier.Refused.class, missing.reply()).kind());
  }

  @Test
  void onlyAnAppliedProposalIsRolledBackAndARevertThatCannotLandChangesNothing() throws Exception {
    Proposal low = run(replyTo -> new Applier.Propose(draft(1, Tier.LOW, Optional.empty()), Proposal.VALID, replyTo));
    await("applied", () -> current(low.id()).status() == ProposalStatus.APPLIED);
    var probe = testKit.<Applier.Reply>createTestProbe();

    applier.runCommand(new Applier.Rollback(feature + ".4", "ops", "why not", probe.ref()));
    assertEquals(dev.warden.Rejection.Kind.NOT_FOUND, probe.expectMessageClass(Applier.Refused.class).kind());

    // the revert conflicts with later work: refused with the paths, the proposal stays applied, no event
    peers.reverts.add(new MergeEngine.Result.Conflicted(List.of("a.txt"), "head"));
    var conflicted = applier.runCommand(new Applier.Rollback(low.id(), "ops", "broke login", probe.ref()));
    assertTrue(conflicted.hasNoEvents());
    assertTrue(probe.expectMessageClass(Applier.Refused.class, Duration.ofSeconds(10)).message().contains("conflicts with later changes in a.txt"));
    assertEquals(ProposalStatus.APPLIED, current(low.id()).status());

    peers.reverts.add(new MergeEngine.Result.Applied("after-" + low.id(), "revert-1", List.of(), 1));
    applier.runCommand(new Applier.Rollback(low.id(), "ops", "broke login", probe.ref()));
    Proposal reverted = probe.expectMessageClass(Applier.Accepted.class, Duration.ofSeconds(10)).proposal();
    assertEquals(ProposalStatus.REVERTED, reverted.status());
    assertEquals(ProposalStatus.REVERTED, current(low.id()).status());

    applier.runCommand(new Applier.Rollback(low.id(), "ops", "again", probe.ref()));
    assertTrue(probe.expectMessageClass(Applier.Refused.class).message().contains("reverted already"));
    applier.restart();
    assertEquals(ProposalStatus.REVERTED, current(low.id()).status(), "the revert is recorded");
  }

  @Test
  void theStateSurvivesARestartAndAnApprovedProposalIsAppliedThen() throws Exception {
    Proposal low = run(replyTo -> new Applier.Propose(draft(1, Tier.LOW, Optional.empty()), Proposal.VALID, replyTo));
    await("applied", () -> current(low.id()).status() == ProposalStatus.APPLIED);
    applier.restart();
    assertEquals(ProposalStatus.APPLIED, current(low.id()).status());
    assertEquals(Optional.of("after-" + low.id()), current(low.id()).apply().flatMap(Proposal.ApplyRecord::commit));
    assertEquals(1, peers.landed.size(), "recovery never lands an applied proposal again");
  }
}
