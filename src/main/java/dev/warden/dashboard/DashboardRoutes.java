package dev.warden.dashboard;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.EntityTag;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The dashboard's static files: {@code GET /} is its page, {@code GET /dashboard/<file>} its scripts
 * and styles, read from {@code dashboard/} on the classpath (inside the jar). No token is needed for
 * them; the page asks the person for one and sends it with every API call.
 *
 * <p>Files carry no version in their names (there is no build step), so every answer says
 * {@code Cache-Control: no-cache} with a content-hash {@code ETag}: a browser revalidates each time
 * and gets a 304 while the jar is the same, and the new file right after an upgrade. The page's
 * Content-Security-Policy allows only its own scripts and styles and connections to this origin, a
 * second line of defence behind the page's rule of never parsing what the API says as HTML.
 */
public final class DashboardRoutes extends AllDirectives {

  private static final String ROOT = "dashboard/";
  /** Lower-case names in lower-case folders: nothing else is ever looked up (no "..", no odd bytes). */
  private static final Pattern FILE = Pattern.compile("([a-z0-9][a-z0-9-]*/)*[a-z0-9][a-z0-9._-]*\\.(html|js|css|svg)");
  private static final Map<String, ContentType> TYPES = Map.of(
      "html", ContentTypes.TEXT_HTML_UTF8,
      "js", ContentTypes.parse("text/javascript; charset=UTF-8"),
      "css", ContentTypes.parse("text/css; charset=UTF-8"),
      "svg", ContentTypes.parse("image/svg+xml"));
  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final List<HttpHeader> HEADERS = List.of(
      RawHeader.create("Cache-Control", "no-cache"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"),
      RawHeader.create("X-Frame-Options", "DENY"),
      RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY));

  /** A file as served: bytes, type and the tag of its content. */
  private record Asset(byte[] bytes, ContentType type, EntityTag tag) {}

  private final ClassLoader loader;
  /** Read on first request and kept: a few small files that never change while the daemon runs. */
  private final Map<String, Optional<Asset>> assets = new ConcurrentHashMap<>();

  public DashboardRoutes() {
    this(DashboardRoutes.class.getClassLoader());
  }

  DashboardRoutes(ClassLoader loader) {
    this.loader = loader;
  }

  public Route route() {
    return get(() -> concat(
        pathSingleSlash(() -> serve("index.html")),
        pathPrefix("dashboard", () -> concat(
            pathEndOrSingleSlash(() -> serve("index.html")),
            extractUnmatchedPath(rest -> rest.startsWith("/") ? serve(rest.substring(1)) : reject())))));
  }

  private Route serve(String name) {
    Optional<Asset> asset = FILE.matcher(name).matches() ? assets.computeIfAbsent(name, this::load) : Optional.empty();
    return asset.map(a -> respondWithHeaders(HEADERS, () -> conditional(a.tag(), () ->
            complete(HttpResponse.create().withEntity(HttpEntities.create(a.type(), a.bytes()))))))
        .orElseGet(this::reject);
  }

  private Optional<Asset> load(String name) {
    try (InputStream in = loader.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        return Optional.empty();
      }
      byte[] bytes = in.readAllBytes();
      String extension = name.substring(name.lastIndexOf('.') + 1);
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 32);
      return Optional.of(new Asset(bytes, TYPES.get(extension), EntityTag.create(hash, false)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the dashboard file " + name, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
