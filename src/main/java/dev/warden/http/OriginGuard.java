package dev.warden.http;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Refuses a WebSocket opened by a web page that is not Warden's own (cross-site WebSocket hijacking):
 * a request with an {@code Origin} header is let through only when that origin is the daemon's own
 * address (its bound host and port; {@code localhost} too when bound to loopback; any of the
 * machine's addresses when bound to all interfaces) or one listed in {@code warden.http.allowed-origins}.
 * Without {@code Origin} (the CLI, agents, scripts: no browser) it is let through. Host names are
 * compared as written, never looked up, so a name rebound to 127.0.0.1 gains nothing.
 */
public final class OriginGuard extends AllDirectives {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final Set<String> configured;
  private volatile InetSocketAddress bound;

  private OriginGuard(Set<String> configured) {
    this.configured = Set.copyOf(configured);
  }

  /** Reads {@code warden.http.allowed-origins} ({@code scheme://host[:port]} each) from the {@code warden} subtree. */
  public static OriginGuard fromConfig(Config warden) {
    Set<String> origins = new LinkedHashSet<>();
    for (String origin : warden.getStringList("http.allowed-origins")) {
      origins.add(normalize(origin).orElseThrow(() -> new ConfigException.BadValue("warden.http.allowed-origins",
          "'" + origin + "' is not an origin (scheme://host[:port], http or https)")));
    }
    return new OriginGuard(origins);
  }

  /** The address the daemon listens on, once bound; until then every browser origin is refused. */
  public void bound(InetSocketAddress address) {
    this.bound = address;
  }

  /** {@code inner} when the request has no {@code Origin} or an allowed one; else 403 problem+json. */
  public Route check(Supplier<Route> inner) {
    return optionalHeaderValueByName("Origin", origin -> origin.isEmpty() || allowed(origin.get())
        ? inner.get()
        : complete(Problems.response(StatusCodes.FORBIDDEN, "a WebSocket from the web page at " + JsonFields.printable(origin.get())
            + " is refused: only Warden's own pages may connect from a browser (other origins: warden.http.allowed-origins)",
            "Origin")));
  }

  boolean allowed(String origin) {
    Optional<String> normalized = normalize(origin);
    if (normalized.isEmpty()) {
      return false; // "null" (a sandboxed or file: page), or no origin at all
    }
    if (configured.contains(normalized.get())) {
      return true;
    }
    InetSocketAddress own = bound;
    if (own == null) {
      return false;
    }
    URI uri = URI.create(normalized.get());
    if (uri.getPort() != own.getPort()) {
      return false;
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    InetAddress ownAddress = own.getAddress();
    if (host.equals("localhost")) {
      return ownAddress.isLoopbackAddress() || ownAddress.isAnyLocalAddress();
    }
    Optional<InetAddress> literal = literal(host);
    if (literal.isEmpty()) {
      return false;
    }
    if (ownAddress.isAnyLocalAddress()) {
      return isLocal(literal.get());
    }
    return literal.get().equals(ownAddress) || ownAddress.isLoopbackAddress() && literal.get().isLoopbackAddress();
  }

  /** {@code scheme://host:port} with the scheme's default port made explicit; empty when not an http(s) origin. */
  static Optional<String> normalize(String origin) {
    try {
      URI uri = new URI(origin.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null
          || uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")
          || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
        return Optional.empty();
      }
      int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
      return Optional.of(scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
  }

  /** The address an IP literal names (IPv4, or IPv6 in brackets); empty for a name, which is never resolved. */
  private static Optional<InetAddress> literal(String host) {
    boolean v6 = host.startsWith("[") && host.endsWith("]");
    if (!v6 && !IPV4.matcher(host).matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByName(v6 ? host.substring(1, host.length() - 1) : host));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  private static boolean isLocal(InetAddress address) {
    if (address.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}
