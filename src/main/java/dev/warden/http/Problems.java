package dev.warden.http;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.headers.CacheControl;
import akka.http.javadsl.model.headers.CacheDirectives;
import akka.http.javadsl.model.headers.RawHeader;
import java.util.List;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.Rejection;
import java.nio.charset.StandardCharsets;

/**
 * Error responses as RFC 9457 {@code application/problem+json}: {@code type}, {@code title},
 * {@code status}, {@code detail}, and {@code field} when one input field is to blame; never cached,
 * never sniffed.
 */
public final class Problems {

  public static final ContentType PROBLEM_JSON =
      MediaTypes.applicationWithFixedCharset("problem+json", akka.http.javadsl.model.HttpCharsets.UTF_8).toContentType();

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Problems() {}

  public static HttpResponse response(StatusCode status, String detail, String field) {
    return response(status, detail, field, java.util.Map.of(), MAPPER);
  }

  /** A problem with extension members (e.g. the violations that made a patch invalid), written with {@code mapper}. */
  public static HttpResponse response(StatusCode status, String detail, String field, java.util.Map<String, Object> extensions,
      ObjectMapper mapper) {
    ObjectNode body = mapper.createObjectNode();
    body.put("type", "about:blank");
    body.put("title", status.reason());
    body.put("status", status.intValue());
    body.put("detail", detail);
    if (field != null) {
      body.put("field", field);
    }
    extensions.forEach((key, value) -> body.set(key, mapper.valueToTree(value)));
    byte[] bytes;
    try {
      bytes = mapper.writeValueAsBytes(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      bytes = ("{\"status\":" + status.intValue() + "}").getBytes(StandardCharsets.UTF_8);
    }
    return safe(HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(PROBLEM_JSON, bytes)));
  }

  /** {@code Cache-Control: no-store} (an answer is about this moment and may carry secrets) on API responses and every error. */
  public static final HttpHeader NO_STORE = CacheControl.create(CacheDirectives.NO_STORE);

  /** {@code X-Content-Type-Options: nosniff}: a browser takes the declared type, never guesses (no JSON run as a script). */
  public static final HttpHeader NOSNIFF = RawHeader.create("X-Content-Type-Options", "nosniff");

  /** {@code response} with {@link #NO_STORE} and {@link #NOSNIFF}, each added unless already there. */
  static HttpResponse safe(HttpResponse response) {
    HttpResponse out = response;
    for (HttpHeader header : List.of(NO_STORE, NOSNIFF)) {
      if (out.getHeader(header.name()).isEmpty()) {
        out = out.addHeader(header);
      }
    }
    return out;
  }

  public static HttpResponse of(Rejection rejection) {
    return response(statusOf(rejection.kind()), rejection.getMessage(), rejection.field().orElse(null), rejection.details(), MAPPER);
  }

  static StatusCode statusOf(Rejection.Kind kind) {
    return switch (kind) {
      case INVALID -> StatusCodes.BAD_REQUEST;
      case NOT_FOUND -> StatusCodes.NOT_FOUND;
      case CONFLICT -> StatusCodes.CONFLICT;
      case UNPROCESSABLE -> StatusCodes.UNPROCESSABLE_ENTITY;
      case TOO_LARGE -> StatusCodes.PAYLOAD_TOO_LARGE;
      case FORBIDDEN -> StatusCodes.FORBIDDEN;
    };
  }

  /** Turns one of Akka HTTP's plain-text rejection responses into a problem, keeping status and text. */
  static HttpResponse fromPlainResponse(HttpResponse response) {
    if (response.entity().getContentType().equals(PROBLEM_JSON)) {
      return response;
    }
    String text = "";
    if (response.entity() instanceof akka.http.javadsl.model.HttpEntity.Strict strict) {
      text = strict.getData().utf8String();
    }
    HttpResponse problem = response(response.status(), text.isBlank() ? response.status().reason() : text, null);
    return safe(response.withEntity(problem.entity()));
  }
}
