package dev.warden.validate;

import dev.warden.CborSerializable;
import dev.warden.validate.Validator.VerdictRecord;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What is kept of the judged checkpoints, whatever their number: the latest verdict; the valid
 * checkpoints smart rollback may go back to ({@link ValidatorStates#trim}); which checkpoints were ever
 * validated ({@code seen}, as spans: a run of checkpoints is one span); and those whose validation
 * itself failed ({@code retryable}: a later {@code Validate} runs them again).
 */
public record VerdictLedger(Optional<VerdictRecord> latest, List<Long> valid, List<Span> seen, List<Long> retryable)
    implements CborSerializable {

  public static final VerdictLedger EMPTY = new VerdictLedger(Optional.empty(), List.of(), List.of(), List.of());

  public VerdictLedger {
    valid = List.copyOf(valid);
    seen = List.copyOf(seen);
    retryable = List.copyOf(retryable);
  }

  public boolean seen(long seq) {
    return seen.stream().anyMatch(s -> s.contains(seq));
  }

  /** The newest valid checkpoint before {@code seq}; 0 (the base) when none was. */
  long lastValidBefore(long seq) {
    return valid.stream().filter(s -> s < seq).mapToLong(Long::longValue).max().orElse(0);
  }

  VerdictLedger started(long seq) {
    return new VerdictLedger(latest, ValidatorStates.with(valid, seq, false), ValidatorStates.seen(seen, seq),
        ValidatorStates.with(retryable, seq, false));
  }

  VerdictLedger judged(VerdictRecord verdict, OptionalLong oldestUnderway) {
    long seq = verdict.seq();
    Optional<VerdictRecord> newest = latest.isEmpty() || seq >= latest.get().seq() ? Optional.of(verdict) : latest;
    return new VerdictLedger(newest, ValidatorStates.trim(ValidatorStates.with(valid, seq, verdict.status() == VerdictStatus.VALID),
        oldestUnderway), ValidatorStates.seen(seen, seq), ValidatorStates.with(retryable, seq, failedBeforeAVerdict(verdict)));
  }

  /**
   * Degraded only because the validation itself failed ({@code ValidationFailed}: the plan or the git
   * objects could not be read, the checks could not run), not because something was left unchecked:
   * a later {@code Validate} runs it again. An invalid checkpoint whose checks could not run keeps its
   * verdict (running it again could not make it valid, and would repeat its reactions).
   */
  static boolean failedBeforeAVerdict(VerdictRecord verdict) {
    return verdict.status() == VerdictStatus.DEGRADED && verdict.failure().isPresent() && verdict.finishedAt().isPresent();
  }

  /** Checkpoints {@code from} to {@code to}, both included. */
  public record Span(long from, long to) implements CborSerializable {
    boolean contains(long seq) {
      return seq >= from && seq <= to;
    }
  }
}
