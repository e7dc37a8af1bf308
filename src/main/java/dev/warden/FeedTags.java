package dev.warden;

/**
 * Journal tags the activity feed reads. Every event-sourced entity tags each event with
 * {@link #ALL} (besides its own tag), so one {@code eventsByTag} reader sees every event of every
 * actor in global offset order.
 */
public final class FeedTags {

  /** On every persisted event of every entity. Stored in the journal: never rename. */
  public static final String ALL = "warden";

  private FeedTags() {}

  /** An entity's tags: its own {@code tag} and {@link #ALL}; built once per entity type, not per event. */
  public static java.util.Set<String> of(String tag) {
    return java.util.Set.of(tag, ALL);
  }
}
