package dev.warden.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import dev.warden.plan.Plan;
import java.util.function.Function;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import com.typesafe.config.ConfigFactory;
import dev.warden.Rejection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Feature entity's lifecycle: each command's reply, events and state, rejections that persist
 * nothing, and recovery from the journal. Serialization of commands, events and state is verified
 * on every command (the testkit's default), so what crosses nodes or reaches the journal is checked.
 */
class FeatureTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseResources("serialization.conf").withFallback(EventSourcedBehaviorTestKit.config()).resolve());

  private EventSourcedBehaviorTestKit<Feature.Command, Feature.Event, Feature.State> feature;
  private String id;

  @BeforeEach
  void freshFeature() {
    id = "f-" + UUID.randomUUID().toString().substring(0, 8);
    feature = EventSourcedBehaviorTestKit.create(testKit.system(), Feature.create(id));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Feature.Registration registration(String id) {
    return new Feature.Registration("/repos/app", "main", "warden/" + id, "/data/worktrees/" + id,
        "0123456789012345678901234567890123456789", Plan.defaults());
  }

  private CommandResultWithReply<Feature.Command, Feature.Event, Feature.State, Feature.Reply> register() {
    return run(replyTo -> new Feature.Register(registration(id), "alice", replyTo));
  }

  private CommandResultWithReply<Feature.Command, Feature.Event, Feature.State, Feature.Reply> run(
      Function<ActorRef<Feature.Reply>, Feature.Command> command) {
    return feature.runCommand(command);
  }

  private Feature.FeatureSummary accepted(Feature.Reply reply) {
    return assertInstanceOf(Feature.Accepted.class, reply).feature();
  }

  private Feature.Rejected rejected(Feature.Reply reply, Rejection.Kind kind) {
    Feature.Rejected rejected = assertInstanceOf(Feature.Rejected.class, reply);
    assertEquals(kind, rejected.kind());
    return rejected;
  }

  private FeatureStatus status() {
    return ((Feature.Existing) feature.getState()).feature().status();
  }

  @Test
  void anUnsandboxedRunMarksTheFeatureOnceAndASandboxedRunClearsIt() {
    register();
    var unsandboxed = run(replyTo -> new Feature.RecordRun(false, Optional.of("--no-sandbox was given"), "claude", "agent", replyTo));
    Feature.AgentRanUnsandboxed event = assertInstanceOf(Feature.AgentRanUnsandboxed.class, unsandboxed.event());
    assertEquals("--no-sandbox was given", event.reason());
    assertTrue(accepted(unsandboxed.reply()).unsandboxed());
    // the same run's hello again (a reconnect): nothing new on the record
    assertTrue(run(replyTo -> new Feature.RecordRun(false, Optional.of("--no-sandbox was given"), "claude", "agent", replyTo))
        .hasNoEvents());
    var sandboxed = run(replyTo -> new Feature.RecordRun(true, Optional.empty(), "claude", "agent", replyTo));
    assertInstanceOf(Feature.AgentRanSandboxed.class, sandboxed.event());
    Feature.FeatureSummary after = accepted(sandboxed.reply());
    assertTrue(!after.unsandboxed() && after.lastRun().orElseThrow().sandboxed());
    // a reason-less unsandboxed hello still marks it, with a reason a person can read
    var silent = run(replyTo -> new Feature.RecordRun(false, Optional.of(" "), "aider", "agent", replyTo));
    assertEquals("no reason given", assertInstanceOf(Feature.AgentRanUnsandboxed.class, silent.event()).reason());
  }

  @Test
  void registeringRecordsTheFeatureAndAdmitsIt() {
    var result = register();

    Feature.FeatureSummary summary = accepted(result.reply());
    assertEquals(FeatureStatus.ACTIVE, summary.status());
    assertEquals("warden/" + id, summary.branch());
    assertEquals("alice", summary.createdBy());
    assertEquals(2, result.events().size());
    assertInstanceOf(Feature.FeatureRegistered.class, result.events().get(0));
    assertInstanceOf(Feature.FeatureActivated.class, result.events().get(1));
    assertEquals(summary, ((Feature.Existing) result.state()).feature());
  }

  @Test
  void registeringAnExistingIdIsAConflictAndPersistsNothing() {
    register();
    var again = register();
    rejected(again.reply(), Rejection.Kind.CONFLICT);
    assertTrue(again.hasNoEvents());
  }

  @Test
  void commandsOnAFeatureThatWasNeverRegisteredAreNotFound() {
    var get = run(Feature.Get::new);
    rejected(get.reply(), Rejection.Kind.NOT_FOUND);
    var pause = run(replyTo -> new Feature.Pause(null, "alice", replyTo));
    rejected(pause.reply(), Rejection.Kind.NOT_FOUND);
    var resume = run(replyTo -> new Feature.Resume("alice", replyTo));
    rejected(resume.reply(), Rejection.Kind.NOT_FOUND);
    var abandon = run(replyTo -> new Feature.Abandon(null, "alice", replyTo));
    rejected(abandon.reply(), Rejection.Kind.NOT_FOUND);
    assertTrue(get.hasNoEvents() && pause.hasNoEvents() && resume.hasNoEvents() && abandon.hasNoEvents());
    assertInstanceOf(Feature.Empty.class, feature.getState());
  }

  @Test
  void anAgentsExitIsTheReasonOfAnActiveFeatureButNotOfAPausedOrEndedOne() {
    register();
    var exited = run(replyTo -> new Feature.RecordExit(4, "claude", replyTo));
    Feature.AgentExited event = assertInstanceOf(Feature.AgentExited.class, exited.event());
    assertEquals(4, event.code());
    assertEquals("claude", event.agent());
    Feature.FeatureSummary after = accepted(exited.reply());
    assertEquals(FeatureStatus.ACTIVE, after.status(), "an exit escalates nothing");
    assertEquals(Optional.of("agent exited with 4"), after.statusReason());

    run(replyTo -> new Feature.Pause("reviewing", "bob", replyTo));
    var whilePaused = run(replyTo -> new Feature.RecordExit(0, "claude", replyTo));
    assertInstanceOf(Feature.AgentExited.class, whilePaused.event());
    assertEquals(FeatureStatus.PAUSED, accepted(whilePaused.reply()).status());
    assertEquals(Optional.of("reviewing"), accepted(whilePaused.reply()).statusReason(), "the pause's reason stands");

    run(replyTo -> new Feature.Abandon("done", "bob", replyTo));
    assertTrue(run(replyTo -> new Feature.RecordExit(1, "claude", replyTo)).hasNoEvents(), "an ended feature records no exit");
  }

  @Test
  void pauseThenResume() {
    register();
    var pause = run(replyTo -> new Feature.Pause("reviewing", "bob", replyTo));
    assertEquals(FeatureStatus.PAUSED, accepted(pause.reply()).status());
    assertEquals(Optional.of("reviewing"), accepted(pause.reply()).statusReason());
    Feature.FeaturePaused paused = pause.eventOfType(Feature.FeaturePaused.class);
    assertEquals("bob", paused.pausedBy());

    var resume = run(replyTo -> new Feature.Resume("carol", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(resume.reply()).status());
    assertEquals("carol", resume.eventOfType(Feature.FeatureResumed.class).resumedBy());
    assertEquals(FeatureStatus.ACTIVE, status());
  }

  @Test
  void repeatingPauseOrResumeSucceedsWithoutNewEvents() {
    register();
    var resumeActive = run(replyTo -> new Feature.Resume("bob", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(resumeActive.reply()).status());
    assertTrue(resumeActive.hasNoEvents());

    run(replyTo -> new Feature.Pause(null, "bob", replyTo));
    var pauseAgain = run(replyTo -> new Feature.Pause(null, "bob", replyTo));
    assertEquals(FeatureStatus.PAUSED, accepted(pauseAgain.reply()).status());
    assertTrue(pauseAgain.hasNoEvents());
  }

  @Test
  void abandoningEndsTheFeatureFromActiveOrPaused() {
    register();
    run(replyTo -> new Feature.Pause(null, "bob", replyTo));
    var abandon = run(replyTo -> new Feature.Abandon("not needed", "dave", replyTo));
    assertEquals(FeatureStatus.ABANDONED, accepted(abandon.reply()).status());
    Feature.FeatureAbandoned event = abandon.eventOfType(Feature.FeatureAbandoned.class);
    assertEquals(Optional.of("not needed"), event.reason());
    assertEquals("dave", event.abandonedBy());

    var again = run(replyTo -> new Feature.Abandon(null, "dave", replyTo));
    assertEquals(FeatureStatus.ABANDONED, accepted(again.reply()).status());
    assertTrue(again.hasNoEvents());
  }

  @Test
  void anAbandonedFeatureCannotBePausedOrResumed() {
    register();
    run(replyTo -> new Feature.Abandon(null, "dave", replyTo));

    var pause = run(replyTo -> new Feature.Pause(null, "bob", replyTo));
    Feature.Rejected rejected = rejected(pause.reply(), Rejection.Kind.CONFLICT);
    assertTrue(rejected.message().contains("abandoned"), rejected.message());
    assertTrue(pause.hasNoEvents());

    var resume = run(replyTo -> new Feature.Resume("bob", replyTo));
    rejected(resume.reply(), Rejection.Kind.CONFLICT);
    assertTrue(resume.hasNoEvents());
    assertEquals(FeatureStatus.ABANDONED, status());
  }

  @Test
  void getAnswersTheCurrentFeatureWithoutEvents() {
    register();
    var get = run(Feature.Get::new);
    assertEquals(id, accepted(get.reply()).id());
    assertTrue(get.hasNoEvents());
  }

  @Test
  void anEscalationPutsALiveFeatureInNeedsAttentionOnceAndResumeClearsIt() {
    register();
    var escalate = run(replyTo -> new Feature.Escalate("checkpoint taken without ack", false, replyTo));
    assertEquals(FeatureStatus.NEEDS_ATTENTION, accepted(escalate.reply()).status());
    assertEquals(Optional.of("checkpoint taken without ack"), accepted(escalate.reply()).statusReason());
    escalate.eventOfType(Feature.FeatureEscalated.class);

    var again = run(replyTo -> new Feature.Escalate("again", false, replyTo));
    assertTrue(again.hasNoEvents());

    var resume = run(replyTo -> new Feature.Resume("ops", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(resume.reply()).status());
  }

  @Test
  void aCriticalEscalationHoldsTheAgentUntilAPersonResumes() {
    register();
    var critical = run(replyTo -> new Feature.Escalate("symlink to /etc/passwd", true, replyTo));
    Feature.FeatureSummary held = accepted(critical.reply());
    assertEquals(FeatureStatus.NEEDS_ATTENTION, held.status());
    assertTrue(held.agentHeld());
    assertEquals(Optional.of(true), critical.eventOfType(Feature.FeatureEscalated.class).agentHeld());

    // a later critical finding on a held feature adds nothing
    assertTrue(run(replyTo -> new Feature.Escalate("again", true, replyTo)).hasNoEvents());
    feature.restart();
    assertTrue(((Feature.Existing) feature.getState()).feature().agentHeld(), "the hold survives recovery");

    var resume = run(replyTo -> new Feature.Resume("ops", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(resume.reply()).status());
    assertTrue(!accepted(resume.reply()).agentHeld());
  }

  @Test
  void aProposedFeatureIsHeldOnlyForACriticalFinding() {
    register();
    run(replyTo -> new Feature.RecordProposal("done", Optional.of(3L), "agent", Optional.empty(), replyTo));
    assertTrue(run(replyTo -> new Feature.Escalate("no ack", false, replyTo)).hasNoEvents());
    var critical = run(replyTo -> new Feature.Escalate("secret in checkpoint 4", true, replyTo));
    assertEquals(FeatureStatus.NEEDS_ATTENTION, accepted(critical.reply()).status());
    assertTrue(accepted(critical.reply()).agentHeld());
  }

  @Test
  void aQuestionWaitsForItsAnswerThenTheFeatureCarriesOn() {
    register();
    var asked = run(replyTo -> new Feature.AskQuestion("q-1", "Keep the old endpoint?", replyTo));
    Feature.FeatureSummary waiting = accepted(asked.reply());
    assertEquals(FeatureStatus.AWAITING_INPUT, waiting.status());
    assertEquals("Keep the old endpoint?", waiting.openQuestions().get(0).text());

    var resume = run(replyTo -> new Feature.Resume("ops", replyTo));
    rejected(resume.reply(), Rejection.Kind.CONFLICT);
    var wrongId = run(replyTo -> new Feature.AnswerQuestion("q-9", "yes", "ops", replyTo));
    rejected(wrongId.reply(), Rejection.Kind.NOT_FOUND);
    assertTrue(wrongId.hasNoEvents());

    var answered = run(replyTo -> new Feature.AnswerQuestion("q-1", "Yes, until v3.", "lead", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(answered.reply()).status());
    assertTrue(accepted(answered.reply()).openQuestions().isEmpty());
    assertEquals("lead", answered.eventOfType(Feature.QuestionAnswered.class).answeredBy());
  }

  @Test
  void aQuestionAskedWhilePausedReturnsToPausedWhenAnswered() {
    register();
    run(replyTo -> new Feature.Pause(null, "ops", replyTo));
    run(replyTo -> new Feature.AskQuestion("q-1", "one?", replyTo));
    run(replyTo -> new Feature.AskQuestion("q-2", "two?", replyTo));
    var first = run(replyTo -> new Feature.AnswerQuestion("q-1", "a", "lead", replyTo));
    assertEquals(FeatureStatus.AWAITING_INPUT, accepted(first.reply()).status());
    var second = run(replyTo -> new Feature.AnswerQuestion("q-2", "b", "lead", replyTo));
    assertEquals(FeatureStatus.PAUSED, accepted(second.reply()).status());
  }

  @Test
  void aFeatureHoldsAtMostItsCapOfOpenQuestions() {
    register();
    run(replyTo -> new Feature.AskQuestion("q-1", "one?", 2, replyTo));
    run(replyTo -> new Feature.AskQuestion("q-2", "two?", 2, replyTo));
    var third = run(replyTo -> new Feature.AskQuestion("q-3", "three?", 2, replyTo));
    Feature.Rejected refused = rejected(third.reply(), Rejection.Kind.CONFLICT);
    assertTrue(refused.message().contains("already has 2 open questions (warden.agent.max-open-questions)"), refused.message());
    assertTrue(third.hasNoEvents());
    var again = run(replyTo -> new Feature.AskQuestion("q-1", "one?", 2, replyTo));
    assertEquals(2, accepted(again.reply()).openQuestions().size(), "asking an open one again is still fine");
    run(replyTo -> new Feature.AnswerQuestion("q-1", "a", "lead", replyTo));
    var afterAnswer = run(replyTo -> new Feature.AskQuestion("q-3", "three?", 2, replyTo));
    assertEquals(2, accepted(afterAnswer.reply()).openQuestions().size(), "an answer frees a place");
  }

  @Test
  void aProposalRecordsItsCheckpointAndEndedFeaturesCannotPropose() {
    register();
    var proposed = run(replyTo -> new Feature.RecordProposal("login form", Optional.of(7L), "agent", Optional.empty(), replyTo));
    Feature.FeatureSummary summary = accepted(proposed.reply());
    assertEquals(FeatureStatus.PROPOSED, summary.status());
    assertEquals(Optional.of(7L), summary.proposal().orElseThrow().checkpoint());

    run(replyTo -> new Feature.Abandon(null, "ops", replyTo));
    var late = run(replyTo -> new Feature.RecordProposal("again", Optional.empty(), "agent", Optional.empty(), replyTo));
    rejected(late.reply(), Rejection.Kind.CONFLICT);
    assertTrue(late.hasNoEvents());
  }

  @Test
  void anAppliedProposalEndsTheFeatureAndSayingItAgainChangesNothing() {
    register();
    run(replyTo -> new Feature.RecordProposal("login form", Optional.of(7L), "agent", Optional.of(id + ".1"), replyTo));
    var applied = run(replyTo -> new Feature.SettleProposal(id + ".1", Feature.ProposalEnd.APPLIED, "landed as 5adbc61", "lead", replyTo));
    assertEquals(FeatureStatus.APPLIED, accepted(applied.reply()).status());
    assertEquals(id + ".1", applied.eventOfType(Feature.FeatureApplied.class).proposalId());

    // the applier tells it again after a restart: the same answer, nothing recorded
    var again = run(replyTo -> new Feature.SettleProposal(id + ".1", Feature.ProposalEnd.APPLIED, "landed", "lead", replyTo));
    assertEquals(FeatureStatus.APPLIED, accepted(again.reply()).status());
    assertTrue(again.hasNoEvents());
    rejected(run(replyTo -> new Feature.Pause("late", "bob", replyTo)).reply(), Rejection.Kind.CONFLICT);
  }

  @Test
  void aRejectedProposalEndsTheFeatureWithWhoRejectedIt() {
    register();
    run(replyTo -> new Feature.RecordProposal("login form", Optional.of(7L), "agent", Optional.of(id + ".1"), replyTo));
    var rejected = run(replyTo -> new Feature.SettleProposal(id + ".1", Feature.ProposalEnd.REJECTED, "touches billing", "lead", replyTo));
    assertEquals(FeatureStatus.REJECTED, accepted(rejected.reply()).status());
    Feature.FeatureRejected event = rejected.eventOfType(Feature.FeatureRejected.class);
    assertEquals(List.of("touches billing", "lead"), List.of(event.reason(), event.rejectedBy()));
  }

  @Test
  void aReturnedProposalSendsTheFeatureBackToWorkUnlessANewerOneIsAwaited() {
    register();
    run(replyTo -> new Feature.RecordProposal("first try", Optional.of(3L), "agent", Optional.of(id + ".1"), replyTo));
    var returned = run(replyTo -> new Feature.SettleProposal(id + ".1", Feature.ProposalEnd.RETURNED, "tests failed", "warden", replyTo));
    assertEquals(FeatureStatus.ACTIVE, accepted(returned.reply()).status());
    assertEquals("tests failed", returned.eventOfType(Feature.FeatureReturnedToWork.class).reason());

    run(replyTo -> new Feature.RecordProposal("second try", Optional.of(5L), "agent", Optional.of(id + ".2"), replyTo));
    // word about the old proposal comes late: the feature keeps waiting for the new one
    var stale = run(replyTo -> new Feature.SettleProposal(id + ".1", Feature.ProposalEnd.RETURNED, "stale", "warden", replyTo));
    assertEquals(FeatureStatus.PROPOSED, accepted(stale.reply()).status());
    assertTrue(stale.hasNoEvents());

    Function<ActorRef<Feature.Reply>, Feature.Command> settle =
        replyTo -> new Feature.SettleProposal(id + "-x.1", Feature.ProposalEnd.APPLIED, "?", "lead", replyTo);
    var unknown = EventSourcedBehaviorTestKit.<Feature.Command, Feature.Event, Feature.State>create(testKit.system(), Feature.create(id + "-x"))
        .runCommand(settle);
    rejected(unknown.reply(), Rejection.Kind.NOT_FOUND);
    assertTrue(unknown.hasNoEvents());
  }

  @Test
  void aNewPlanGetsTheNextVersionAndTheSamePlanAgainChangesNothing() {
    register();
    Plan narrower = new Plan(99, List.of("src/**"), List.of(), Optional.empty(), Plan.Limits.defaults(), List.of(), Optional.empty());
    var changed = run(replyTo -> new Feature.ChangePlan(narrower, "lead", replyTo));
    Feature.FeatureSummary summary = accepted(changed.reply());
    assertEquals(2, summary.plan().version(), "the client's version number is ignored");
    assertEquals(List.of("src/**"), summary.plan().allowedPaths());
    assertEquals("lead", changed.eventOfType(Feature.PlanChanged.class).changedBy());

    var same = run(replyTo -> new Feature.ChangePlan(narrower, "lead", replyTo));
    assertEquals(2, accepted(same.reply()).plan().version());
    assertTrue(same.hasNoEvents());

    run(replyTo -> new Feature.Abandon(null, "ops", replyTo));
    var late = run(replyTo -> new Feature.ChangePlan(Plan.defaults(), "lead", replyTo));
    rejected(late.reply(), Rejection.Kind.CONFLICT);
    assertTrue(late.hasNoEvents());
  }

  @Test
  void recoveryRestoresTheSameState() {
    register();
    run(replyTo -> new Feature.Pause("night", "bob", replyTo));
    run(replyTo -> new Feature.AskQuestion("q-1", "why?", replyTo));
    Feature.State before = feature.getState();

    var restarted = feature.restart();

    assertEquals(before, restarted.state());
    assertEquals(FeatureStatus.AWAITING_INPUT, status());
    run(replyTo -> new Feature.AnswerQuestion("q-1", "because", "lead", replyTo));
    assertEquals(FeatureStatus.PAUSED, status());
    var resume = run(replyTo -> new Feature.Resume("bob", replyTo));
    assertEquals(List.of(FeatureStatus.ACTIVE), List.of(accepted(resume.reply()).status()));
  }
}
