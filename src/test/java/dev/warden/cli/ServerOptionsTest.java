package dev.warden.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.cli.Cli.UsageError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerOptionsTest {

  @TempDir Path cwd;

  @Test
  void theCommandLineWinsOverTheEnvironmentWhichWinsOverTheDefaults() throws Exception {
    Files.createDirectories(cwd.resolve("data"));
    Files.writeString(cwd.resolve("data/admin.token"), "  from-file\n");
    Map<String, String> env = Map.of("WARDEN_URL", "https://warden.example.org:9000/", "WARDEN_TOKEN", "from-env\n");

    ServerOptions given = resolve(env, "--server", "http://10.0.0.1:8420", "--token=from-flag");
    assertEquals("http://10.0.0.1:8420", given.server().toString());
    assertEquals("from-flag", given.token());
    assertEquals("--token", given.tokenSource());

    ServerOptions fromEnv = resolve(env);
    assertEquals("https://warden.example.org:9000", fromEnv.server().toString(), "a trailing slash is dropped");
    assertEquals("from-env", fromEnv.token());
    assertEquals("WARDEN_TOKEN", fromEnv.tokenSource());

    ServerOptions defaults = resolve(Map.of("WARDEN_TOKEN", " "));
    assertEquals(ServerOptions.DEFAULT_SERVER, defaults.server().toString());
    assertEquals("from-file", defaults.token());
    assertEquals(cwd.resolve("data/admin.token").toString(), defaults.tokenSource());
    assertFalse(defaults.toString().contains("from-file"), "never the token: " + defaults);
  }

  @Test
  void withoutWardenUrlTheClientsFollowWardenHttpPortLikeTheDaemon() throws Exception {
    assertEquals("http://127.0.0.1:8431", resolve(Map.of("WARDEN_HTTP_PORT", "8431"), "--token", "t").server().toString(),
        "a second daemon started with only WARDEN_HTTP_PORT changed is found with the same variable");
    assertEquals("https://warden.example.org", resolve(Map.of("WARDEN_HTTP_PORT", "8431", "WARDEN_URL", "https://warden.example.org"),
        "--token", "t").server().toString(), "WARDEN_URL wins");
    assertEquals("http://10.0.0.1:1", resolve(Map.of("WARDEN_HTTP_PORT", "8431"), "--server", "http://10.0.0.1:1", "--token", "t")
        .server().toString());
    assertEquals(ServerOptions.DEFAULT_SERVER, resolve(Map.of("WARDEN_HTTP_PORT", " "), "--token", "t").server().toString());
    assertEquals("WARDEN_HTTP_PORT 'x1' is not a port number (or set WARDEN_URL, or pass --server URL)",
        error(Map.of("WARDEN_HTTP_PORT", "x1"), "--token", "t"));
  }

  @Test
  void badServersAndMissingTokensAreUsageErrorsNamingTheirOrigin() throws Exception {
    assertEquals("--server 'ftp://example.org' must be an http:// or https:// URL such as http://127.0.0.1:8420",
        error(Map.of(), "--server", "ftp://example.org", "--token", "t"));
    assertTrue(error(Map.of("WARDEN_URL", "http://exa mple"), "--token", "t").startsWith("WARDEN_URL 'http://exa mple' is not a URL"));
    assertTrue(error(Map.of("WARDEN_URL", "http://h/?q=1"), "--token", "t").startsWith("WARDEN_URL"));
    assertEquals("no token: pass --token, set WARDEN_TOKEN, or run where data/admin.token is", error(Map.of()));
    assertEquals("--token needs a value", error(Map.of(), "--token="));
    assertEquals("--server needs a value", error(Map.of(), "--server"));

    Files.createDirectories(cwd.resolve("data"));
    Files.writeString(cwd.resolve("data/admin.token"), "\n");
    assertEquals(cwd.resolve("data/admin.token") + " is empty", error(Map.of()));
  }

  @Test
  void argumentsTakeValuesAfterAnEqualsSignOrAsTheNextArgument() throws Exception {
    Map<String, String> env = Map.of("WARDEN_TOKEN", "t");
    assertEquals("{\"reason\":\"--bypass\"}", approve(env, "a.1", "--reason", "--bypass").body().orElseThrow(),
        "the next argument, whatever it looks like");
    assertEquals("{\"reason\":\"a b\"}", approve(env, "--reason=a b", "a.1").body().orElseThrow());
    assertEquals("{\"reason\":\"second\"}", approve(env, "a.1", "--reason", "first", "--reason=second").body().orElseThrow(),
        "the last one given wins");

    // the agent's command: everything from -- or from its first argument that is not an option, as it is
    AgentCommand.Options afterDashes = agent("--feature", "f", "--token", "t", "--", "--weird", "-h", "--", "x");
    assertEquals(List.of("--weird", "-h", "--", "x"), afterDashes.command());
    AgentCommand.Options fromFirst = agent("--feature", "f", "--token", "t", "sh", "-c", "true", "--title", "x");
    assertEquals(List.of("sh", "-c", "true", "--title", "x"), fromFirst.command());
    assertEquals(Optional.empty(), fromFirst.title());
  }

  @Test
  void theHelpNamesTheRole() {
    assertTrue(ApprovalCommands.APPROVE_USAGE.contains("An approver token"), ApprovalCommands.APPROVE_USAGE);
    assertTrue(ApprovalCommands.REJECT_USAGE.contains("An approver token"), ApprovalCommands.REJECT_USAGE);
    assertTrue(FeatureCommands.FEATURES_USAGE.contains("a viewer token"), FeatureCommands.FEATURES_USAGE);
    assertTrue(ApprovalCommands.APPROVE_USAGE.contains("--token=TOKEN"), ApprovalCommands.APPROVE_USAGE);
  }

  private ServerOptions resolve(Map<String, String> env, String... args) throws UsageError {
    ServerOptions.Given given = new ServerOptions.Given();
    CommandLine commandLine = new CommandLine(given).setAllowOptionsAsOptionParameters(true);
    try {
      commandLine.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageError(Cli.message(e));
    }
    return given.resolve(env, cwd);
  }

  private ApiCommand approve(Map<String, String> env, String... args) throws UsageError {
    return ApprovalCommands.approve(args, env, cwd).orElseThrow();
  }

  private AgentCommand.Options agent(String... args) throws UsageError {
    AgentArguments arguments = new AgentArguments(new Cli.Context(System.out, System.err, Map.of(), cwd));
    Cli.parse(arguments, args);
    return arguments.options();
  }

  private String error(Map<String, String> env, String... args) {
    return assertThrows(UsageError.class, () -> resolve(env, args)).getMessage();
  }
}
