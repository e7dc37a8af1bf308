package dev.warden.feed;

import dev.warden.Rejection;
import dev.warden.feature.FeatureId;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What one subscriber asked for: {@code ?since=} (replay the journal after that offset, then go live),
 * {@code ?feature=} and {@code ?types=} (comma-separated), and {@code ?batch=true} (each WebSocket
 * message carries every event ready to go, one JSON object per line, instead of one event per
 * message). Bad values are rejected naming the parameter, before the WebSocket upgrade.
 */
public record FeedQuery(OptionalLong since, Optional<String> feature, Set<String> types, boolean batch) {

  public FeedQuery {
    types = Set.copyOf(types);
  }

  public static FeedQuery live() {
    return new FeedQuery(OptionalLong.empty(), Optional.empty(), Set.of(), false);
  }

  /** The same subscription, sent as batches (one JSON object per line) or one event per message. */
  public FeedQuery batched(boolean batched) {
    return new FeedQuery(since, feature, types, batched);
  }

  public static FeedQuery parse(Optional<String> since, Optional<String> feature, Optional<String> types, Optional<String> batch,
      Set<String> knownTypes) {
    OptionalLong from = OptionalLong.empty();
    if (since.isPresent()) {
      try {
        long value = Long.parseLong(since.get().trim());
        if (value < 0) {
          throw Rejection.invalid("since", "must be an offset, 0 or more, got " + value);
        }
        from = OptionalLong.of(value);
      } catch (NumberFormatException e) {
        throw Rejection.invalid("since", "must be an offset (a whole number, 0 or more)");
      }
    }
    feature.ifPresent(id -> FeatureId.require(id, "feature"));
    Set<String> wanted = new LinkedHashSet<>();
    if (types.isPresent()) {
      for (String type : types.get().split(",", -1)) {
        String trimmed = type.trim();
        if (trimmed.isEmpty()) {
          throw Rejection.invalid("types", "must list event types separated by commas, without empty entries");
        }
        if (!knownTypes.contains(trimmed)) {
          throw Rejection.invalid("types", "unknown event type '" + trimmed + "' (known: " + String.join(", ", knownTypes.stream().sorted().toList()) + ")");
        }
        wanted.add(trimmed);
      }
    }
    boolean batched = false;
    if (batch.isPresent()) {
      switch (batch.get().trim()) {
        case "true" -> batched = true;
        case "false" -> batched = false;
        default -> throw Rejection.invalid("batch", "must be true or false, got '" + batch.get() + "'");
      }
    }
    return new FeedQuery(from, feature, wanted, batched);
  }

  /** Whether the subscriber wants this event (the filters; offsets are the subscription's business). */
  public boolean matches(FeedItem item) {
    return (feature.isEmpty() || feature.get().equals(item.feature())) && (types.isEmpty() || types.contains(item.type()));
  }
}
