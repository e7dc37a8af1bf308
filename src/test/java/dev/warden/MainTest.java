package dev.warden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/warden} as a user types it: one parser, generated help, the exit codes of before. */
class MainTest {

  @TempDir Path cwd;

  record Run(int exit, String out, String err) {}

  private Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = Main.run(new Cli.Context(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), cwd), args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsEveryCommand() {
    Run help = run("help");
    assertEquals(0, help.exit());
    for (String command : List.of("serve", "agent", "features", "status", "approvals", "approve", "reject", "bench", "version")) {
      assertTrue(help.out().contains("\n  " + command + " "), command + " in:\n" + help.out());
    }
    assertEquals(help.out(), run("--help").out(), "--help is help");
  }

  @Test
  void everyCommandHasAGeneratedHelpOnStandardOutput() {
    for (String command : List.of("serve", "agent", "features", "status", "approvals", "approve", "reject", "bench")) {
      Run help = run(command, "--help");
      assertEquals(0, help.exit(), command);
      assertTrue(help.out().startsWith("usage: warden " + command), help.out());
      assertEquals(help.out(), run("help", command).out(), "help " + command);
    }
    Run bench = run("bench", "checkpoint", "--help");
    assertEquals(0, bench.exit());
    assertTrue(bench.out().contains("--files=N") && bench.out().contains("(default: 10000)"), bench.out());
  }

  @Test
  void badArgumentsExit2NamingThem() {
    Run unknown = run("frobnicate");
    assertEquals(2, unknown.exit());
    assertTrue(unknown.err().startsWith("warden: unknown command 'frobnicate'\nusage: warden"), unknown.err());

    Run serve = run("serve", "--port", "1");
    assertEquals(2, serve.exit());
    assertTrue(serve.err().startsWith("warden serve: unknown option '--port'\nusage: warden serve"), serve.err());
    assertEquals("warden serve: --config needs a value", run("serve", "--config").err().lines().findFirst().orElseThrow());

    Run noBench = run("bench");
    assertEquals(2, noBench.exit());
    assertTrue(noBench.err().startsWith("warden bench: name a bench: checkpoint, validate or feed"), noBench.err());
    assertEquals(2, run("bench", "nope").exit());
    Run small = run("bench", "checkpoint", "--files", "10");
    assertEquals(2, small.exit());
    assertTrue(small.err().startsWith("warden bench checkpoint: need --files >= 100"), small.err());
    Run notANumber = run("bench", "feed", "--rate", "fast");
    assertEquals(2, notANumber.exit());
    assertTrue(notANumber.err().contains("--rate"), notANumber.err());

    Run agent = run("agent", "--frobnicate", "--", "true");
    assertEquals(2, agent.exit());
    assertTrue(agent.err().startsWith("warden agent: unknown option '--frobnicate' (the command goes after --)"), agent.err());

    Run approve = run("approve", "login-fix.1", "--bypass");
    assertEquals(2, approve.exit());
    assertTrue(approve.err().startsWith("warden approve: --bypass needs --reason TEXT"), approve.err());
    assertEquals("", approve.out());
  }

  @Test
  void versionPrintsTheVersion() {
    Run version = run("version");
    assertEquals(0, version.exit());
    assertTrue(version.out().startsWith("warden "), version.out());
    assertEquals(version.out(), run("--version").out());
  }
}
