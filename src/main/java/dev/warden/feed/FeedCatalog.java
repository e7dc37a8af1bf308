package dev.warden.feed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.warden.checkpoint.Checkpoints;
import dev.warden.feature.Feature;
import dev.warden.validate.Validator;
import dev.warden.validate.Violation;
import dev.warden.watchdog.Watchdog;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the live feed says about each journal event: a readable type ({@code checkpoint.taken}) and a
 * data object with what a person needs (which files, which rule, who did it) — never a class name,
 * never the journal's internals.
 *
 * <p>Table-driven: {@link #standard()} lists every event of the four entities by hand. An event class
 * that is not listed is still shown, through the generic rule: its type is derived from the record's
 * name ({@code ProposalApproved} → {@code proposal.approved}) and its data is the record's fields as
 * Jackson writes them, without {@link #INTERNAL_FIELDS}, strings longer than {@link #MAX_TEXT} (named
 * in {@code omitted}) and list elements past {@link #MAX_LIST} (named in {@code truncated}). To make
 * a new entity's types known (so {@code ?types=} accepts them), add {@link Builder#derived} for its
 * sealed event interface, or {@link Builder#event} entries for a hand-written payload.
 */
public final class FeedCatalog {

  private static final Logger log = LoggerFactory.getLogger(FeedCatalog.class);

  /** Fields the generic rule never shows: the feature (already in the envelope), the time (in {@code ts}), paths of git's insides. */
  public static final Set<String> INTERNAL_FIELDS = Set.of("featureId", "at", "gitDir", "adminDir", "commonDir");
  /** Longer strings are left out by the generic rule (a diff, a test's output), and named in {@code omitted}. */
  public static final int MAX_TEXT = 1000;
  /** Lists are cut to this many elements (files, violations), and named in {@code truncated}. */
  public static final int MAX_LIST = 100;

  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");

  private final ObjectMapper mapper;
  private final Map<Class<?>, Entry<?>> entries;
  private final Set<String> knownTypes;
  private final Map<Class<?>, Entry<?>> derivedOnTheFly = new ConcurrentHashMap<>();

  private FeedCatalog(ObjectMapper mapper, Map<Class<?>, Entry<?>> entries) {
    this.mapper = mapper;
    this.entries = Map.copyOf(entries);
    Set<String> types = new TreeSet<>();
    entries.values().forEach(entry -> types.addAll(entry.types));
    this.knownTypes = Set.copyOf(types);
  }

  /** One event as the feed shows it. {@code feature} is null when neither the event nor its persistence id names one. */
  public record Shown(String type, String feature, ObjectNode data) {}

  /** The feed's catalog of every Warden entity event. */
  public static FeedCatalog standard() {
    return builder()
        // ---- Feature|<id> ----
        .event(Feature.FeatureRegistered.class, "feature.registered", e -> fields(
            "repo", e.registration().repo(), "target", e.registration().target(), "branch", e.registration().branch(),
            "baseCommit", e.registration().baseCommit(), "planVersion", e.registration().plan().version(), "by", e.registeredBy()))
        .event(Feature.FeatureActivated.class, "feature.activated", e -> fields())
        .event(Feature.FeaturePaused.class, "feature.paused", e -> fields("reason", e.reason(), "by", e.pausedBy()))
        .event(Feature.FeatureResumed.class, "feature.resumed", e -> fields("by", e.resumedBy()))
        .event(Feature.FeatureAbandoned.class, "feature.abandoned", e -> fields("reason", e.reason(), "by", e.abandonedBy()))
        .event(Feature.FeatureEscalated.class, "feature.escalated", e -> fields(
            "reason", e.reason(), "agentHeld", e.agentHeld().orElse(false)))
        .event(Feature.PlanChanged.class, "feature.plan_changed", e -> fields(
            "planVersion", e.plan().version(), "allowedPaths", e.plan().allowedPaths(),
            "forbiddenPaths", e.plan().forbiddenPaths(), "by", e.changedBy()))
        .event(Feature.QuestionAsked.class, "feature.question_asked", e -> fields("questionId", e.questionId(), "text", e.text()))
        .event(Feature.QuestionAnswered.class, "feature.question_answered", e -> fields(
            "questionId", e.questionId(), "answer", e.answer(), "by", e.answeredBy()))
        .event(Feature.FeatureProposed.class, "feature.proposed", e -> fields(
            "proposalId", e.proposalId(), "description", e.description(), "checkpoint", e.checkpoint(), "by", e.proposedBy()))
        .event(Feature.FeatureApplied.class, "feature.applied", e -> fields("proposalId", e.proposalId(), "reason", e.reason()))
        .event(Feature.FeatureRejected.class, "feature.rejected", e -> fields(
            "proposalId", e.proposalId(), "reason", e.reason(), "by", e.rejectedBy()))
        .event(Feature.FeatureReturnedToWork.class, "feature.returned_to_work", e -> fields(
            "proposalId", e.proposalId(), "reason", e.reason()))
        .event(Feature.AgentRanUnsandboxed.class, "feature.unsandboxed", e -> fields(
            "reason", e.reason(), "agent", e.agent(), "by", e.by()))
        .event(Feature.AgentRanSandboxed.class, "feature.sandboxed", e -> fields("agent", e.agent(), "by", e.by()))
        .event(Feature.AgentExited.class, "feature.agent_exited", e -> fields("code", e.code(), "agent", e.agent(), "reason", e.reason()))
        .event(Feature.AgentConnected.class, "agent.connected", e -> fields("agent", e.agent(), "version", e.version()))
        .event(Feature.AgentDisconnected.class, "agent.disconnected", e -> fields("agent", e.agent(), "reason", e.reason()))
        .event(Feature.AgentMessaged.class, "agent.messaged", e -> fields("by", e.by(), "bytes", e.bytes()))
        // ---- Applier|<id> ----
        .event(dev.warden.apply.Applier.ProposalCreated.class, "proposal.created", e -> fields(
            "proposalId", e.draft().id(), "description", e.draft().description(), "checkpoint", e.draft().checkpointSeq(),
            "target", e.draft().target(), "tier", e.draft().tier().label(), "requiredApprovals", e.draft().requiredApprovals(),
            "files", e.draft().changes().paths().stream().map(dev.warden.apply.Proposal.ChangedPath::path).limit(50).toList(),
            "linesAdded", e.draft().changes().linesAdded(), "linesDeleted", e.draft().changes().linesDeleted(),
            "validation", e.validation(), "by", e.draft().proposedBy()))
        .event(dev.warden.apply.Applier.ProposalValidated.class, "proposal.validated", e -> fields(
            "proposalId", e.proposalId(), "verdict", e.verdict(), "violations", violations(e.violations())))
        .event(dev.warden.apply.Applier.ApprovalGiven.class, "approval.given", e -> fields(
            "proposalId", e.proposalId(), "by", e.by(), "role", e.role(), "reason", e.reason(), "bypass", e.bypass()))
        .event(dev.warden.apply.Applier.ProposalApproved.class, "proposal.approved", e -> fields(
            "proposalId", e.proposalId(), "by", e.by(), "reason", e.reason()))
        .event(dev.warden.apply.Applier.ProposalRejected.class, "proposal.rejected", e -> fields(
            "proposalId", e.proposalId(), "by", e.by(), "reason", e.reason()))
        .event(dev.warden.apply.Applier.ProposalExpired.class, "proposal.expired", e -> fields("proposalId", e.proposalId()))
        .event(dev.warden.apply.Applier.ProposalWithdrawn.class, "proposal.withdrawn", e -> fields(
            "proposalId", e.proposalId(), "by", e.by(), "reason", e.reason()))
        .event(dev.warden.apply.Applier.ProposalWentStale.class, "proposal.went_stale", e -> fields(
            "proposalId", e.proposalId(), "newerCheckpoint", e.newerCheckpoint()))
        .event(dev.warden.apply.Applier.ApplyDeferred.class, "apply.deferred", e -> fields("proposalId", e.proposalId(), "reason", e.reason()))
        .event(dev.warden.apply.Applier.ProposalApplied.class, "proposal.applied", e -> fields(
            "proposalId", e.proposalId(), "targetBefore", e.targetBefore(), "commit", e.commit(), "attempts", e.attempts(),
            "tests", e.tests().stream().map(t -> fields("name", t.name(), "passed", t.passed(), "exitCode", t.exitCode())).toList(),
            "foundAfterRestart", e.foundAfterRestart()))
        .event(dev.warden.apply.Applier.ProposalFailed.class, "proposal.failed", e -> fields(
            "proposalId", e.proposalId(), "reason", e.reason(), "conflicts", e.conflicts(),
            "tests", e.tests().stream().map(t -> fields("name", t.name(), "passed", t.passed(), "exitCode", t.exitCode())).toList()))
        .event(dev.warden.apply.Applier.ProposalReverted.class, "proposal.reverted", e -> fields(
            "proposalId", e.proposalId(), "commit", e.revertCommit(), "by", e.by(), "reason", e.reason()))
        .event(dev.warden.apply.Applier.FeatureSettled.class, "feature.settled", e -> fields("proposalId", e.proposalId()))
        // ---- Checkpoints|<id> ----
        .event(Checkpoints.ChainStarted.class, "checkpoint.chain_started", e -> fields(
            "baseCommit", e.setup().baseCommit(), "ref", e.setup().refName()))
        .event(Checkpoints.CheckpointTaken.class, "checkpoint.taken", FeedCatalog::checkpointTaken)
        .event(Checkpoints.RolledBack.class, "checkpoint.rolled_back", e -> fields(
            "to", e.to(), "paths", capped(e.paths()), "restored", capped(e.restored()), "by", e.by()))
        .event(Checkpoints.PatchPromoted.class, "checkpoint.patch_promoted", e -> fields(
            "commit", e.shadowCommit(), "paths", capped(e.paths()), "by", e.by()))
        // ---- Validator|<id> ----
        .event(Validator.ValidationStarted.class, "validation.started", e -> fields(
            "checkpoint", e.seq(), "commit", e.commit(), "trigger", e.trigger()))
        // the fast rules' result is the verdict unless the plan's checks follow: then ChecksCompleted is
        .event(Validator.FastRulesChecked.class, List.of("validation.completed", "validation.fast_rules_checked"),
            e -> e.checksFollow() ? "validation.fast_rules_checked" : "validation.completed",
            e -> fields("checkpoint", e.seq(), "verdict", e.verdict(), "violations", violations(e.violations()),
                "unchecked", capped(e.unchecked()), "planVersion", e.planVersion(), "checksFollow", e.checksFollow()))
        .event(Validator.ChecksQueued.class, "validation.checks_queued", e -> fields("checkpoint", e.seq(), "reason", e.reason()))
        .event(Validator.ChecksCompleted.class, "validation.completed", e -> fields(
            "checkpoint", e.seq(), "verdict", e.verdict(), "checks", e.checks().stream().map(c -> fields(
                "name", c.name(), "passed", c.passed(), "exitCode", c.exitCode(), "timedOut", c.timedOut(),
                "durationMs", c.durationMs())).toList()))
        .event(Validator.ValidationFailed.class, "validation.failed", e -> fields("checkpoint", e.seq(), "reason", e.reason()))
        .event(Validator.PatchRejected.class, "validation.patch_rejected", e -> fields(
            "reason", e.reason(), "violations", violations(e.violations()), "by", e.by()))
        // ---- Watchdog|<id> ----
        .event(Watchdog.WatchStarted.class, "watchdog.started", e -> fields(
            "worktree", e.setup().worktree(), "diskQuotaBytes", e.setup().diskQuotaBytes()))
        .event(Watchdog.ChangesRecorded.class, "watchdog.changes", e -> fields(
            "files", capped(e.changes()).stream().map(c -> fields("path", c.path(), "kind", c.kind(), "count", c.count())).toList(),
            "truncated", e.truncated() || e.changes().size() > MAX_LIST, "fullScan", e.fullScan()))
        .event(Watchdog.ViolationsDetected.class, "watchdog.violation", e -> fields(
            "violations", capped(e.violations()).stream().map(v -> fields(
                "rule", v.rule(), "path", v.path(), "severity", v.severity(), "message", v.message())).toList()))
        .event(Watchdog.WatchDegraded.class, "watchdog.degraded", e -> fields("reason", e.reason()))
        .build();
  }

  private static Map<String, Object> checkpointTaken(Checkpoints.CheckpointTaken e) {
    Checkpoints.CheckpointRecord c = e.checkpoint();
    return fields(
        "checkpoint", c.seq(), "commit", c.commit(), "trigger", c.trigger(), "quiesced", c.quiesced(),
        "quiesceNote", c.quiesceNote(), "filesChanged", c.filesChanged(), "linesAdded", c.linesAdded(),
        "linesRemoved", c.linesRemoved(), "filesChangedSinceBase", c.filesChangedSinceBase(), "captureMs", c.captureMs(),
        "files", capped(e.changes()).stream().map(f -> fields(
            "path", f.path(), "kind", f.kind(), "linesAdded", f.linesAdded(), "linesRemoved", f.linesRemoved())).toList(),
        "filesTruncated", e.changesTruncated() || e.changes().size() > MAX_LIST,
        "skippedFiles", c.skipped().stream().map(f -> fields("path", f.path(), "bytes", f.bytes(), "limitBytes", f.limit())).toList());
  }

  private static List<Map<String, Object>> violations(List<Violation> violations) {
    return capped(violations).stream().map(v -> fields(
        "rule", v.rule(), "path", v.path(), "severity", v.severity(), "message", v.message())).toList();
  }

  private static <T> List<T> capped(List<T> list) {
    return list.size() <= MAX_LIST ? list : list.subList(0, MAX_LIST);
  }

  /** A data object from key/value pairs, in that order; Optional values are written as their content or null. */
  public static Map<String, Object> fields(Object... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("fields(...) takes key/value pairs");
    }
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  /** Every type this catalog can produce, for checking {@code ?types=}. */
  public Set<String> knownTypes() {
    return knownTypes;
  }

  /** Whether {@code eventClass} has an entry of its own (hand-written or {@link Builder#derived}), not the on-the-fly rule. */
  public boolean lists(Class<?> eventClass) {
    return entries.containsKey(eventClass);
  }

  /**
   * The feed's view of one journal event. Never throws: an event whose entry fails is shown with its
   * type and {@code {"unreadable": true}} (and logged), so one bad payload cannot stop the feed.
   */
  public Shown show(String persistenceId, Object event) {
    Entry<?> entry = entryFor(event.getClass());
    String type;
    try {
      type = entry.typeOf(event);
    } catch (RuntimeException e) {
      type = entry.types.iterator().next();
    }
    String feature = featureOf(persistenceId, event);
    ObjectNode data;
    try {
      data = entry.data(event, mapper);
    } catch (RuntimeException e) {
      log.warn("feed: cannot show a {} event of {}: {}", type, persistenceId, e.toString());
      data = mapper.createObjectNode().put("unreadable", true);
    }
    return new Shown(type, feature, data);
  }

  /** The complete feed message of one event, as a JSON text. */
  public String render(long offset, Instant ts, Shown shown) {
    ObjectNode message = mapper.createObjectNode();
    message.put("offset", offset);
    message.put("ts", ts.toString());
    message.put("feature", shown.feature());
    message.put("type", shown.type());
    message.set("data", shown.data());
    return write(message);
  }

  public ObjectMapper mapper() {
    return mapper;
  }

  String write(JsonNode node) {
    try {
      return mapper.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }

  private Entry<?> entryFor(Class<?> eventClass) {
    Entry<?> entry = entries.get(eventClass);
    if (entry != null) {
      return entry;
    }
    return derivedOnTheFly.computeIfAbsent(eventClass, c -> Entry.derived(c, Optional.empty()));
  }

  /** The event's own {@code featureId} when it has one, else the entity id of {@code Type|id} persistence ids. */
  static String featureOf(String persistenceId, Object event) {
    if (event instanceof Record) {
      for (RecordComponent component : event.getClass().getRecordComponents()) {
        if (component.getName().equals("featureId") && component.getType() == String.class) {
          try {
            Object value = component.getAccessor().invoke(event);
            if (value != null) {
              return (String) value;
            }
          } catch (ReflectiveOperationException e) {
            break;
          }
        }
      }
    }
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? null : persistenceId.substring(bar + 1);
  }

  /**
   * The type the generic rule gives a record: the first word of its name (or {@code prefix}) and the
   * rest in snake case — {@code ProposalApproved} → {@code proposal.approved},
   * {@code FastRulesChecked} → {@code fast.rules_checked}, with prefix {@code proposal}
   * {@code TestsPassed} → {@code proposal.tests_passed}.
   */
  public static String derivedType(String simpleName, Optional<String> prefix) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < simpleName.length(); i++) {
      char c = simpleName.charAt(i);
      if (!Character.isLetterOrDigit(c)) {
        flush(words, word);
        continue;
      }
      // a capital starts a word, except inside an acronym (the last capital of "PRMerged" starts "Merged")
      boolean boundary = Character.isUpperCase(c) && word.length() > 0
          && (!Character.isUpperCase(simpleName.charAt(i - 1))
              || (i + 1 < simpleName.length() && Character.isLowerCase(simpleName.charAt(i + 1))));
      if (boundary) {
        flush(words, word);
      }
      word.append(Character.toLowerCase(c));
    }
    flush(words, word);
    if (words.isEmpty()) {
      return prefix.orElse("event");
    }
    String head = prefix.orElse(words.get(0));
    List<String> rest = prefix.isPresent() && words.get(0).equals(prefix.get()) || prefix.isEmpty()
        ? words.subList(1, words.size()) : words;
    String type = rest.isEmpty() ? head : head + "." + String.join("_", rest);
    return TYPE.matcher(type).matches() ? type : "event";
  }

  private static void flush(List<String> words, StringBuilder word) {
    if (word.length() > 0) {
      words.add(word.toString().toLowerCase(Locale.ROOT));
      word.setLength(0);
    }
  }

  /** Whether {@code type} is written like a feed type (lower case, dotted). */
  public static boolean isTypeName(String type) {
    return TYPE.matcher(type).matches();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects entries; the same mapper the feed uses is made here (ISO-8601 times, Optional as value or null). */
  public static final class Builder {
    private final Map<Class<?>, Entry<?>> entries = new LinkedHashMap<>();

    private Builder() {}

    public <E> Builder event(Class<E> eventClass, String type, Function<E, Map<String, Object>> data) {
      return event(eventClass, List.of(type), e -> type, data);
    }

    /** An event whose type depends on its content; {@code types} lists every type {@code typeOf} can return. */
    public <E> Builder event(Class<E> eventClass, List<String> types, Function<E, String> typeOf, Function<E, Map<String, Object>> data) {
      types.forEach(type -> {
        if (!isTypeName(type)) {
          throw new IllegalArgumentException("feed type '" + type + "' must be lower case words joined by dots");
        }
      });
      put(eventClass, new Entry<>(eventClass, List.copyOf(types), typeOf, data));
      return this;
    }

    /**
     * Every record that implements the sealed interface {@code eventInterface}, through the generic rule
     * ({@link FeedCatalog#derivedType}, fields without the internal and big ones). {@code prefix} names
     * the entity ({@code proposal}); entries added with {@link #event} win over derived ones whatever
     * the order.
     */
    public Builder derived(Class<?> eventInterface, String prefix) {
      Class<?>[] permitted = eventInterface.getPermittedSubclasses();
      if (permitted == null) {
        throw new IllegalArgumentException(eventInterface.getSimpleName() + " is not a sealed interface");
      }
      for (Class<?> eventClass : permitted) {
        entries.putIfAbsent(eventClass, Entry.derived(eventClass, Optional.of(prefix)));
      }
      return this;
    }

    private void put(Class<?> eventClass, Entry<?> entry) {
      Entry<?> previous = entries.put(eventClass, entry);
      if (previous != null && !previous.derived) {
        throw new IllegalArgumentException(eventClass.getSimpleName() + " is in the feed catalog twice");
      }
    }

    public FeedCatalog build() {
      ObjectMapper mapper = new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
      return new FeedCatalog(mapper, entries);
    }
  }

  private static final class Entry<E> {
    final Class<E> eventClass;
    final List<String> types;
    final Function<E, String> typeOf;
    final Function<E, Map<String, Object>> data;
    final boolean derived;

    Entry(Class<E> eventClass, List<String> types, Function<E, String> typeOf, Function<E, Map<String, Object>> data) {
      this(eventClass, types, typeOf, data, false);
    }

    private Entry(Class<E> eventClass, List<String> types, Function<E, String> typeOf, Function<E, Map<String, Object>> data,
        boolean derived) {
      this.eventClass = eventClass;
      this.types = types;
      this.typeOf = typeOf;
      this.data = data;
      this.derived = derived;
    }

    static <E> Entry<E> derived(Class<E> eventClass, Optional<String> prefix) {
      String type = derivedType(eventClass.getSimpleName(), prefix);
      return new Entry<>(eventClass, List.of(type), e -> type, null, true);
    }

    String typeOf(Object event) {
      return typeOf.apply(eventClass.cast(event));
    }

    ObjectNode data(Object event, ObjectMapper mapper) {
      if (data != null) {
        return mapper.valueToTree(data.apply(eventClass.cast(event)));
      }
      JsonNode tree = mapper.valueToTree(event);
      ObjectNode object = tree instanceof ObjectNode o ? o : mapper.createObjectNode();
      INTERNAL_FIELDS.forEach(object::remove);
      List<String> omitted = new ArrayList<>();
      List<String> truncated = new ArrayList<>();
      trim(object, "", omitted, truncated);
      if (!omitted.isEmpty()) {
        object.set("omitted", mapper.valueToTree(omitted));
      }
      if (!truncated.isEmpty()) {
        object.set("truncated", mapper.valueToTree(truncated));
      }
      return object;
    }

    /** Leaves out long strings and cuts long lists, anywhere in the tree, noting their paths. */
    private static void trim(JsonNode node, String path, List<String> omitted, List<String> truncated) {
      if (node instanceof ObjectNode object) {
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          String fieldPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
          if (field.getValue().isTextual() && field.getValue().textValue().length() > MAX_TEXT) {
            omitted.add(fieldPath);
            fields.remove();
          } else {
            trim(field.getValue(), fieldPath, omitted, truncated);
          }
        }
      } else if (node instanceof ArrayNode array) {
        if (array.size() > MAX_LIST) {
          truncated.add(path);
          while (array.size() > MAX_LIST) {
            array.remove(array.size() - 1);
          }
        }
        for (int i = 0; i < array.size(); i++) {
          JsonNode element = array.get(i);
          if (element.isTextual() && element.textValue().length() > MAX_TEXT) {
            omitted.add(path + "[" + i + "]");
            array.set(i, (JsonNode) null);
          } else {
            trim(element, path + "[" + i + "]", omitted, truncated);
          }
        }
      }
    }
  }
}
