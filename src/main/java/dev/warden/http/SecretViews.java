package dev.warden.http;

import static akka.http.javadsl.server.Directives.complete;
import static akka.http.javadsl.server.Directives.extractUri;
import static akka.http.javadsl.server.Directives.parameterOptional;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.CacheControl;
import akka.http.javadsl.model.headers.CacheDirectives;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.Route;
import dev.warden.Rejection;
import dev.warden.auth.Caller;
import dev.warden.auth.Role;
import dev.warden.secrets.SecretMasker;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every response that carries file content or diff lines shows secrets: masked
 * ({@link SecretMasker}) with the header {@value #MASKED_HEADER}{@code : N} (N secrets masked, 0 when
 * none was found), or — with {@code ?raw=true}, for an approver or admin token only — as they are,
 * with {@value #RAW_HEADER}{@code : N} (N secrets left in) and {@code Cache-Control: no-store}. A
 * viewer's or agent's {@code ?raw=true} is a 403 naming {@code raw}; every raw read is logged with the
 * token's name. Check and test output, which may print a file, is always masked (the validation routes do it).
 */
public final class SecretViews {

  public static final String MASKED_HEADER = "Warden-Secrets-Masked";
  public static final String RAW_HEADER = "Warden-Secrets-Raw";

  private static final Logger log = LoggerFactory.getLogger(SecretViews.class);

  private SecretViews() {}

  /** A diff or file content as this caller may read it, and the headers that say which. */
  public record View(String text, List<HttpHeader> headers) {
    /** The view as a {@code text/plain; charset=UTF-8} response. */
    public HttpResponse plainText() {
      return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, text)).addHeaders(headers);
    }
  }

  /**
   * Reads {@code ?raw=} ({@code true} or {@code false}, default false): false, or true for an approver
   * or admin, goes on to {@code inner}; true for a weaker role is 403 naming {@code raw}; anything
   * else 400 naming {@code raw}.
   */
  public static Route rawParameter(Caller caller, Function<Boolean, Route> inner) {
    return parameterOptional("raw", value -> {
      boolean raw = parse(value);
      if (!raw) {
        return inner.apply(false);
      }
      if (!caller.role().includes(Role.APPROVER)) {
        return complete(Problems.response(StatusCodes.FORBIDDEN, "raw=true shows secrets unmasked: it needs an approver or admin"
            + " token, and this one is a " + caller.role().label() + " token (leave raw out to read the masked view)", "raw"));
      }
      return extractUri(uri -> {
        log.info("{} ({}) read {} raw: secrets unmasked", caller.name(), caller.role().label(), uri.path());
        return inner.apply(true);
      });
    });
  }

  private static boolean parse(Optional<String> value) {
    if (value.isEmpty() || value.get().equals("false")) {
      return false;
    }
    if (value.get().equals("true")) {
      return true;
    }
    throw Rejection.invalid("raw", "must be true or false");
  }

  /** A unified diff as the caller reads it: masked unless {@code raw}. */
  public static View diff(String diff, boolean raw) {
    return view(SecretMasker.diff(diff), diff, raw);
  }

  /** A file's content as the caller reads it: masked unless {@code raw}. */
  public static View content(String content, boolean raw) {
    return view(SecretMasker.content(content), content, raw);
  }

  private static View view(SecretMasker.Masked masked, String original, boolean raw) {
    if (raw) {
      return new View(original, List.of(RawHeader.create(RAW_HEADER, Integer.toString(masked.secrets())),
          CacheControl.create(CacheDirectives.NO_STORE)));
    }
    return new View(masked.text(), List.of(RawHeader.create(MASKED_HEADER, Integer.toString(masked.secrets()))));
  }
}
