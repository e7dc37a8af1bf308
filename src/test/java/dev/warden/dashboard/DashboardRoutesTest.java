package dev.warden.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.ServerBinding;
import com.typesafe.config.ConfigFactory;
import dev.warden.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dashboard's files as a browser gets them: types, caching, no token, nothing outside its folder. */
class DashboardRoutesTest {

  private static ActorSystem<Void> system;
  private static String base;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void serve() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "dashboard-test", ConfigFactory.parseString("akka.actor.provider = local")
        .withFallback(ConfigFactory.load()));
    ServerBinding binding = HttpServer.start(system, "127.0.0.1", 0, new DashboardRoutes().route()).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElse("");
  }

  @Test
  void thePageIsServedAtTheRootWithoutATokenAndRevalidatedEveryTime() throws Exception {
    HttpResponse<String> page = get("/");
    assertEquals(200, page.statusCode(), page.body());
    assertEquals("text/html; charset=UTF-8", header(page, "Content-Type"));
    assertTrue(page.body().contains("<script type=\"module\" src=\"/dashboard/app.js\"></script>"), page.body());
    assertEquals("no-cache", header(page, "Cache-Control"));
    assertEquals("nosniff", header(page, "X-Content-Type-Options"));
    assertTrue(header(page, "Content-Security-Policy").contains("script-src 'self'"), header(page, "Content-Security-Policy"));
    String etag = header(page, "ETag");
    assertFalse(etag.isEmpty(), "an ETag to revalidate with");

    HttpResponse<String> again = get("/", "If-None-Match", etag);
    assertEquals(304, again.statusCode(), "unchanged: not sent again");
    assertEquals(page.body(), get("/dashboard/").body(), "/dashboard/ is the same page");
  }

  @Test
  void everyModuleThePageLoadsIsThereWithItsType() throws Exception {
    // follow the imports from app.js: a file missing from the jar would leave a blank page
    Deque<String> todo = new ArrayDeque<>(Set.of("app.js"));
    Set<String> seen = new HashSet<>();
    Pattern imports = Pattern.compile("from '\\./([a-z0-9-]+\\.js)'");
    while (!todo.isEmpty()) {
      String file = todo.pop();
      if (!seen.add(file)) {
        continue;
      }
      HttpResponse<String> module = get("/dashboard/" + file);
      assertEquals(200, module.statusCode(), file);
      assertEquals("text/javascript; charset=UTF-8", header(module, "Content-Type"), file);
      Matcher m = imports.matcher(module.body());
      while (m.find()) {
        todo.push(m.group(1));
      }
    }
    assertTrue(seen.containsAll(Set.of("app.js", "api.js", "dom.js", "diff.js", "feed.js", "state.js", "vlist.js")), seen.toString());
    HttpResponse<String> css = get("/dashboard/style.css");
    assertEquals(200, css.statusCode());
    assertEquals("text/css; charset=UTF-8", header(css, "Content-Type"));
  }

  @Test
  void nothingOutsideTheDashboardFolderIsReachable() throws Exception {
    for (String path : new String[] {"/dashboard/nope.js", "/dashboard/../application.conf", "/dashboard/..%2Fapplication.conf",
        "/dashboard/%2e%2e/application.conf", "/dashboard/App.js", "/dashboard/logback.xml", "/application.conf", "/index.html"}) {
      assertEquals(404, get(path).statusCode(), path);
    }
  }

  @Test
  void onlyGetIsAnswered() throws Exception {
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(405, post.statusCode());
  }
}
