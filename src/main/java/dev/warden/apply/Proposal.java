package dev.warden.apply;

import dev.warden.CborSerializable;
import dev.warden.plan.Plan;
import dev.warden.plan.Tier;
import dev.warden.process.SandboxRules;
import dev.warden.validate.Validator.CheckOutcome;
import dev.warden.validate.Violation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One proposal as the applier holds it: what it binds (a checkpoint, its tree, the diff from the
 * target), its tier and what that tier requires, every decision with who, when and why, and what
 * the apply (and a rollback) did. Immutable; the applier's event handler makes the next one.
 */
public record Proposal(
    Draft draft,
    ProposalStatus status,
    String validation,
    List<Violation> violations,
    List<Decision> decisions,
    Optional<ApplyRecord> apply,
    Optional<String> note,
    Optional<RevertRecord> revert,
    boolean featureSettled,
    Instant updatedAt)
    implements CborSerializable {

  /** Validation verdicts a proposal can show. */
  public static final String VALID = "valid";
  public static final String PENDING = "pending";

  /**
   * {@code note}: the latest thing a reader should know that no other field says: why an approved
   * proposal waits to be applied, or why a proposal failed before any apply (an invalid checkpoint).
   */
  public Proposal {
    violations = List.copyOf(violations);
    decisions = List.copyOf(decisions);
  }

  /**
   * Everything fixed when the proposal is made, computed before the applier sees it: stored whole in
   * {@link Applier.ProposalCreated}.
   *
   * @param base the merge base of the checkpoint and the target when it was proposed: the diff shown
   *     and the tier are of {@code base..checkpointCommit}
   * @param requiredApprovals distinct approvers needed (0 for low, 1 for medium, N for high)
   * @param reviewEndsAt medium only: when the proposal is approved by policy unless rejected first
   * @param sandbox the plan's sandbox section when it was proposed: the landing's test runs under it
   *     (empty: the defaults; always empty in proposals recorded before tests were sandboxed)
   */
  public record Draft(
      String id,
      String featureId,
      int number,
      String description,
      long checkpointSeq,
      String checkpointCommit,
      String tree,
      String gitDir,
      String target,
      String base,
      Changes changes,
      Tier tier,
      int requiredApprovals,
      Optional<Instant> reviewEndsAt,
      Instant expiresAt,
      Optional<Plan.TestCommand> test,
      String proposedBy,
      Instant proposedAt,
      Optional<SandboxRules> sandbox)
      implements CborSerializable {
    public Draft {
      sandbox = sandbox == null ? Optional.empty() : sandbox;
    }

    /** The sandbox rules the landing's test runs under. */
    public SandboxRules sandboxRules() {
      return sandbox.orElseGet(SandboxRules::defaults);
    }

    /**
     * The proposal's title: the first line of its description (what {@code propose} was given, or
     * {@code bin/warden agent --title}); {@code Work on feature <id>} when that is blank.
     */
    public String title() {
      String line = description.strip().lines().findFirst().orElse("").strip();
      return line.isEmpty() ? defaultTitle(featureId) : line;
    }

    /**
     * The message of the commit that lands it: the title as subject, the rest of the description as
     * body, where it came from, and a {@value Landing#PROPOSAL_TRAILER} trailer (the merge engine adds
     * {@code Warden-Checkpoint}).
     */
    public String commitMessage() {
      String rest = description.strip().lines().skip(1).collect(java.util.stream.Collectors.joining("\n")).strip();
      return title() + "\n\n" + (rest.isEmpty() ? "" : rest + "\n\n")
          + "Feature " + featureId + ", checkpoint " + checkpointSeq + ", tier " + tier.label() + ".\n\n"
          + Landing.PROPOSAL_TRAILER + ": " + id;
    }
  }

  /** The title of a proposal made without one. */
  public static String defaultTitle(String featureId) {
    return "Work on feature " + featureId;
  }

  /** The diff's size and every changed path with the tier the policy gives it. */
  public record Changes(int files, long linesAdded, long linesDeleted, List<ChangedPath> paths) implements CborSerializable {
    public Changes {
      paths = List.copyOf(paths);
    }
  }

  public record ChangedPath(String path, long added, long deleted, Tier tier) implements CborSerializable {}

  /**
   * One entry of the decision trail: {@code approve}, {@code bypass}, {@code reject},
   * {@code auto-approve}, {@code expire}, {@code stale}, {@code revert}.
   */
  public record Decision(String decision, String by, Optional<String> role, Optional<String> reason, Instant at)
      implements CborSerializable {}

  /** What landing it did: the target before, the commit after, the tests that passed, or why it failed. */
  public record ApplyRecord(
      Optional<String> targetBefore,
      Optional<String> commit,
      int attempts,
      List<CheckOutcome> tests,
      Optional<String> error,
      List<String> conflicts,
      boolean foundAfterRestart,
      Instant at)
      implements CborSerializable {
    public ApplyRecord {
      tests = List.copyOf(tests);
      conflicts = List.copyOf(conflicts);
    }
  }

  public record RevertRecord(String commit, String by, String reason, List<CheckOutcome> tests, Instant at)
      implements CborSerializable {
    public RevertRecord {
      tests = List.copyOf(tests);
    }
  }

  static Proposal created(Draft draft, String validation, Instant at) {
    return new Proposal(draft, ProposalStatus.PROPOSED, validation, List.of(), List.of(), Optional.empty(), Optional.empty(),
        Optional.empty(), false, at);
  }

  public String id() {
    return draft.id();
  }

  /** Distinct approvers so far (bypass included). */
  public List<String> approvers() {
    return decisions.stream().filter(d -> d.decision().equals("approve") || d.decision().equals("bypass"))
        .map(Decision::by).distinct().toList();
  }

  public boolean bypassed() {
    return decisions.stream().anyMatch(d -> d.decision().equals("bypass"));
  }

  /** Approved by its tier's rule (or a bypass) and not replaced or refused since: it is, or was, landing. */
  public boolean approved() {
    return status == ProposalStatus.APPROVED || status == ProposalStatus.APPLIED || status == ProposalStatus.REVERTED
        || (status == ProposalStatus.FAILED && apply.isPresent());
  }

  /** The time past which a finished proposal leaves the query views. */
  public boolean finishedBefore(Instant cutoff) {
    return !status.isOpen() && updatedAt.isBefore(cutoff);
  }

  Proposal with(ProposalStatus newStatus, Instant at) {
    return new Proposal(draft, newStatus, validation, violations, decisions, apply, note, revert, featureSettled, at);
  }

  Proposal withValidation(String verdict, List<Violation> found, Instant at) {
    return new Proposal(draft, status, verdict, found, decisions, apply, note, revert, featureSettled, at);
  }

  Proposal withDecision(Decision decision) {
    List<Decision> all = new ArrayList<>(decisions);
    all.add(decision);
    return new Proposal(draft, status, validation, violations, all, apply, note, revert, featureSettled, decision.at());
  }

  Proposal withApply(ApplyRecord record) {
    return new Proposal(draft, status, validation, violations, decisions, Optional.of(record), Optional.empty(), revert,
        featureSettled, record.at());
  }

  Proposal withNote(String reason, Instant at) {
    return new Proposal(draft, status, validation, violations, decisions, apply, Optional.of(reason), revert, featureSettled, at);
  }

  Proposal withRevert(RevertRecord record) {
    return new Proposal(draft, status, validation, violations, decisions, apply, note, Optional.of(record),
        featureSettled, record.at());
  }

  Proposal settled() {
    return new Proposal(draft, status, validation, violations, decisions, apply, note, revert, true, updatedAt);
  }
}
