package dev.warden.cli;

import static dev.warden.cli.ApprovalCommandsTest.ENV;
import static dev.warden.cli.ApprovalCommandsTest.NOW;
import static dev.warden.cli.ApprovalCommandsTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.cli.Cli.UsageError;
import dev.warden.feature.FeatureStatus;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden features | status}: arguments, usage errors and output, without HTTP. */
class FeatureCommandsTest {

  /** A feature as docs/api.md shows it, paused with a question and a proposal. */
  static final String FEATURE = """
      {"id": "demo-1", "status": "awaiting_input", "repo": "/tmp/demo", "target": "main", "branch": "warden/demo-1",
       "worktree": "/srv/warden/data/worktrees/demo-1", "baseCommit": "188dec80024ebccaa1f166a7adb27eecf76c75d4",
       "plan": {"version": 2, "allowedPaths": ["**"]}, "createdBy": "admin",
       "createdAt": "2026-11-19T12:08:21.070281588Z", "updatedAt": "2026-11-21T13:59:30Z",
       "statusReason": "Which endpoint?",
       "openQuestions": [{"id": "q-1", "text": "Which endpoint?", "askedAt": "2026-11-21T13:59:30Z"}],
       "proposal": {"description": "Fix the redirect", "checkpoint": 3, "proposedBy": "agent", "at": "2026-11-21T12:00:00Z"},
       "notYetKnown": true}""";

  @TempDir Path cwd;

  @Test
  void featuresListsWithAnOptionalStatusFilter() throws Exception {
    ApiCommand all = FeatureCommands.features(new String[0], ENV, cwd).orElseThrow();
    assertEquals("GET", all.method());
    assertEquals("/api/v1/features", all.path());
    assertEquals("viewer", all.role());
    for (FeatureStatus status : FeatureStatus.values()) {
      assertEquals("/api/v1/features?status=" + status.label(),
          FeatureCommands.features(new String[] {"--status", status.label()}, ENV, cwd).orElseThrow().path());
      assertTrue(FeatureCommands.FEATURES_USAGE.contains(status.label()), status.label());
    }
    assertEquals("--status 'live' is not one of registered, queued, active, paused, awaiting_input, needs_attention,"
        + " proposed, applied, failed, rejected, abandoned", error("features", "--status", "live"));
    assertEquals("unexpected argument 'demo-1' (to see one: warden status ID)", error("features", "demo-1"));
  }

  @Test
  void statusReadsAFeatureOrAnApproval() throws Exception {
    ApiCommand feature = status("demo-1", "--json");
    assertEquals("/api/v1/features/demo-1", feature.path());
    assertTrue(feature.json());
    ApiCommand approval = status("--token=t", "demo-1.4");
    assertEquals("/api/v1/approvals/demo-1.4", approval.path());
    assertEquals("viewer", approval.role());
    assertEquals("--token", approval.warden().tokenSource());

    assertEquals("ID is required", error("status"));
    assertEquals("one ID only, not also 'b'", error("status", "a", "b"));
    assertEquals("'Demo' is neither a feature id (such as login-fix) nor an approval id (such as login-fix.1)",
        error("status", "Demo"));
    assertEquals("'../etc' is neither a feature id (such as login-fix) nor an approval id (such as login-fix.1)",
        error("status", "../etc"));
    assertEquals("unknown option '-x'", error("status", "-x", "demo-1"));
  }

  @Test
  void theListIsATable() throws Exception {
    String answer = "{\"count\": 2, \"features\": [" + FEATURE + ", {\"id\": \"b\", \"status\": \"active\"}]}";
    assertEquals("""
        ID      STATUS          TARGET  UPDATED  REPO       REASON
        demo-1  awaiting_input  main    30s      /tmp/demo  Which endpoint?
        b       active          -       -        -          -
        """, FeatureCommands.table(json(answer), NOW));
    assertEquals("no features\n", FeatureCommands.table(json("{\"features\": [], \"count\": 0}"), NOW));
  }

  @Test
  void oneFeatureIsASummary() throws Exception {
    assertEquals("""
        feature demo-1: awaiting_input
          reason:       Which endpoint?
          repo:         /tmp/demo
          target:       main (base 188dec80024e)
          branch:       warden/demo-1
          worktree:     /srv/warden/data/worktrees/demo-1
          plan:         version 2
          created:      2026-11-19T12:08:21Z by admin (2d ago)
          updated:      2026-11-21T13:59:30Z (30s ago)
          questions:    q-1 (2026-11-21T13:59:30Z): Which endpoint?
          proposal:     at checkpoint 3 by agent, 2026-11-21T12:00:00Z (2h ago): Fix the redirect
        """, FeatureCommands.summary(json(FEATURE), NOW));
    assertEquals("""
        feature x: -
          proposal:     Only a description
        """, FeatureCommands.summary(json("{\"id\": \"x\", \"proposal\": {\"description\": \"Only a description\"}}"), NOW));
  }

  @Test
  void timesReadAsPeopleReadThem() throws Exception {
    assertEquals("0s", Answer.span(java.time.Duration.ofSeconds(-5)));
    assertEquals("59s", Answer.span(java.time.Duration.ofSeconds(59)));
    assertEquals("1m", Answer.span(java.time.Duration.ofSeconds(60)));
    assertEquals("47h", Answer.span(java.time.Duration.ofHours(47)));
    assertEquals("2d", Answer.span(java.time.Duration.ofHours(48)));
    assertEquals("in 5m", Answer.relative(NOW.plusSeconds(300), NOW));
    assertEquals("5m ago", Answer.relative(NOW.minusSeconds(300), NOW));
    assertEquals("2026-11-21T15:00:00Z (in 1h)",
        Answer.when(json("{\"t\": \"2026-11-21T16:00:00+01:00\"}"), "t", NOW).orElseThrow(), "offsets are read");
    assertEquals("yesterday", Answer.when(json("{\"t\": \"yesterday\"}"), "t", NOW).orElseThrow(), "shown as written");
    assertEquals(Instant.parse("2026-11-21T14:00:00Z"), Answer.instant(json("{\"t\": \"2026-11-21T14:00:00Z\"}"), "t").orElseThrow());
  }

  private ApiCommand status(String... args) throws UsageError {
    return FeatureCommands.status(args, ENV, cwd).orElseThrow();
  }

  private String error(String command, String... args) {
    ApiCommand.Parser parser = command.equals("status") ? FeatureCommands::status : FeatureCommands::features;
    return assertThrows(UsageError.class, () -> parser.parse(args, ENV, cwd)).getMessage();
  }

}
