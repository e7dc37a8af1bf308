package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.cli.Arguments.UsageError;
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

/**
 * {@code warden features} and {@code warden status ID}: the features, or one feature or approval, from
 * a terminal. Read-only thin clients of the API; a viewer token is enough.
 */
public final class FeatureCommands {

  /** The values of {@code GET /api/v1/features?status=}. */
  static final List<String> STATUSES = Arrays.stream(FeatureStatus.values()).map(FeatureStatus::label).toList();

  static final String FEATURES_USAGE = """
      usage: warden features [--status S] [--json] [--server URL] [--token TOKEN]
        --status S      only the features in status S: %s
      """.formatted(wrap(STATUSES, 50)) + ApiCommand.help("viewer");

  static final String STATUS_USAGE = """
      usage: warden status ID [--json] [--server URL] [--token TOKEN]
        ID              a feature, such as login-fix, or an approval, such as login-fix.1
      """ + ApiCommand.help("viewer");

  private FeatureCommands() {}

  public static int run(String[] args) {
    return run(args, System.out, System.err, System.getenv(), Path.of("").toAbsolutePath());
  }

  /** Runs {@code args[0]} ({@code features} or {@code status}) with the rest; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env, Path cwd) {
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    return switch (args[0]) {
      case "features" -> ApiCommand.run("features", FEATURES_USAGE, FeatureCommands::features, rest, out, err, env, cwd);
      case "status" -> ApiCommand.run("status", STATUS_USAGE, FeatureCommands::status, rest, out, err, env, cwd);
      default -> throw new IllegalArgumentException("not a feature command: " + args[0]);
    };
  }

  // ---- arguments

  static Optional<ApiCommand> features(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.list(args, STATUSES, "/api/v1/features", FeatureCommands::table, env, cwd);
  }

  static Optional<ApiCommand> status(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    ApiCommand.Common common = new ApiCommand.Common();
    Arguments arguments = new Arguments(args);
    List<String> operands = new ArrayList<>();
    while (arguments.hasNext()) {
      String arg = arguments.next();
      if (!common.accept(arguments)) {
        operands.add(arg);
      }
    }
    if (common.help()) {
      return Optional.empty();
    }
    String id = ApiCommand.single(operands, "ID");
    if (ApprovalCommands.isApprovalId(id)) {
      return Optional.of(common.get("/api/v1/approvals/" + id, "viewer", ApprovalCommands::summary, env, cwd));
    }
    if (FeatureId.isValid(id)) {
      return Optional.of(common.get("/api/v1/features/" + id, "viewer", FeatureCommands::summary, env, cwd));
    }
    throw new UsageError("'" + id + "' is neither a feature id (such as login-fix) nor an approval id (such as login-fix.1)");
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

  /** {@code a, b or c} in lines of at most 96 characters, the first starting at {@code column}, the others at 18. */
  static String wrap(List<String> words, int column) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < words.size(); i++) {
      String word = words.get(i) + (i == words.size() - 1 ? "" : i == words.size() - 2 ? " or" : ",");
      if (i > 0 && column + 1 + word.length() > 96) {
        text.append('\n').append(" ".repeat(18));
        column = 18;
      } else if (i > 0) {
        text.append(' ');
        column++;
      }
      text.append(word);
      column += word.length();
    }
    return text.toString();
  }
}
