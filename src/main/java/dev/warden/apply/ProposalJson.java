package dev.warden.apply;

import dev.warden.validate.Validator.CheckOutcome;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** How proposals look in the API: {@code GET /api/v1/approvals[/{id}]}, approve, reject, propose. */
public final class ProposalJson {

  private ProposalJson() {}

  public record ProposalList(List<ProposalView> approvals, int count) {
    public static ProposalList fromDomain(List<Proposal> proposals) {
      return new ProposalList(proposals.stream().map(ProposalView::fromDomain).toList(), proposals.size());
    }
  }

  public record ProposalView(
      String id,
      String feature,
      String status,
      String tier,
      String description,
      CheckpointView checkpoint,
      String target,
      String base,
      ChangesView changes,
      ValidationView validation,
      boolean approved,
      ApprovalsView approvals,
      List<DecisionView> decisions,
      Instant reviewEndsAt,
      Instant expiresAt,
      ApplyView apply,
      RevertView revert,
      String note,
      List<TestView> tests,
      String proposedBy,
      Instant proposedAt,
      Instant updatedAt) {

    public static ProposalView fromDomain(Proposal p) {
      Proposal.Draft d = p.draft();
      List<TestView> tests = p.apply().map(a -> a.tests().stream().map(TestView::fromDomain).toList()).orElse(List.of());
      return new ProposalView(d.id(), d.featureId(), p.status().label(), d.tier().label(), d.description(),
          new CheckpointView(d.checkpointSeq(), d.checkpointCommit(), d.tree()), d.target(), d.base(),
          new ChangesView(d.changes().files(), d.changes().linesAdded(), d.changes().linesDeleted(),
              d.changes().paths().stream().map(c -> new PathView(c.path(), c.added(), c.deleted(), c.tier().label())).toList()),
          new ValidationView(p.validation(), p.violations().stream()
              .map(v -> new ViolationView(v.rule(), v.path(), v.severity().label(), v.message())).toList()),
          p.approved(), new ApprovalsView(d.requiredApprovals(), p.approvers().size(), p.approvers()),
          p.decisions().stream().map(x -> new DecisionView(x.decision(), x.by(), x.role().orElse(null), x.reason().orElse(null), x.at()))
              .toList(),
          d.reviewEndsAt().orElse(null), d.expiresAt(),
          p.apply().map(a -> new ApplyView(a.targetBefore().orElse(null), a.commit().orElse(null), a.attempts(), a.error().orElse(null),
              a.conflicts(), a.foundAfterRestart(), a.at())).orElse(null),
          p.revert().map(r -> new RevertView(r.commit(), r.by(), r.reason(), r.tests().stream().map(TestView::fromDomain).toList(), r.at()))
              .orElse(null),
          p.note().orElse(null), tests, d.proposedBy(), d.proposedAt(), p.updatedAt());
    }
  }

  public record CheckpointView(long seq, String commit, String tree) {}

  public record ChangesView(int files, long linesAdded, long linesDeleted, List<PathView> paths) {}

  public record PathView(String path, long added, long deleted, String tier) {}

  public record ValidationView(String status, List<ViolationView> violations) {}

  public record ViolationView(String rule, String path, String severity, String message) {}

  /** {@code received} counts distinct approvers (a bypass included); {@code required} is the tier's. */
  public record ApprovalsView(int required, int received, List<String> by) {}

  public record DecisionView(String decision, String by, String role, String reason, Instant at) {}

  public record ApplyView(String targetBefore, String commit, int attempts, String error, List<String> conflicts,
      boolean foundAfterRestart, Instant at) {}

  public record RevertView(String commit, String by, String reason, List<TestView> tests, Instant at) {}

  /**
   * A test run: how it ended, a bounded view of its output with secrets masked, and its sandbox
   * ({@code sandbox: ...} or {@code unsandboxed: <why>}; null for tests recorded before tests were sandboxed).
   */
  public record TestView(String name, List<String> argv, boolean passed, Integer exitCode, boolean timedOut, long durationMs,
      String output, String sandbox) {
    static TestView fromDomain(CheckOutcome c) {
      String output = c.droppedBytes() == 0 ? c.outputHead() + c.outputTail()
          : c.outputHead() + "\n[... " + c.droppedBytes() + " bytes not kept ...]\n" + c.outputTail();
      // a test may print a file: its secrets are masked as in a diff
      return new TestView(c.name(), c.argv(), c.passed(), c.exitCode().orElse(null), c.timedOut(), c.durationMs(),
          dev.warden.secrets.SecretMasker.content(output).text(), c.sandbox().orElse(null));
    }
  }

  static Optional<String> nonBlank(Optional<String> value) {
    return value.filter(v -> !v.isBlank());
  }
}
