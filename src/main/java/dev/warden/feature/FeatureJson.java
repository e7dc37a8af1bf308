package dev.warden.feature;

import dev.warden.Rejection;
import dev.warden.http.JsonFields;
import dev.warden.plan.Plan;
import dev.warden.process.SandboxRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The JSON shapes of the feature API: request parsing (each error names its field) and the
 * {@link FeatureView} the API answers with. Events and entity state never leave as API JSON.
 */
public final class FeatureJson {

  private FeatureJson() {}

  /** {@code POST /api/v1/features}: {@code {"id","repo","target","plan"}}. */
  public static FeatureService.NewFeature newFeature(JsonFields body) {
    return newFeature(body, PlanTemplates.none(), true);
  }

  /**
   * {@code POST /api/v1/features}: {@code {"id","repo","target","plan"|"planTemplate"}}. A plan with
   * {@code checks} or {@code test} (they run code), or a {@code sandbox} section that opens more than
   * the defaults, is 403 naming the field unless
   * {@code mayRunCode} (the approver role, as for {@code PUT plan}); a template is the operator's, so
   * anyone who may create features may use it.
   */
  public static FeatureService.NewFeature newFeature(JsonFields body, PlanTemplates templates, boolean mayRunCode) {
    body.onlyKeys(Set.of("id", "repo", "target", "plan", "planTemplate"));
    String id = FeatureId.require(body.requiredText("id"), "id");
    String repo = body.requiredText("repo");
    String target = body.requiredText("target");
    Optional<String> template = body.optionalText("planTemplate");
    Optional<JsonFields> given = body.optionalObject("plan");
    if (template.isPresent() && given.isPresent()) {
      throw Rejection.invalid("planTemplate", "give either plan or planTemplate, not both");
    }
    if (template.isPresent()) {
      Plan named = templates.get(template.get()).orElseThrow(() -> Rejection.invalid("planTemplate",
          "no plan template '" + template.get() + "' (GET /api/v1/plan-templates lists them)"));
      return new FeatureService.NewFeature(id, repo, target, named);
    }
    Plan plan = given.map(FeatureJson::plan).orElse(Plan.defaults());
    if (!mayRunCode && !plan.checks().isEmpty()) {
      throw Rejection.forbidden("plan.checks", "a plan with checks runs code: creating it needs the approver role;"
          + " an agent may use a plan template an operator defined (planTemplate)");
    }
    if (!mayRunCode && plan.test().isPresent()) {
      throw Rejection.forbidden("plan.test", "a plan with a test command runs code: creating it needs the approver role;"
          + " an agent may use a plan template an operator defined (planTemplate)");
    }
    if (!mayRunCode && plan.sandbox().map(SandboxRules::widens).orElse(false)) {
      throw Rejection.forbidden("plan.sandbox", "a sandbox section that opens more (writable or home paths, network for"
          + " checks) needs the approver role; an agent may only narrow its sandbox (hidden paths, network off)");
    }
    return new FeatureService.NewFeature(id, repo, target, plan);
  }

  /** {@code PUT /api/v1/features/{id}/plan}: a whole plan; field names in errors start at the top. */
  public static Plan planBody(JsonFields body) {
    return plan(body);
  }

  /** An optional {@code {"reason"}} body of pause and abandon. */
  public static Optional<String> reason(JsonFields body) {
    body.onlyKeys(Set.of("reason"));
    return body.optionalText("reason").filter(reason -> !reason.isBlank());
  }

  static Plan plan(JsonFields plan) {
    // "version" is accepted so a plan read from the API can be sent back; the server numbers versions
    plan.onlyKeys(Set.of("version", "allowedPaths", "forbiddenPaths", "plannedFiles", "limits", "checks", "test", "autoRollback",
        "minimumTier", "sandbox"));
    Optional<dev.warden.plan.Tier> minimumTier = plan.optionalText("minimumTier").map(label -> dev.warden.plan.Tier.fromLabel(label)
        .orElseThrow(() -> Rejection.invalid(plan.pathOf("minimumTier"), "must be \"low\", \"medium\" or \"high\"")));
    Optional<String> autoRollback = plan.optionalText("autoRollback").filter(value -> !value.equals("none"));
    if (autoRollback.isPresent() && !autoRollback.get().equals(Plan.SMART)) {
      throw Rejection.invalid(plan.pathOf("autoRollback"), "must be \"none\" or \"smart\"");
    }
    List<String> allowed = globs(plan, "allowedPaths", plan.optionalStrings("allowedPaths").orElse(List.of("**")));
    List<String> forbidden = globs(plan, "forbiddenPaths", plan.optionalStrings("forbiddenPaths").orElse(List.of()));
    Optional<List<String>> planned = plan.optionalStrings("plannedFiles");
    planned.ifPresent(files -> {
      for (int i = 0; i < files.size(); i++) {
        String file = files.get(i);
        if (file.isBlank() || file.startsWith("/") || file.contains("\\") || file.contains("\0")
            || List.of(file.split("/")).contains("..") || dev.warden.git.GitPaths.isGitPath(file)) {
          throw Rejection.invalid(plan.pathOf("plannedFiles") + "[" + i + "]",
              "'" + file + "' must be a relative path inside the worktree (no '..', no '.git', no leading '/')");
        }
      }
    });
    Plan.Limits limits = plan.optionalObject("limits").map(FeatureJson::limits).orElse(Plan.Limits.defaults());
    List<Plan.Check> checks = new ArrayList<>();
    for (JsonFields check : plan.optionalObjects("checks").orElse(List.of())) {
      check.onlyKeys(Set.of("name", "argv", "paths", "timeoutSeconds"));
      String paths = check.optionalText("paths").orElse("**");
      glob(check.pathOf("paths"), paths);
      checks.add(new Plan.Check(
          nonBlank(check, "name"),
          argv(check),
          paths,
          check.optionalPositiveLong("timeoutSeconds").orElse(300L)));
    }
    Optional<Plan.TestCommand> test = plan.optionalObject("test").map(t -> {
      t.onlyKeys(Set.of("argv", "timeoutSeconds"));
      return new Plan.TestCommand(argv(t), t.optionalPositiveLong("timeoutSeconds").orElse(1800L));
    });
    Optional<SandboxRules> sandbox = plan.optionalObject("sandbox").map(FeatureJson::sandbox);
    return new Plan(1, allowed, forbidden, planned, limits, checks, test, autoRollback, minimumTier, sandbox);
  }

  /** A plan's {@code sandbox} section (docs/security.md): every path absolute or under {@code ~/}. */
  private static SandboxRules sandbox(JsonFields sandbox) {
    sandbox.onlyKeys(Set.of("agentNetwork", "checkNetwork", "writable", "hidden", "homeWritable"));
    return new SandboxRules(
        sandbox.optionalBoolean("agentNetwork"),
        sandbox.optionalBoolean("checkNetwork"),
        sandboxPaths(sandbox, "writable").orElse(List.of()),
        sandboxPaths(sandbox, "hidden").orElse(List.of()),
        sandboxPaths(sandbox, "homeWritable"));
  }

  private static Optional<List<String>> sandboxPaths(JsonFields sandbox, String key) {
    Optional<List<String>> paths = sandbox.optionalStrings(key);
    paths.ifPresent(list -> {
      if (list.size() > 64) {
        throw Rejection.invalid(sandbox.pathOf(key), "holds more than 64 paths");
      }
      for (int i = 0; i < list.size(); i++) {
        String path = list.get(i);
        String field = sandbox.pathOf(key) + "[" + i + "]";
        SandboxRules.problem(path).ifPresent(problem -> {
          throw Rejection.invalid(field, "'" + path + "' " + problem);
        });
        if (key.equals("homeWritable") && !path.startsWith("~/")) {
          throw Rejection.invalid(field, "'" + path + "' must start with ~/ (a directory under the home directory)");
        }
      }
    });
    return paths;
  }

  /** Every glob must compile (git-style, see PathGlob); the error names the element. */
  private static List<String> globs(JsonFields plan, String key, List<String> globs) {
    for (int i = 0; i < globs.size(); i++) {
      glob(plan.pathOf(key) + "[" + i + "]", globs.get(i));
    }
    return globs;
  }

  private static void glob(String field, String glob) {
    try {
      dev.warden.plan.PathGlob.compile(glob);
    } catch (IllegalArgumentException e) {
      throw Rejection.invalid(field, e.getMessage());
    }
  }

  private static Plan.Limits limits(JsonFields limits) {
    limits.onlyKeys(Set.of("maxChangedLines", "maxChangedFiles", "maxFileBytes", "diskQuotaBytes"));
    return new Plan.Limits(
        limits.optionalPositiveLong("maxChangedLines").orElse(Plan.DEFAULT_MAX_CHANGED_LINES),
        limits.optionalPositiveLong("maxChangedFiles"),
        limits.optionalPositiveLong("maxFileBytes"),
        limits.optionalPositiveLong("diskQuotaBytes").orElse(Plan.DEFAULT_DISK_QUOTA_BYTES));
  }

  private static List<String> argv(JsonFields command) {
    List<String> argv = command.optionalStrings("argv").orElseThrow(() -> Rejection.invalid(command.pathOf("argv"), "is required"));
    if (argv.isEmpty() || argv.get(0).isBlank()) {
      throw Rejection.invalid(command.pathOf("argv"), "must name a program: a non-empty array whose first element is not blank");
    }
    return argv;
  }

  private static String nonBlank(JsonFields object, String key) {
    String value = object.requiredText(key);
    if (value.isBlank()) {
      throw Rejection.invalid(object.pathOf(key), "must not be blank");
    }
    return value;
  }

  /** A feature as the API shows it. */
  public record FeatureView(
      String id,
      String status,
      String repo,
      String target,
      String branch,
      String worktree,
      String baseCommit,
      Plan plan,
      String createdBy,
      Instant createdAt,
      Instant updatedAt,
      String statusReason,
      List<Feature.OpenQuestion> openQuestions,
      ProposalView proposal,
      boolean unsandboxed,
      RunView lastRun) {

    public static FeatureView fromDomain(Feature.FeatureSummary f) {
      return new FeatureView(f.id(), f.status().label(), f.repo(), f.target(), f.branch(), f.worktree(), f.baseCommit(),
          f.plan(), f.createdBy(), f.createdAt(), f.updatedAt(), f.statusReason().orElse(null), f.openQuestions(),
          f.proposal().map(ProposalView::fromDomain).orElse(null), f.unsandboxed(),
          f.lastRun().map(RunView::fromDomain).orElse(null));
    }
  }

  /** How the agent's latest run was started, as its wrapper said (null until a wrapper said it). */
  public record RunView(boolean sandboxed, String reason, String agent, Instant at) {
    static RunView fromDomain(Feature.AgentRun run) {
      return new RunView(run.sandboxed(), run.reason().orElse(null), run.agent(), run.at());
    }
  }

  /** What was proposed, by whom, as of which checkpoint; {@code id} is the approval at {@code /api/v1/approvals/{id}}. */
  public record ProposalView(String id, String description, Long checkpoint, String proposedBy, Instant at) {
    static ProposalView fromDomain(Feature.Proposal p) {
      return new ProposalView(p.id().orElse(null), p.description(), p.checkpoint().orElse(null), p.proposedBy(), p.at());
    }
  }

  /** {@code GET /api/v1/features}. */
  public record FeatureList(List<FeatureView> features, int count) {
    public static FeatureList fromDomain(List<Feature.FeatureSummary> features) {
      return new FeatureList(features.stream().map(FeatureView::fromDomain).toList(), features.size());
    }
  }
}
