package dev.warden.feed;

import dev.warden.apply.Applier;
import dev.warden.apply.Proposal;
import dev.warden.plan.Tier;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.plan.Trigger;
import dev.warden.feature.Feature;
import dev.warden.plan.Plan;
import dev.warden.validate.Severity;
import dev.warden.validate.Validator;
import dev.warden.validate.VerdictStatus;
import dev.warden.validate.Violation;
import dev.warden.watchdog.Watchdog;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the feed says about each event: a readable type and the facts a person needs, and never a Java
 * class name or the journal's internals. Every event of every entity has a hand-written entry; an
 * event nobody listed (the coming Applier's) still gets a readable type and its fields.
 */
class FeedCatalogTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant AT = Instant.parse("2026-11-21T12:00:00Z");
  private static final String COMMIT = "0123456789012345678901234567890123456789";
  private static final String GIT_DIR = "/srv/repos/app/.git";
  private static final FeedCatalog catalog = FeedCatalog.standard();

  private static final Feature.Registration REGISTRATION =
      new Feature.Registration("/srv/repos/app", "main", "warden/f1", "/data/worktrees/f1", COMMIT, Plan.defaults());
  private static final Proposal.Draft DRAFT = new Proposal.Draft("f1.1", "f1", 1, "add login", 7, COMMIT, COMMIT, GIT_DIR, "main",
      COMMIT, new Proposal.Changes(1, 8, 3, List.of(new Proposal.ChangedPath("src/Login.java", 8, 3, Tier.MEDIUM))), Tier.MEDIUM, 1,
      Optional.of(AT), AT, Optional.empty(), "agent", AT,
      Optional.of(new dev.warden.process.SandboxRules(Optional.empty(), Optional.of(true), List.of("~/.m2"), List.of(), Optional.empty())));
  private static final Violation SECRET = new Violation("secret", "config/prod.env", Severity.CRITICAL, "an AWS access key (…WXYZ)");

  /** One of each event the four entities persist, with the persistence id it is stored under. */
  static List<Map.Entry<String, Object>> everyEntityEvent() {
    Checkpoints.CheckpointRecord record = new Checkpoints.CheckpointRecord(7, COMMIT, COMMIT, COMMIT, Trigger.MANUAL, true,
        Optional.empty(), 2, 10, 3, 4, 12, AT);
    Checkpoints.ChainSetup setup = new Checkpoints.ChainSetup("f1", GIT_DIR, "/data/worktrees/f1", "refs/warden/f1/checkpoints", COMMIT);
    Validator.CheckOutcome check = new Validator.CheckOutcome("unit", List.of("mvn", "test"), false, Optional.of(1), false, 5400,
        "x".repeat(5000), "BUILD FAILURE", 0,
        Optional.of("sandbox: writable /data/scratch/check-1; everything else read-only; private /tmp; hidden /data; network off"));
    Watchdog.WatchSetup watch = new Watchdog.WatchSetup("f1", "/data/worktrees/f1", GIT_DIR + "/worktrees/f1", GIT_DIR, 1L << 30);
    return List.of(
        Map.entry("Feature|f1", new Feature.FeatureRegistered("f1", REGISTRATION, "alice", AT)),
        Map.entry("Feature|f1", new Feature.FeatureActivated("f1", AT)),
        Map.entry("Feature|f1", new Feature.FeaturePaused("f1", Optional.of("lunch"), "alice", AT)),
        Map.entry("Feature|f1", new Feature.FeatureResumed("f1", "alice", AT)),
        Map.entry("Feature|f1", new Feature.FeatureAbandoned("f1", Optional.empty(), "bob", AT)),
        Map.entry("Feature|f1", new Feature.FeatureEscalated("f1", "agent silent for 20 s", AT, Optional.empty())),
        Map.entry("Feature|f1", new Feature.PlanChanged("f1", Plan.defaults().withVersion(2), "carol", AT)),
        Map.entry("Feature|f1", new Feature.QuestionAsked("f1", "q-1", "May I touch the schema?", AT)),
        Map.entry("Feature|f1", new Feature.AgentRanUnsandboxed("f1", "--no-sandbox was given", "claude", "agent", AT)),
        Map.entry("Feature|f1", new Feature.AgentRanSandboxed("f1", "claude", "agent", AT)),
        Map.entry("Feature|f1", new Feature.AgentExited("f1", 4, "claude", AT)),
        Map.entry("Feature|f1", new Feature.AgentConnected("f1", "claude", Optional.of("1.0.3"), AT)),
        Map.entry("Feature|f1", new Feature.AgentDisconnected("f1", "claude", "the agent sent nothing for 20 s", AT)),
        Map.entry("Feature|f1", new Feature.AgentMessaged("f1", "lead", 32, AT)),
        Map.entry("Feature|f1", new Feature.QuestionAnswered("f1", "q-1", "yes", "carol", AT)),
        Map.entry("Feature|f1", new Feature.FeatureProposed("f1", "add login", Optional.of(7L), "agent", AT, Optional.of("f1.1"))),
        Map.entry("Feature|f1", new Feature.FeatureApplied("f1", "f1.1", "proposal f1.1 applied to main as " + COMMIT, AT)),
        Map.entry("Feature|f1", new Feature.FeatureRejected("f1", "f1.1", "proposal f1.1 rejected: not now", "carol", AT)),
        Map.entry("Feature|f1", new Feature.FeatureReturnedToWork("f1", "f1.1", "proposal f1.1 went stale", AT)),
        Map.entry("Applier|f1", new Applier.ProposalCreated("f1", DRAFT, "valid", AT)),
        Map.entry("Applier|f1", new Applier.ProposalValidated("f1", "f1.1", "invalid", List.of(SECRET), AT)),
        Map.entry("Applier|f1", new Applier.ApprovalGiven("f1", "f1.1", "carol", "approver", Optional.of("looks right"), false, AT)),
        Map.entry("Applier|f1", new Applier.ProposalApproved("f1", "f1.1", "policy", "low tier", AT)),
        Map.entry("Applier|f1", new Applier.ProposalRejected("f1", "f1.1", "carol", "not now", AT)),
        Map.entry("Applier|f1", new Applier.ProposalExpired("f1", "f1.1", AT)),
        Map.entry("Applier|f1", new Applier.ProposalWithdrawn("f1", "f1.1", "warden", "withdrawn: the feature ended", AT)),
        Map.entry("Applier|f1", new Applier.ProposalWentStale("f1", "f1.1", 8, AT)),
        Map.entry("Applier|f1", new Applier.ApplyDeferred("f1", "f1.1", "the target branch main is checked out in /home/u/app", AT)),
        Map.entry("Applier|f1", new Applier.ProposalApplied("f1", "f1.1", COMMIT, COMMIT, 1, List.of(check), false, AT)),
        Map.entry("Applier|f1", new Applier.ProposalFailed("f1", "f1.1", "conflicts in a.txt", List.of("a.txt"), List.of(), AT)),
        Map.entry("Applier|f1", new Applier.ProposalReverted("f1", "f1.1", COMMIT, "ops", "broke prod", List.of(), AT)),
        Map.entry("Applier|f1", new Applier.FeatureSettled("f1", "f1.1", AT)),
        Map.entry("Checkpoints|f1", new Checkpoints.ChainStarted(setup, AT)),
        Map.entry("Checkpoints|f1", new Checkpoints.CheckpointTaken("f1", record,
            List.of(new Checkpoints.ChangedFile("src/Login.java", "modified", 8, 3), new Checkpoints.ChangedFile("README.md", "added", 2, 0)),
            false)),
        Map.entry("Checkpoints|f1", new Checkpoints.RolledBack("f1", 5, List.of("src/Login.java"), List.of("src/Login.java"), "alice", AT)),
        Map.entry("Checkpoints|f1", new Checkpoints.PatchPromoted("f1", COMMIT, List.of("src/Login.java"), "agent", AT)),
        Map.entry("Validator|f1", new Validator.ValidationStarted("f1", 7, COMMIT, Trigger.DEBOUNCE, GIT_DIR, COMMIT, AT)),
        Map.entry("Validator|f1", new Validator.FastRulesChecked("f1", 7, 1, VerdictStatus.INVALID, List.of(SECRET), List.of(), 3, 4, 1200, false, AT)),
        Map.entry("Validator|f1", new Validator.ChecksQueued("f1", 7, "the check pool is full", AT)),
        Map.entry("Validator|f1", new Validator.ChecksCompleted("f1", 7, List.of(check), VerdictStatus.INVALID, AT)),
        Map.entry("Validator|f1", new Validator.ValidationFailed("f1", 7, "commit missing", AT)),
        Map.entry("Validator|f1", new Validator.PatchRejected("f1", "agent", "not valid", List.of(SECRET), AT)),
        Map.entry("Watchdog|f1", new Watchdog.WatchStarted(watch, AT)),
        Map.entry("Watchdog|f1", new Watchdog.ChangesRecorded("f1",
            List.of(new Watchdog.RecordedChange("src/Login.java", "modify", AT, AT, 3)), false, false, AT)),
        Map.entry("Watchdog|f1", new Watchdog.ViolationsDetected("f1",
            List.of(new Watchdog.ViolationRecord("git-write", ".git/config", "critical", "write inside .git")), AT)),
        Map.entry("Watchdog|f1", new Watchdog.WatchDegraded("f1", "watch limit reached", AT)));
  }

  private static JsonNode message(String persistenceId, Object event) throws Exception {
    return JSON.readTree(catalog.render(42, AT, catalog.show(persistenceId, event)));
  }

  private static Set<String> eventClassNames() {
    Set<String> names = new HashSet<>();
    for (Class<?> sealed : List.of(Feature.Event.class, Checkpoints.Event.class, Validator.Event.class, Watchdog.Event.class,
        Applier.Event.class)) {
      for (Class<?> c : sealed.getPermittedSubclasses()) {
        names.add(c.getSimpleName());
      }
    }
    return names;
  }

  @Test
  void everyEventOfEveryEntityHasAHandWrittenEntryAndASample() {
    Set<Class<?>> sampled = new HashSet<>();
    everyEntityEvent().forEach(e -> sampled.add(e.getValue().getClass()));
    for (Class<?> sealed : List.of(Feature.Event.class, Checkpoints.Event.class, Validator.Event.class, Watchdog.Event.class,
        Applier.Event.class)) {
      for (Class<?> c : sealed.getPermittedSubclasses()) {
        assertTrue(catalog.lists(c), c.getName() + " has no feed entry: add one to FeedCatalog.standard()");
        assertTrue(sampled.contains(c), c.getName() + " has no sample in this test");
      }
    }
  }

  @Test
  void messagesCarryTheEnvelopeAReadableTypeAndNoClassNames() throws Exception {
    Set<String> classNames = eventClassNames();
    for (Map.Entry<String, Object> sample : everyEntityEvent()) {
      String text = catalog.render(42, AT, catalog.show(sample.getKey(), sample.getValue()));
      JsonNode message = JSON.readTree(text);
      String type = message.get("type").asText();
      assertEquals(List.of("offset", "ts", "feature", "type", "data"), fieldNames(message), text);
      assertEquals(42, message.get("offset").asLong());
      assertEquals("2026-11-21T12:00:00Z", message.get("ts").asText());
      assertEquals("f1", message.get("feature").asText(), text);
      assertTrue(FeedCatalog.isTypeName(type) && type.contains("."), text);
      assertTrue(catalog.knownTypes().contains(type), type);
      assertTrue(message.get("data").isObject(), text);
      assertFalse(text.contains("dev.warden") || text.contains("$") || text.contains("@class"), text);
      for (String className : classNames) {
        assertFalse(text.contains(className), className + " leaked into " + text);
      }
      // where git keeps its insides is not a person's business; the feature id is in the envelope
      assertFalse(text.contains(GIT_DIR), text);
      assertFalse(message.get("data").has("featureId"), text);
    }
  }

  @Test
  void payloadsSayWhichFilesWhichRuleAndWho() throws Exception {
    JsonNode registered = message("Feature|f1", new Feature.FeatureRegistered("f1", REGISTRATION, "alice", AT));
    assertEquals("feature.registered", registered.get("type").asText());
    assertEquals("/srv/repos/app", registered.at("/data/repo").asText());
    assertEquals("main", registered.at("/data/target").asText());
    assertEquals("alice", registered.at("/data/by").asText());

    JsonNode paused = message("Feature|f1", new Feature.FeaturePaused("f1", Optional.of("lunch"), "alice", AT));
    assertEquals("lunch", paused.at("/data/reason").asText());
    assertEquals("alice", paused.at("/data/by").asText());
    JsonNode abandoned = message("Feature|f1", new Feature.FeatureAbandoned("f1", Optional.empty(), "bob", AT));
    assertTrue(abandoned.at("/data/reason").isNull(), "an absent reason is null, not {\"present\":false}");

    Object taken = everyEntityEvent().stream().map(Map.Entry::getValue).filter(Checkpoints.CheckpointTaken.class::isInstance)
        .findFirst().orElseThrow();
    JsonNode checkpoint = message("Checkpoints|f1", taken);
    assertEquals("checkpoint.taken", checkpoint.get("type").asText());
    assertEquals(7, checkpoint.at("/data/checkpoint").asLong());
    assertEquals("manual", checkpoint.at("/data/trigger").asText());
    assertEquals("src/Login.java", checkpoint.at("/data/files/0/path").asText());
    assertEquals(8, checkpoint.at("/data/files/0/linesAdded").asInt());

    JsonNode verdict = message("Validator|f1", new Validator.FastRulesChecked("f1", 7, 1, VerdictStatus.INVALID, List.of(SECRET), List.of(), 0, 0, 0, false, AT));
    assertEquals("validation.completed", verdict.get("type").asText(), "no checks follow: the fast rules are the verdict");
    assertEquals("invalid", verdict.at("/data/verdict").asText());
    assertEquals("secret", verdict.at("/data/violations/0/rule").asText());
    assertEquals("config/prod.env", verdict.at("/data/violations/0/path").asText());
    assertEquals("critical", verdict.at("/data/violations/0/severity").asText());
    JsonNode partial = message("Validator|f1", new Validator.FastRulesChecked("f1", 7, 1, VerdictStatus.VALID, List.of(), List.of(), 0, 0, 0, true, AT));
    assertEquals("validation.fast_rules_checked", partial.get("type").asText(), "checks follow: the verdict is not final yet");

    Object completed = everyEntityEvent().stream().map(Map.Entry::getValue).filter(Validator.ChecksCompleted.class::isInstance)
        .findFirst().orElseThrow();
    JsonNode checks = message("Validator|f1", completed);
    assertEquals("validation.completed", checks.get("type").asText());
    assertEquals("unit", checks.at("/data/checks/0/name").asText());
    assertFalse(checks.at("/data/checks/0/passed").asBoolean());
    assertFalse(checks.toString().contains("xxxxxxxxxx"), "a check's output is not pushed to every subscriber");

    JsonNode violation = message("Watchdog|f1", new Watchdog.ViolationsDetected("f1",
        List.of(new Watchdog.ViolationRecord("git-write", ".git/config", "critical", "write inside .git")), AT));
    assertEquals("watchdog.violation", violation.get("type").asText());
    assertEquals("git-write", violation.at("/data/violations/0/rule").asText());
    assertEquals(".git/config", violation.at("/data/violations/0/path").asText());
  }

  @Test
  void longListsAreCutAndSaySo() throws Exception {
    List<Watchdog.RecordedChange> changes = IntStream.range(0, 250)
        .mapToObj(i -> new Watchdog.RecordedChange("src/f" + i + ".txt", "create", AT, AT, 1)).toList();
    JsonNode batch = message("Watchdog|f1", new Watchdog.ChangesRecorded("f1", changes, false, false, AT));
    assertEquals(FeedCatalog.MAX_LIST, batch.at("/data/files").size());
    assertTrue(batch.at("/data/truncated").asBoolean());
  }

  // ---- events nobody listed: the Applier's, as it will look ----

  sealed interface ApplierEvent {}

  record ProposalApproved(String featureId, String proposalId, String approvedBy, Optional<String> reason, Instant at,
      String diffPreview, List<String> paths) implements ApplierEvent {}

  record TestsPassed(String proposalId, long durationMs) implements ApplierEvent {}

  private static ProposalApproved approved() {
    return new ProposalApproved("f1", "p-9", "carol", Optional.of("looks right"), AT, "+".repeat(FeedCatalog.MAX_TEXT + 1),
        IntStream.range(0, 150).mapToObj(i -> "src/" + i + ".txt").toList());
  }

  @Test
  void anUnlistedEventGetsAReadableTypeAndItsFieldsWithoutTheBigOrInternalOnes() throws Exception {
    JsonNode message = message("Applier|p-9", approved());
    assertEquals("proposal.approved", message.get("type").asText());
    assertEquals("f1", message.get("feature").asText(), "the event's featureId names the feature");
    JsonNode data = message.get("data");
    assertEquals("p-9", data.get("proposalId").asText());
    assertEquals("carol", data.get("approvedBy").asText());
    assertEquals("looks right", data.get("reason").asText());
    assertFalse(data.has("featureId") || data.has("at"), data.toString());
    assertFalse(data.has("diffPreview"), "a big field is left out");
    assertEquals("diffPreview", data.at("/omitted/0").asText());
    assertEquals(FeedCatalog.MAX_LIST, data.get("paths").size());
    assertEquals("paths", data.at("/truncated/0").asText());
    assertFalse(message.toString().contains("ProposalApproved") || message.toString().contains("dev.warden"));
  }

  @Test
  void aDerivedEntityMakesItsTypesKnownAndTheFeatureFallsBackToThePersistenceId() throws Exception {
    FeedCatalog withApplier = FeedCatalog.builder().derived(ApplierEvent.class, "proposal").build();
    assertEquals(Set.of("proposal.approved", "proposal.tests_passed"), withApplier.knownTypes());
    FeedCatalog.Shown tests = withApplier.show("Applier|p-9", new TestsPassed("p-9", 1200));
    assertEquals("proposal.tests_passed", tests.type());
    assertEquals("p-9", tests.feature(), "no featureId field: the entity id of the persistence id");
    assertEquals(1200, tests.data().get("durationMs").asLong());
    assertNull(withApplier.show("no-bar", new TestsPassed("p", 1)).feature());
  }

  @Test
  void typesAreDerivedFromRecordNames() {
    assertEquals("proposal.approved", FeedCatalog.derivedType("ProposalApproved", Optional.empty()));
    assertEquals("proposal.approved", FeedCatalog.derivedType("ProposalApproved", Optional.of("proposal")));
    assertEquals("proposal.tests_passed", FeedCatalog.derivedType("TestsPassed", Optional.of("proposal")));
    assertEquals("fast.rules_checked", FeedCatalog.derivedType("FastRulesChecked", Optional.empty()));
    assertEquals("pr.merged", FeedCatalog.derivedType("PRMerged", Optional.empty()));
    assertEquals("tick", FeedCatalog.derivedType("Tick", Optional.empty()));
  }

  @Test
  void theTypesTheDesignNamesAreKnown() throws Exception {
    assertTrue(Stream.of("feature.registered", "checkpoint.taken", "validation.completed", "watchdog.violation")
        .allMatch(catalog.knownTypes()::contains), catalog.knownTypes().toString());
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
