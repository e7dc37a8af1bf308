package dev.warden.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which web pages may open Warden's WebSockets: its own address, and the configured origins, nothing else. */
class OriginGuardTest {

  private static OriginGuard guard(List<String> allowed, String host, int port) {
    OriginGuard guard = OriginGuard.fromConfig(ConfigFactory.empty()
        .withValue("http.allowed-origins", ConfigValueFactory.fromIterable(allowed)));
    guard.bound(new InetSocketAddress(host, port));
    return guard;
  }

  @Test
  void boundToLoopbackItsOwnPagesAreAllowedUnderEitherName() {
    OriginGuard guard = guard(List.of(), "127.0.0.1", 8420);
    assertTrue(guard.allowed("http://127.0.0.1:8420"));
    assertTrue(guard.allowed("http://localhost:8420"));
    assertTrue(guard.allowed("http://LOCALHOST:8420/"));
    assertTrue(guard.allowed("http://[::1]:8420"));
  }

  @Test
  void anyOtherPageIsRefused() {
    OriginGuard guard = guard(List.of(), "127.0.0.1", 8420);
    for (String origin : List.of("http://evil.example", "http://127.0.0.1:8421", "http://127.0.0.1", "https://localhost",
        "http://localhost.evil.example:8420", "http://127.0.0.1.nip.io:8420", "null", "", "file://", "ws://127.0.0.1:8420",
        "http://user@127.0.0.1:8420", "http://10.1.2.3:8420", "not a url")) {
      assertFalse(guard.allowed(origin), origin);
    }
  }

  @Test
  void boundToOneAddressOnlyThatAddressIsOwn() {
    OriginGuard guard = guard(List.of(), "127.0.0.1", 9000);
    guard.bound(new InetSocketAddress("127.0.0.2", 9000));
    assertTrue(guard.allowed("http://127.0.0.2:9000"));
    assertTrue(guard.allowed("http://localhost:9000"), "127.0.0.2 is loopback");
  }

  @Test
  void configuredOriginsAreAllowedWithTheirDefaultPorts() {
    OriginGuard guard = guard(List.of("https://warden.example.com", "http://10.0.0.5:8080"), "127.0.0.1", 8420);
    assertTrue(guard.allowed("https://warden.example.com"));
    assertTrue(guard.allowed("https://warden.example.com:443"));
    assertTrue(guard.allowed("http://10.0.0.5:8080"));
    assertFalse(guard.allowed("http://warden.example.com"));
    assertFalse(guard.allowed("https://warden.example.com:8443"));
  }

  @Test
  void aBadConfiguredOriginStopsStartupNamingTheKey() {
    ConfigException bad = assertThrows(ConfigException.class, () -> guard(List.of("warden.example.com"), "127.0.0.1", 1));
    assertTrue(bad.getMessage().contains("warden.http.allowed-origins"), bad.getMessage());
  }

  @Test
  void beforeTheBindEveryPageIsRefused() {
    OriginGuard guard = OriginGuard.fromConfig(ConfigFactory.parseString("http.allowed-origins = []"));
    assertFalse(guard.allowed("http://127.0.0.1:8420"));
    assertEquals(java.util.Optional.of("http://a:80"), OriginGuard.normalize("http://A"));
  }
}
