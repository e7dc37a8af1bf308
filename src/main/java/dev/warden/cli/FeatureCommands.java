package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.Cli.UsageError;
import dev.warden.feature.FeatureId;
import dev.warden.feature.FeatureStatus;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden features} and {@code warden status ID}: the features, or one feature or approval, from
 * a terminal. Read-only thin clients of the API; a viewer token is enough.
 */
public final class FeatureCommands {

  /** The values of {@code GET /api/v1/features?status=}. */
  static final List<String> STATUSES = Arrays.stream(FeatureStatus.values()).map(FeatureStatus::label).toList();

  private FeatureCommands() {}

  /** {@code warden features}. */
  @Command(name = "features", description = "List the features; a viewer token is enough.", footer = ApiCommand.EXIT_STATUS)
  public static final class Features extends ApiCommand.ListCommand {
    Features(Cli.Context context) {
      super(context, "features", STATUSES, "/api/v1/features", FeatureCommands::table);
    }
  }

  /** {@code warden status ID}. */
  @Command(name = "status", description = "Show one feature, or one approval; a viewer token is enough.",
      footer = ApiCommand.EXIT_STATUS)
  public static final class Status extends ApiCommand.Client {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ID",
        description = "a feature, such as login-fix, or an approval, such as login-fix.1")
    String given;

    @Parameters(index = "1..*", hidden = true)
    List<String> more = new ArrayList<>();

    Status(Cli.Context context) {
      super(context);
    }

    @Override
    public ApiCommand request() throws UsageError {
      String id = ApiCommand.single(ApiCommand.operands(given, more), "ID");
      if (ApprovalCommands.isApprovalId(id)) {
        return get("/api/v1/approvals/" + id, "viewer", ApprovalCommands::summary);
      }
      if (FeatureId.isValid(id)) {
        return get("/api/v1/features/" + id, "viewer", FeatureCommands::summary);
      }
      throw new UsageError("'" + id + "' is neither a feature id (such as login-fix) nor an approval id (such as login-fix.1)");
    }
  }

  static final String FEATURES_USAGE = Cli.usage(Cli.command(new Features(Cli.Context.system())));
  static final String STATUS_USAGE = Cli.usage(Cli.command(new Status(Cli.Context.system())));

  /** Runs {@code args[0]} ({@code features} or {@code status}) with the rest; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env, Path cwd) {
    Cli.Context context = new Cli.Context(out, err, env, cwd);
    return Cli.execute(Cli.standalone(context, new Features(context), new Status(context)), args);
  }

  // ---- arguments

  static Optional<ApiCommand> features(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.parse(new Features(new Cli.Context(System.out, System.err, env, cwd)), args);
  }

  static Optional<ApiCommand> status(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.parse(new Status(new Cli.Context(System.out, System.err, env, cwd)), args);
  }

  // ---- output

  /** {@code GET /api/v1/features}: one row per feature, in Warden's order. */
  static String table(JsonNode answer, Instant now) {
    List<JsonNode> features = Answer.elements(answer, "features");
    if (features.isEmpty()) {
      return "no features\n";
    }
    Layout.Table table = new Layout.Table("ID", "STATUS", "TARGET", "UPDATED", "REPO", "REASON");
    for (JsonNode feature : features) {
      table.row(Answer.cell(feature, "id"), Answer.cell(feature, "status"), Answer.cell(feature, "target"),
          Answer.age(feature, "updatedAt", now), Answer.cell(feature, "repo"),
          Answer.abbreviate(Answer.cell(feature, "statusReason"), 60));
    }
    return table.toString();
  }

  /** One feature, as {@code GET /api/v1/features/{id}} answers. */
  static String summary(JsonNode feature, Instant now) {
    Layout.Summary summary = new Layout.Summary("feature " + Answer.cell(feature, "id") + ": " + Answer.cell(feature, "status"))
        .line("reason", Answer.field(feature, "statusReason"))
        .line("repo", Answer.field(feature, "repo"))
        .line("target", Answer.field(feature, "target")
            .map(target -> target + Answer.field(feature, "baseCommit").map(base -> " (base " + Answer.shortSha(base) + ")").orElse("")))
        .line("branch", Answer.field(feature, "branch"))
        .line("worktree", Answer.field(feature, "worktree"))
        .line("plan", Answer.field(feature, "plan", "version").map(version -> "version " + version))
        .line("created", Answer.when(feature, "createdAt", Answer.field(feature, "createdBy").map(by -> " by " + by).orElse(""), now))
        .line("updated", Answer.when(feature, "updatedAt", now))
        .lines("questions", Answer.elements(feature, "openQuestions").stream().map(FeatureCommands::question).toList());
    Answer.object(feature, "proposal").ifPresent(proposal -> summary.line("proposal", proposal(proposal, now)));
    return summary.toString();
  }

  /** {@code q-1 (2026-11-21T12:00:00Z): Which endpoint?}. */
  private static String question(JsonNode question) {
    return Answer.cell(question, "id") + Answer.stamp(question, "askedAt").map(at -> " (" + at + ")").orElse("")
        + ": " + Answer.cell(question, "text");
  }

  /** {@code at checkpoint 3 by agent, 2026-11-21T12:00:00Z (2h ago): Fix the redirect}. */
  private static String proposal(JsonNode proposal, Instant now) {
    List<String> parts = new ArrayList<>();
    Answer.field(proposal, "checkpoint").ifPresent(seq -> parts.add("at checkpoint " + seq));
    Answer.field(proposal, "proposedBy").ifPresent(by -> parts.add("by " + by));
    String made = String.join(" ", parts) + Answer.when(proposal, "at", now).map(at -> (parts.isEmpty() ? "" : ", ") + at).orElse("");
    return made + Answer.field(proposal, "description").map(d -> (made.isEmpty() ? "" : ": ") + d).orElse("");
  }
}
