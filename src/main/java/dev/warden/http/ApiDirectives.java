package dev.warden.http;

import akka.http.javadsl.marshallers.jackson.Jackson;
import akka.http.javadsl.marshalling.Marshaller;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.serialization.jackson.JacksonObjectMapperProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import akka.actor.typed.ActorSystem;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/** Directives every resource's routes share: JSON in and out with Warden's mapper, body limits, roles. */
public abstract class ApiDirectives extends AllDirectives {

  private static final long BODY_READ_TIMEOUT_MS = 10_000;

  protected final ObjectMapper mapper;
  protected final ClientLimits limits;
  private final long maxBodyBytes;

  protected ApiDirectives(ActorSystem<?> system, long maxBodyBytes) {
    this.mapper = apiMapper(system);
    this.maxBodyBytes = maxBodyBytes;
    this.limits = ClientLimits.fromConfig(system.settings().config().getConfig("warden"));
  }

  /**
   * {@code value} of the free-text field {@code field} (a reason, a description, an answer) when it
   * is within {@code warden.http.max-text-bytes}; otherwise a 400 naming the field.
   */
  protected String limitedText(String field, String value) {
    return TextLimits.requireWithin(field, value, limits.maxTextBytes());
  }

  /** Akka's configured mapper (Instant, Optional, records), strict about unknown fields (serialization.conf). */
  public static ObjectMapper apiMapper(ActorSystem<?> system) {
    return JacksonObjectMapperProvider.get(system).getOrCreate("warden-api", Optional.empty());
  }

  protected <T> Marshaller<T, RequestEntity> json() {
    return Jackson.marshaller(mapper);
  }

  protected <T> Route completeJson(StatusCode status, T value) {
    return complete(status, value, json());
  }

  /**
   * Reads the whole body as text, failing with 413 past the configured limit and with 400 naming the
   * field when it is not valid UTF-8 (never decoded with replacement characters).
   */
  protected Route bodyText(Function<String, Route> inner) {
    return extractRequestEntity(entity -> extractMaterializer(materializer -> {
      if (entity.getContentLengthOption().orElse(0L) > maxBodyBytes) {
        throw tooLarge();
      }
      return onSuccess(entity.toStrict(BODY_READ_TIMEOUT_MS, maxBodyBytes, materializer),
            strict -> inner.apply(JsonFields.decodeUtf8(strict.getData().toArray())));
    }));
  }

  private Rejection tooLarge() {
    return Rejection.tooLarge("body", "the request body is larger than the limit of " + maxBodyBytes + " bytes");
  }

  /**
   * A whole-number query parameter between 0 and {@code max}; {@code fallback} when absent. A bad
   * value is a 400 naming the parameter.
   */
  protected static long numberParam(String name, Optional<String> value, long fallback, long max) {
    if (value.isEmpty()) {
      return fallback;
    }
    try {
      long parsed = Long.parseLong(value.get());
      if (parsed < 0 || parsed > max) {
        throw Rejection.invalid(name, "must be between 0 and " + max);
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw Rejection.invalid(name, "must be a whole number");
    }
  }

  /**
   * Whether a feature-bound caller may make a request to {@code pathAfterApi} (the path below
   * {@code /api}, such as {@code /v1/features/login-form/agent}): only to {@code /v1/features/{id}}
   * and below, for one of its features, and {@code /v1/whoami}. An unbound caller may reach everything (its role decides).
   */
  public static boolean reachable(Caller caller, String pathAfterApi) {
    if (!caller.isBound() || pathAfterApi.equals("/v1/whoami")) {
      return true; // whoami tells a bound token only about itself
    }
    String[] segments = pathAfterApi.split("/", -1);
    return segments.length >= 4 && segments[0].isEmpty() && segments[1].equals("v1") && segments[2].equals("features")
        && caller.features().contains(segments[3]);
  }

  /** The 403 a bound caller gets for anything outside its features. */
  public static akka.http.javadsl.model.HttpResponse boundRefusal(Caller caller) {
    return Problems.response(akka.http.javadsl.model.StatusCodes.FORBIDDEN, "token '" + caller.name() + "' is bound to feature(s) "
        + String.join(", ", new java.util.TreeSet<>(caller.features())) + ": it may reach only /api/v1/features/{id} of those", null);
  }

  /** Lets the request through only when the caller's role includes {@code required} (else 403). */
  protected Route requireRole(Caller caller, Role required, Supplier<Route> inner) {
    return authorize(() -> caller.role().includes(required), inner);
  }
}
