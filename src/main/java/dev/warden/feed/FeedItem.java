package dev.warden.feed;

/**
 * One journal event on its way to subscribers, rendered once for all of them.
 *
 * @param offset the journal's global ordering of the event
 * @param previous the offset of the event the live reader emitted just before this one (for replayed
 *     items: -1). A subscriber that has seen {@code previous} has missed nothing before {@code offset}.
 * @param feature the feature the event belongs to (null when none can be told)
 * @param type the readable type, e.g. {@code checkpoint.taken}
 * @param json the whole message as sent to clients
 */
public record FeedItem(long offset, long previous, String feature, String type, String json) {}
