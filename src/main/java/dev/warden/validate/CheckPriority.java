package dev.warden.validate;

/**
 * Which heavy checks go first when the pool is busy (design brief §2): a proposal's final validation
 * before a manual request before the periodic ones. Declared highest first; FIFO within one.
 */
public enum CheckPriority {
  /** Validation of a proposal's checkpoint: someone is waiting to merge. */
  FINAL,
  /** Asked for over the API or by an operator. */
  MANUAL,
  /** The regular validation of checkpoints as they come; the next one supersedes it anyway. */
  PERIODIC
}
