package dev.warden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.cli.Cli.UsageError;
import dev.warden.feature.FeatureId;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden approvals}, {@code warden approve ID} and {@code warden reject ID}: the approvals API
 * ({@code /api/v1/approvals}) from a terminal. Thin clients, one request each: Warden decides whether
 * a decision counts, and its refusal is printed as it gives it.
 */
public final class ApprovalCommands {

  /** The values of {@code GET /api/v1/approvals?status=}. */
  static final List<String> STATUSES =
      java.util.Arrays.stream(dev.warden.apply.ProposalStatus.values()).map(dev.warden.apply.ProposalStatus::label).toList();

  /** How often {@code approve} asks how its approval is doing, and for how long at most. */
  static final java.time.Duration POLL = java.time.Duration.ofSeconds(1);
  static final java.time.Duration WAIT_LIMIT = java.time.Duration.ofMinutes(15);

  /** How many paths, violations or lines of an apply error a summary shows; {@code --json} has them all. */
  static final int SHOWN = 10;

  private static final ObjectMapper JSON = new ObjectMapper();

  private ApprovalCommands() {}

  /** {@code warden approvals}. */
  @Command(name = "approvals", description = "List the approvals; a viewer token is enough.", footer = ApiCommand.EXIT_STATUS)
  public static final class Approvals extends ApiCommand.ListCommand {
    Approvals(Cli.Context context) {
      super(context, "approvals", STATUSES, "/api/v1/approvals", ApprovalCommands::table);
    }
  }

  /** {@code warden approve ID} and {@code warden reject ID}: one decision on one approval. */
  abstract static class Decision extends ApiCommand.Client {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "the approval, such as login-fix.1 (see warden approvals)")
    String id;

    @Parameters(index = "1..*", hidden = true)
    List<String> more = new ArrayList<>();

    Decision(Cli.Context context) {
      super(context);
    }

    abstract boolean reject();

    abstract String reason();

    boolean bypass() {
      return false;
    }

    boolean noWait() {
      return false;
    }

    @Override
    public ApiCommand request() throws UsageError {
      return decide(this, ApiCommand.operands(id, more), Cli.given("--reason", reason()), bypass(), noWait(), reject());
    }
  }

  /** {@code warden approve ID}. */
  @Command(name = "approve", description = "Approve one approval; by default wait until it lands. An approver token.",
      footer = ApiCommand.EXIT_STATUS)
  public static final class Approve extends Decision {
    @Option(names = "--reason", paramLabel = "TEXT", description = "why; recorded with the decision (required with --bypass)")
    String reason;

    @Option(names = "--bypass", description = "approve it now whatever its tier asks for (an admin token only)")
    boolean bypass;

    @Option(names = "--no-wait", description = "return once the approval is recorded; by default, once it is approved, wait"
        + " until it lands or a note says why it waits (exit 1 when landing failed)")
    boolean noWait;

    Approve(Cli.Context context) {
      super(context);
    }

    @Override
    boolean reject() {
      return false;
    }

    @Override
    String reason() {
      return reason;
    }

    @Override
    boolean bypass() {
      return bypass;
    }

    @Override
    boolean noWait() {
      return noWait;
    }
  }

  /** {@code warden reject ID --reason TEXT}. */
  @Command(name = "reject", description = "Reject one approval. An approver token.", footer = ApiCommand.EXIT_STATUS)
  public static final class Reject extends Decision {
    @Option(names = "--reason", paramLabel = "TEXT", description = "why (required); recorded with the decision")
    String reason;

    Reject(Cli.Context context) {
      super(context);
    }

    @Override
    boolean reject() {
      return true;
    }

    @Override
    String reason() {
      return reason;
    }
  }

  static final String APPROVALS_USAGE = Cli.usage(Cli.command(new Approvals(Cli.Context.system())));
  static final String APPROVE_USAGE = Cli.usage(Cli.command(new Approve(Cli.Context.system())));
  static final String REJECT_USAGE = Cli.usage(Cli.command(new Reject(Cli.Context.system())));

  /** Runs {@code args[0]} ({@code approvals}, {@code approve} or {@code reject}) with the rest; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env, Path cwd) {
    Cli.Context context = new Cli.Context(out, err, env, cwd);
    return Cli.execute(Cli.standalone(context, new Approvals(context), new Approve(context), new Reject(context)), args);
  }

  // ---- arguments

  static Optional<ApiCommand> approvals(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.parse(new Approvals(new Cli.Context(System.out, System.err, env, cwd)), args);
  }

  static Optional<ApiCommand> approve(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.parse(new Approve(new Cli.Context(System.out, System.err, env, cwd)), args);
  }

  static Optional<ApiCommand> reject(String[] args, Map<String, String> env, Path cwd) throws UsageError {
    return ApiCommand.parse(new Reject(new Cli.Context(System.out, System.err, env, cwd)), args);
  }

  private static ApiCommand decide(ApiCommand.Client client, List<String> operands, String reason,
      boolean bypass, boolean noWait, boolean reject) throws UsageError {
    String id = approvalId(ApiCommand.single(operands, "ID"));
    if (reject && reason == null) {
      throw new UsageError("--reason TEXT is required: say why it is rejected");
    }
    if (bypass && reason == null) {
      throw new UsageError("--bypass needs --reason TEXT: a bypass is always explained");
    }
    ObjectNode body = JSON.createObjectNode();
    if (reason != null) {
      body.put("reason", reason);
    }
    if (bypass) {
      body.put("bypass", true);
    }
    String path = "/api/v1/approvals/" + id + (reject ? "/reject" : "/approve");
    ApiCommand command = client.post(path, body.toString(), bypass ? "admin" : "approver", ApprovalCommands::summary);
    return reject || noWait ? command : command.following(new ApiCommand.Follow("/api/v1/approvals/" + id,
        ApprovalCommands::landing, approval -> id + " is approved; waiting until it lands on "
            + Answer.field(approval, "target").orElse("its target") + " (Ctrl-C stops waiting, not the landing)",
        approval -> Answer.field(approval, "status").filter("failed"::equals).isPresent(), POLL, WAIT_LIMIT));
  }

  /** Approved, not landed yet, and no note saying why it waits: worth waiting for. */
  static boolean landing(JsonNode approval) {
    return Answer.field(approval, "status").filter("approved"::equals).isPresent() && Answer.field(approval, "note").isEmpty();
  }

  /** An approval id is its feature's id, a dot and a number: {@code login-fix.1}. */
  static boolean isApprovalId(String id) {
    int dot = id.lastIndexOf('.');
    return dot > 0 && FeatureId.isValid(id.substring(0, dot)) && id.substring(dot + 1).matches("[0-9]{1,18}");
  }

  private static String approvalId(String id) throws UsageError {
    if (!isApprovalId(id)) {
      throw new UsageError("'" + id + "' is not an approval id (a feature id, a dot and a number, such as login-fix.1)");
    }
    return id;
  }

  // ---- output

  /** {@code GET /api/v1/approvals}: one row per approval, in Warden's order. */
  static String table(JsonNode answer, Instant now) {
    List<JsonNode> approvals = Answer.elements(answer, "approvals");
    if (approvals.isEmpty()) {
      return "no approvals\n";
    }
    Layout.Table table = new Layout.Table("ID", "FEATURE", "STATUS", "TIER", "APPROVALS", "AGE", "REVIEW ENDS", "DESCRIPTION", "NOTE");
    for (JsonNode approval : approvals) {
      table.row(Answer.cell(approval, "id"), Answer.cell(approval, "feature"), Answer.cell(approval, "status"),
          Answer.cell(approval, "tier"), count(approval).orElse("-"), Answer.age(approval, "proposedAt", now),
          Answer.instant(approval, "reviewEndsAt").map(at -> Answer.relative(at, now)).orElse("-"),
          Answer.abbreviate(Answer.cell(approval, "description"), 60), Answer.abbreviate(Answer.cell(approval, "note"), 60));
    }
    return table.toString();
  }

  /** One approval, as {@code GET /api/v1/approvals/{id}}, {@code approve} and {@code reject} answer. */
  static String summary(JsonNode approval, Instant now) {
    List<String> standing = new ArrayList<>();
    Answer.field(approval, "tier").ifPresent(tier -> standing.add("tier " + tier));
    count(approval).ifPresent(count -> standing.add("approvals " + count));
    String heading = "approval " + Answer.cell(approval, "id") + ": " + Answer.cell(approval, "status")
        + (standing.isEmpty() ? "" : " (" + String.join(", ", standing) + ")");
    Layout.Summary summary = new Layout.Summary(heading)
        .line("note", Answer.field(approval, "note"))
        .line("feature", Answer.field(approval, "feature")
            .map(feature -> feature + Answer.field(approval, "target").map(target -> " into " + target).orElse("")))
        .line("description", Answer.field(approval, "description"))
        .line("checkpoint", Answer.field(approval, "checkpoint", "seq")
            .map(seq -> seq + Answer.field(approval, "checkpoint", "commit").map(c -> " (" + Answer.shortSha(c) + ")").orElse("")))
        .line("changes", Answer.object(approval, "changes").flatMap(ApprovalCommands::changes))
        .line("validation", Answer.object(approval, "validation").map(ApprovalCommands::validation))
        .line("proposed", Answer.when(approval, "proposedAt", Answer.field(approval, "proposedBy").map(by -> " by " + by).orElse(""), now))
        .line("review ends", Answer.when(approval, "reviewEndsAt", now))
        .line("expires", Answer.when(approval, "expiresAt", now))
        .lines("decisions", Answer.elements(approval, "decisions").stream().map(ApprovalCommands::decision).toList());
    Answer.object(approval, "apply").ifPresent(apply -> apply(summary, apply, Answer.field(approval, "target")));
    return summary.toString();
  }

  private static Optional<String> count(JsonNode approval) {
    return Answer.field(approval, "approvals", "received")
        .flatMap(received -> Answer.field(approval, "approvals", "required").map(required -> received + "/" + required));
  }

  private static Optional<String> changes(JsonNode changes) {
    List<String> counts = new ArrayList<>();
    Answer.field(changes, "files").ifPresent(n -> counts.add(n + (n.equals("1") ? " file" : " files")));
    Answer.field(changes, "linesAdded").ifPresent(n -> counts.add("+" + n));
    Answer.field(changes, "linesDeleted").ifPresent(n -> counts.add("-" + n));
    List<String> lines = new ArrayList<>();
    if (!counts.isEmpty()) {
      lines.add(String.join(" ", counts));
    }
    lines.addAll(atMost(Answer.strings(changes, "paths")));
    return lines.isEmpty() ? Optional.empty() : Optional.of(String.join("\n", lines));
  }

  private static String validation(JsonNode validation) {
    List<String> lines = new ArrayList<>();
    lines.add(Answer.cell(validation, "status"));
    lines.addAll(atMost(Answer.elements(validation, "violations").stream().map(ApprovalCommands::violation).toList()));
    return String.join("\n", lines);
  }

  /** {@code error outside-allowed outside.txt: 'outside.txt' is added but ...}; as Warden wrote it when it is not an object. */
  private static String violation(JsonNode violation) {
    if (!violation.isObject()) {
      return oneLine(violation);
    }
    List<String> where = new ArrayList<>();
    for (String field : List.of("severity", "rule", "path")) {
      Answer.field(violation, field).ifPresent(where::add);
    }
    Optional<String> message = Answer.field(violation, "message");
    if (where.isEmpty()) {
      return message.orElseGet(() -> oneLine(violation));
    }
    return String.join(" ", where) + message.map(m -> ": " + m).orElse("");
  }

  /** {@code approve by alice at 2026-11-21T13:00:00Z: looks fine}. */
  private static String decision(JsonNode decision) {
    return Answer.cell(decision, "decision")
        + Answer.field(decision, "by").map(by -> " by " + by).orElse("")
        + Answer.stamp(decision, "at").map(at -> " at " + at).orElse("")
        + Answer.field(decision, "reason").map(reason -> ": " + reason).orElse("");
  }

  private static void apply(Layout.Summary summary, JsonNode apply, Optional<String> target) {
    List<String> parts = new ArrayList<>();
    Answer.field(apply, "targetBefore").ifPresent(before -> parts.add("onto " + target.orElse("the target") + " at "
        + Answer.shortSha(before)));
    Answer.field(apply, "commit").ifPresent(commit -> parts.add("commit " + Answer.shortSha(commit)));
    Answer.field(apply, "attempts").ifPresent(n -> parts.add(n + (n.equals("1") ? " attempt" : " attempts")));
    summary.line("apply", parts.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", parts)))
        .lines("tests", atMost(Answer.elements(apply, "tests").stream().map(ApprovalCommands::oneLine).toList()))
        .line("apply error", Answer.field(apply, "error").map(error -> String.join("\n", atMost(error.strip().lines().toList()))))
        .lines("conflicts", atMost(Answer.strings(apply, "conflicts")));
  }

  /**
   * A test result or any other element in one line: {@code unit passed}, {@code unit failed (exit 1)},
   * else its text or compact JSON.
   */
  private static String oneLine(JsonNode element) {
    if (element.isObject() && element.hasNonNull("name")) {
      String outcome = element.path("timedOut").asBoolean(false) ? " timed out"
          : element.has("passed") ? (element.path("passed").asBoolean() ? " passed" : " failed") : "";
      return Answer.cell(element, "name") + outcome
          + Answer.field(element, "exitCode").filter(code -> !code.equals("0")).map(code -> " (exit " + code + ")").orElse("");
    }
    return Answer.abbreviate(element.isValueNode() ? element.asText() : element.toString(), 160);
  }

  private static List<String> atMost(List<String> lines) {
    if (lines.size() <= SHOWN) {
      return lines;
    }
    List<String> shown = new ArrayList<>(lines.subList(0, SHOWN));
    shown.add("... and " + (lines.size() - SHOWN) + " more (--json shows all)");
    return shown;
  }
}
