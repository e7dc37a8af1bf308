package dev.warden.policy;

import dev.warden.plan.PathGlob;
import dev.warden.plan.Tier;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The approval policy (design brief §1 Tier, §2 Applier): ordered rules mapping path globs to tiers,
 * plus the per-tier settings. Immutable and thread-safe; {@link PolicyFile} reads one from disk and
 * {@link PolicyStore} keeps the current one.
 *
 * <p>For a path the first rule whose glob matches decides; a path no rule matches is {@link Tier#HIGH}
 * (default-deny). A proposal's tier is the highest over its changed paths, raised to the plan's
 * minimum tier when that is higher: a plan may raise its tier, never lower it.
 *
 * @param rules in file order; the first match wins
 * @param mediumReviewWindow how long a medium proposal waits for a rejection before it is approved
 * @param highApprovers how many distinct approvers a high proposal needs
 * @param expiry how long an undecided proposal lives before it expires
 */
public record Policy(List<Rule> rules, Duration mediumReviewWindow, int highApprovers, Duration expiry) {

  /** The defaults of the issue and of {@code conf/policy.conf}; the file is where operators change them. */
  public static final Duration DEFAULT_MEDIUM_REVIEW_WINDOW = Duration.ofHours(24);
  public static final int DEFAULT_HIGH_APPROVERS = 1;
  public static final Duration DEFAULT_EXPIRY = Duration.ofDays(7);

  /**
   * One rule: paths matching {@code glob} are {@code tier}.
   *
   * @param index the rule's position in the file ({@code rules[index]}), to explain a decision
   */
  public record Rule(int index, PathGlob glob, Tier tier) {
    public Rule {
      Objects.requireNonNull(glob, "glob");
      Objects.requireNonNull(tier, "tier");
    }
  }

  public Policy {
    rules = List.copyOf(rules);
    Objects.requireNonNull(mediumReviewWindow, "mediumReviewWindow");
    Objects.requireNonNull(expiry, "expiry");
    if (mediumReviewWindow.isNegative()) {
      throw new IllegalArgumentException("mediumReviewWindow must not be negative: " + mediumReviewWindow);
    }
    if (highApprovers < 1) {
      throw new IllegalArgumentException("highApprovers must be at least 1: " + highApprovers);
    }
    if (expiry.isNegative() || expiry.isZero()) {
      throw new IllegalArgumentException("expiry must be positive: " + expiry);
    }
  }

  /** No rules, so every path is high; default tier settings. What a daemon with no policy file runs. */
  public static Policy defaults() {
    return new Policy(List.of(), DEFAULT_MEDIUM_REVIEW_WINDOW, DEFAULT_HIGH_APPROVERS, DEFAULT_EXPIRY);
  }

  /** The first rule matching {@code path} (worktree-relative, '/'-separated), if any. */
  public Optional<Rule> ruleFor(String path) {
    Objects.requireNonNull(path, "path");
    for (Rule rule : rules) {
      if (rule.glob().matches(path)) {
        return Optional.of(rule);
      }
    }
    return Optional.empty();
  }

  /** The tier of one path: the first matching rule's, or high when no rule matches. */
  public Tier tierOf(String path) {
    return ruleFor(path).map(Rule::tier).orElse(Tier.HIGH);
  }

  /**
   * A proposal's tier: the highest over {@code paths}, raised to {@code planMinimum} when that is
   * higher, never lowered by it. No changed paths (an empty merge changes nothing) gives low, or the
   * plan's minimum.
   */
  public Tier tierOf(Collection<String> paths, Optional<Tier> planMinimum) {
    Tier tier = planMinimum.orElse(Tier.LOW);
    for (String path : paths) {
      if (tier == Tier.HIGH) {
        break;
      }
      tier = tier.max(tierOf(path));
    }
    return tier;
  }
}
