package dev.warden.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigValueFactory;
import dev.warden.cli.ApprovalCommands;
import dev.warden.cli.FeatureCommands;
import dev.warden.testing.RunningDaemon;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Proposals and approvals on the default embedded H2 database, and the command line against them. */
class ApprovalFlowH2IT extends ApprovalFlowContract {

  @Override
  protected String[] freshDatabase() {
    return new String[] {"", "", ""};
  }

  /** What one command printed and how it exited. */
  private record Run(int exit, String out, String err) {}

  private static Run cli(RunningDaemon daemon, String token, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = Map.of("WARDEN_URL", "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort(), "WARDEN_TOKEN", token);
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    int exit = args[0].equals("features") || args[0].equals("status")
        ? FeatureCommands.run(args, o, e, env, Path.of("/nonexistent"))
        : ApprovalCommands.run(args, o, e, env, Path.of("/nonexistent"));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theCommandLineListsApprovesAndRejectsProposals() throws Exception {
    Path repo = repository(tmp.resolve("repos/app"));
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, POLICY);
    try (RunningDaemon daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "",
            List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()))).awaitReady()) {
      Path worktree = Path.of(create(daemon, repo, "cli-demo", null));
      Files.createDirectories(worktree.resolve("secure"));
      Files.writeString(worktree.resolve("secure/k.txt"), "k\n");
      assertEquals(201, propose(daemon, "cli-demo", "Rotate keys").status());

      await("the queue showing it", 5_000, () -> cli(daemon, RunningDaemon.VIEWER, "approvals").out().contains("cli-demo.1"));
      Run list = cli(daemon, RunningDaemon.VIEWER, "approvals", "--status", "proposed");
      assertEquals(0, list.exit(), list.err());
      assertTrue(list.out().contains("cli-demo.1") && list.out().contains("high") && list.out().contains("0/2"), list.out());

      Run refused = cli(daemon, RunningDaemon.VIEWER, "approve", "cli-demo.1");
      assertEquals(3, refused.exit(), refused.err());
      assertTrue(refused.err().contains("403"), refused.err());

      Run approved = cli(daemon, RunningDaemon.APPROVER, "approve", "cli-demo.1", "--reason", "checked the rotation");
      assertEquals(0, approved.exit(), approved.err());
      assertTrue(approved.out().contains("approvals 1/2"), approved.out());
      assertTrue(approved.out().contains("checked the rotation"), approved.out());

      Run noReason = cli(daemon, RunningDaemon.APPROVER, "reject", "cli-demo.1");
      assertEquals(2, noReason.exit(), noReason.err());
      Run rejected = cli(daemon, RunningDaemon.APPROVER, "reject", "cli-demo.1", "--reason", "wrong keys");
      assertEquals(0, rejected.exit(), rejected.err());
      assertTrue(rejected.out().startsWith("approval cli-demo.1: rejected"), rejected.out());
      Run again = cli(daemon, RunningDaemon.APPROVER, "approve", "cli-demo.1");
      assertEquals(3, again.exit());
      assertTrue(again.err().contains("409") && again.err().contains("rejected"), again.err());

      await("the feature rejected", 10_000, () -> cli(daemon, RunningDaemon.VIEWER, "status", "cli-demo").out()
          .startsWith("feature cli-demo: rejected"));
    }
  }
}
