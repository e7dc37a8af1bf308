package dev.warden.apply;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a proposal is (design brief §1): {@code proposed → approved | rejected | expired → applied |
 * failed}; {@code stale} when a newer checkpoint replaced it before it was applied, {@code reverted}
 * when an applied one was rolled back, {@code withdrawn} when its feature was abandoned (or refused
 * to record it) before it landed. The names are stored in events and shown in the API: never
 * rename one.
 */
public enum ProposalStatus {
  @JsonProperty("proposed") PROPOSED,
  @JsonProperty("approved") APPROVED,
  @JsonProperty("rejected") REJECTED,
  @JsonProperty("expired") EXPIRED,
  @JsonProperty("stale") STALE,
  @JsonProperty("applied") APPLIED,
  @JsonProperty("failed") FAILED,
  @JsonProperty("reverted") REVERTED,
  /** Taken back before it landed (proposed, or approved and waiting): its feature was abandoned, or refused to record it. */
  @JsonProperty("withdrawn") WITHDRAWN;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Still waiting for a decision or for its apply: the one proposal of a feature that can change. */
  public boolean isOpen() {
    return this == PROPOSED || this == APPROVED;
  }

  public static Optional<ProposalStatus> fromLabel(String label) {
    for (ProposalStatus status : values()) {
      if (status.label().equals(label)) {
        return Optional.of(status);
      }
    }
    return Optional.empty();
  }
}
