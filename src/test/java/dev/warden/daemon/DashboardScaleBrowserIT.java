package dev.warden.daemon;

import static dev.warden.testing.HeadlessChromium.consoleErrors;
import static dev.warden.testing.HeadlessChromium.js;
import static dev.warden.testing.HeadlessChromium.screenshot;
import static dev.warden.testing.HeadlessChromium.signIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.testing.FeedClient;
import dev.warden.testing.FeedProbe;
import dev.warden.testing.GitRepos;
import dev.warden.testing.HeadlessChromium;
import dev.warden.testing.RunningDaemon;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at the size the issue names, in a real headless Chromium (Debian's {@code chromium}
 * and {@code chromium-driver}, as {@link DashboardBrowserIT}): 200 real features, created through
 * {@code POST /api/v1/features} on four repositories, and 10,000 real events written through the
 * journal ({@link FeedProbe}) while a viewer has the page open, so the tab receives them over its
 * live feed as it would from busy agents. What a person would notice is asserted through the DOM:
 * the features list pages through all 200 and holds one page of rows; the feed page says it holds
 * 10,000 events but draws only the rows in view, the newest on top and the oldest held at the
 * bottom; the live column stays capped; and the page still answers clicks: a feature opens and its
 * page renders. Durations are printed, never asserted: the waits are generous guards against a
 * frozen page, not measurements. Without the browser the test is skipped, loudly.
 */
class DashboardScaleBrowserIT {

  /** Generous: the machine has two shared cores and is often busy with other builds. */
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static final int FEATURES = 200;
  private static final int REPOSITORIES = 4;
  /** Creating a feature makes a branch and a linked worktree under a per-repository lock: a few at once. */
  private static final int CREATORS = 4;
  private static final int EVENTS = 10_000;
  private static final int WRITERS = 4;
  /** Events per journal write: many writes, interleaved across the writers, as busy agents would make. */
  private static final int PER_WRITE = 50;
  /** The features list's default page size (features.js). */
  private static final int PAGE = 25;
  private static final String NOTE = "scale";

  @TempDir Path tmp;

  /** Per test, not per class: a skipped test then counts as skipped in the report, not as nothing run. */
  @BeforeEach
  void aBrowserIsInstalled() {
    HeadlessChromium.assumeInstalled("DashboardScaleBrowserIT", "The dashboard's scale");
  }

  @Test
  void twoHundredFeaturesAndTenThousandEventsKeepThePageSmallAndResponsive() throws Exception {
    long testStart = System.nanoTime();
    List<Path> repos = new ArrayList<>();
    for (int r = 0; r < REPOSITORIES; r++) {
      repos.add(GitRepos.create(tmp.resolve("repos/app-" + r)).toRealPath());
    }
    try (RunningDaemon daemon = RunningDaemon.start(RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true))
        .awaitReady()) {
      int port = daemon.daemon().httpAddress().getPort();
      ActorSystem<?> system = daemon.daemon().system();

      long createStart = System.nanoTime();
      List<String> ids = createFeatures(daemon, repos);
      long createMs = millisSince(createStart);
      JsonNode listed = daemon.get("/api/v1/features", RunningDaemon.VIEWER).json().get("features");
      assertEquals(FEATURES, listed.size(), "the API lists every feature created");

      WebDriver browser = HeadlessChromium.start(tmp.resolve("chromium-profile"), "chromedriver-scale.log");
      try {
        // parts of the page are redrawn as events arrive: look elements up again rather than fail on a stale one
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
        browser.get("http://127.0.0.1:" + port + "/");
        signIn(browser, wait, RunningDaemon.VIEWER);
        js(browser, "window.__wardenMarker = 'never reloaded'");
        wait.until(ExpectedConditions.textToBe(By.id("feature-count"), String.valueOf(FEATURES)));
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".pager span"), "1–" + PAGE + " of " + FEATURES));

        // ---- 10,000 events while the page is open on the features list ----
        // a second subscriber, attached like the page, witnesses what the feed sent (its offsets are the journal's)
        List<Long> witnessed = new ArrayList<>();
        long writeMs;
        long heldMs;
        try (FeedClient witness = FeedClient.connect(port, "batch=true", RunningDaemon.VIEWER)) {
          // a marker event: once both have it, both are surely attached to the live feed
          FeedProbe.write(system, FeedProbe.start(system, ids.get(0), 99, "marker"), 1);
          long marker = awaitEvent(witness, witnessed, e -> "marker".equals(e.at("/data/note").asText()), "the marker event");
          wait.until(d -> Boolean.TRUE.equals(js(d, "return window.warden.state.feed.offsets.has(" + marker + ")")));

          // the button a person is about to click; the page should not be rebuilt under it by events of features on other pages
          // (the writers' features were created first, so they are at the end of the list, newest first)
          List<String> firstPage = featureRows(browser);
          assertTrue(ids.subList(0, WRITERS).stream().noneMatch(firstPage::contains), "a writer's feature is on the first page: " + firstPage);
          js(browser, "window.__older = document.querySelector('.pager button:last-of-type')");
          long writeStart = System.nanoTime();
          writeEvents(system, ids.subList(0, WRITERS));
          writeMs = millisSince(writeStart);
          long heldStart = System.nanoTime();
          wait.until(d -> Boolean.TRUE.equals(js(d, "return window.warden.state.feed.events.filter((e) => e.data && e.data.note === '"
              + NOTE + "').length === " + EVENTS)));
          heldMs = millisSince(heldStart);
          int[] probes = {0};
          awaitEvent(witness, witnessed, e -> NOTE.equals(e.at("/data/note").asText()) && ++probes[0] == EVENTS, "all the events");
          // anything else the feed sent after them (nothing is expected: no agent is connected)
          for (JsonNode more = witness.poll(1_000); more != null && more != FeedClient.CLOSED; more = witness.poll(1_000)) {
            if (more.has("offset")) {
              witnessed.add(more.get("offset").asLong());
            }
          }
        }
        long newest = witnessed.stream().max(Comparator.naturalOrder()).orElseThrow();
        long oldestHeld = witnessed.stream().sorted(Comparator.reverseOrder()).skip(EVENTS - 1).findFirst().orElseThrow();
        wait.until(d -> Boolean.TRUE.equals(js(d, "const f = window.warden.state.feed; return f.size === " + EVENTS
            + " && f.newest === " + newest)));
        // none of the events was about a feature on this page: it was not redrawn for them
        assertEquals(Boolean.TRUE, js(browser, "return document.querySelector('.pager button:last-of-type') === window.__older"),
            "the features list was redrawn for events of features on another page");
        assertEquals(oldestHeld, ((Number) js(browser, "return window.warden.state.feed.oldest")).longValue(),
            "the tab keeps the newest 10,000 events the feed sent");

        // ---- the features list: 200 features, one page at a time ----
        wait.until(ExpectedConditions.textToBe(By.id("feature-count"), String.valueOf(FEATURES)));
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".status-summary"), Pattern.compile("^" + FEATURES + " feature\\(s\\)")));
        Set<String> seen = new LinkedHashSet<>();
        List<String> lastPage = List.of();
        int pages = (FEATURES + PAGE - 1) / PAGE;
        for (int page = 0; page < pages; page++) {
          int from = page * PAGE + 1;
          int to = Math.min(FEATURES, (page + 1) * PAGE);
          wait.until(ExpectedConditions.textToBe(By.cssSelector(".pager span"), from + "–" + to + " of " + FEATURES));
          List<String> shown = featureRows(browser);
          assertEquals(to - from + 1, shown.size(), "rows on page " + (page + 1) + ": " + shown);
          for (String id : shown) {
            assertTrue(seen.add(id), id + " shows on two pages");
          }
          if (page == 0) {
            screenshot(browser, "dashboard-scale-features.png");
          }
          WebElement older = browser.findElement(By.xpath("//div[@class='pager']/button[last()]"));
          if (page == pages - 1) {
            assertTrue(!older.isEnabled(), "Older is disabled on the last page");
            lastPage = shown;
          } else {
            older.click();
          }
        }
        assertEquals(new TreeSet<>(ids), new TreeSet<>(seen), "the pages together show every feature once");
        assertEquals(FEATURES, seen.size());
        // the first page again, and a feature of the last page found by its id
        for (int page = pages - 1; page > 0; page--) {
          browser.findElement(By.xpath("//div[@class='pager']/button[1]")).click();
          wait.until(ExpectedConditions.textMatches(By.cssSelector(".pager span"), Pattern.compile("^" + ((page - 1) * PAGE + 1) + "–")));
        }
        String wanted = lastPage.get(lastPage.size() - 1);
        assertTrue(!featureRows(browser).contains(wanted), wanted + " is not on the first page");
        browser.findElement(By.id("feature-search")).sendKeys(wanted);
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".pager span"), "1–1 of 1"));
        assertEquals(List.of(wanted), featureRows(browser));

        // ---- the feed page: says 10,000, draws a screenful ----
        browser.findElement(By.cssSelector("nav a[data-nav='feed']")).click();
        wait.until(ExpectedConditions.textMatches(By.id("feed-status"), Pattern.compile("^10\\D?000 event\\(s\\);")));
        wait.until(ExpectedConditions.attributeToBe(By.cssSelector(".feed-list .vrow"), "data-offset", String.valueOf(newest)));
        long drawn = count(browser, ".feed-list .vrow");
        long elements = count(browser, "*");
        assertTrue(drawn > 10 && drawn < 200, drawn + " feed rows in the DOM for 10,000 events");
        assertTrue(elements < 3_000, elements + " elements in the whole page");
        assertTrue(count(browser, "#live-list li") <= 40, "the live column is capped at 40 rows");
        WebElement topRow = browser.findElement(By.cssSelector(".feed-list .vrow"));
        assertEquals("probe.noted", topRow.getAttribute("data-type"));
        // a type the page has no words for still says what it holds
        assertTrue(topRow.getText().contains("note " + NOTE), "the row's summary: " + topRow.getText());
        screenshot(browser, "dashboard-scale-feed.png");
        // scrolled to the end: the oldest event held, still a screenful of rows
        js(browser, "const l = document.querySelector('.feed-list'); l.scrollTop = l.scrollHeight;");
        wait.until(ExpectedConditions.attributeToBe(By.cssSelector(".feed-list .vrow:last-child"), "data-offset", String.valueOf(oldestHeld)));
        drawn = count(browser, ".feed-list .vrow");
        assertTrue(drawn > 10 && drawn < 200, drawn + " feed rows in the DOM at the bottom");
        // and back to the top
        js(browser, "document.querySelector('.feed-list').scrollTop = 0;");
        wait.until(ExpectedConditions.attributeToBe(By.cssSelector(".feed-list .vrow:first-child"), "data-offset", String.valueOf(newest)));

        // ---- still answers clicks: a feature from the feed opens its page ----
        WebElement link = browser.findElement(By.cssSelector(".feed-list .vrow:first-child a.feature-link"));
        String busy = link.getText();
        assertTrue(ids.subList(0, WRITERS).contains(busy), "the newest event is one of the writers': " + busy);
        link.click();
        featurePageRenders(browser, wait, daemon, busy);
        long activity = count(browser, ".feature-page .activity li.feed-row");
        assertTrue(activity > 0 && activity <= 100, activity + " activity rows (the page shows at most the newest 100)");
        assertEquals("probe.noted", browser.findElement(By.cssSelector(".feature-page .activity li.feed-row")).getAttribute("data-type"));

        // and one from the last page of the list, through the list's search
        browser.findElement(By.cssSelector("nav a[data-nav='features']")).click();
        WebElement search = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("feature-search")));
        search.clear();
        search.sendKeys(wanted);
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".pager span"), "1–1 of 1"));
        browser.findElement(By.cssSelector("#features-table tr[data-id='" + wanted + "'] a.feature-link")).click();
        featurePageRenders(browser, wait, daemon, wanted);

        assertEquals("never reloaded", js(browser, "return window.__wardenMarker"), "the page was reloaded");
        List<String> errors = consoleErrors(browser, message -> false);
        assertTrue(errors.isEmpty(), "the browser console shows errors: " + errors);
        System.out.printf("dashboard scale IT: %d features created in %d ms (%d threads, %d repositories); %d events written in %d ms"
                + " (%d writers); the tab had them all %d ms after the last write; %d feed rows and %d elements in the page; test took %d ms%n",
            FEATURES, createMs, CREATORS, REPOSITORIES, EVENTS, writeMs, WRITERS, heldMs, drawn, elements, millisSince(testStart));
      } catch (AssertionError | RuntimeException e) {
        screenshot(browser, "dashboard-scale-failure.png");
        System.err.println("browser console: " + consoleErrors(browser, message -> false));
        throw e;
      } finally {
        browser.quit();
      }
    }
  }

  /** 200 features through the API, a few at a time, spread over the repositories; their ids. */
  private static List<String> createFeatures(RunningDaemon daemon, List<Path> repos) throws Exception {
    List<String> ids = IntStream.range(0, FEATURES).mapToObj(i -> String.format("scale-%03d", i)).toList();
    ExecutorService creators = Executors.newFixedThreadPool(CREATORS);
    try {
      List<Future<?>> created = new ArrayList<>();
      for (int i = 0; i < FEATURES; i++) {
        String id = ids.get(i);
        Path repo = repos.get(i % repos.size());
        created.add(creators.submit(() -> {
          RunningDaemon.Response response = daemon.post("/api/v1/features", RunningDaemon.AGENT,
              "{\"id\":\"" + id + "\",\"repo\":\"" + repo + "\",\"target\":\"main\"}");
          assertEquals(201, response.status(), id + ": " + response.body());
          return null;
        }));
      }
      for (Future<?> f : created) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      creators.shutdownNow();
    }
    return ids;
  }

  /** {@link #EVENTS} events from {@link #WRITERS} writers at once, each writer on its own feature. */
  private static void writeEvents(ActorSystem<?> system, List<String> features) throws Exception {
    ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> writing = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        ActorRef<FeedProbe.Write> probe = FeedProbe.start(system, features.get(w), w, NOTE);
        writing.add(writers.submit(() -> {
          for (int written = 0; written < EVENTS / WRITERS; written += PER_WRITE) {
            FeedProbe.write(system, probe, PER_WRITE);
          }
          return null;
        }));
      }
      for (Future<?> w : writing) {
        w.get(5, TimeUnit.MINUTES);
      }
    } finally {
      writers.shutdownNow();
    }
  }

  /** Reads the witness's events (recording every offset) until one matches; its offset. */
  private static long awaitEvent(FeedClient client, List<Long> offsets, java.util.function.Predicate<JsonNode> wanted, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos() * 2;
    while (System.nanoTime() < deadline) {
      JsonNode message = client.poll(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      assertNotNull(message, "no " + what + " in time");
      assertTrue(message != FeedClient.CLOSED, "the feed closed before " + what);
      if (!message.has("offset")) {
        assertTrue(!"lagged".equals(message.path("type").asText()), "the witness fell behind: " + message);
        continue;
      }
      offsets.add(message.get("offset").asLong());
      if (wanted.test(message)) {
        return message.get("offset").asLong();
      }
    }
    throw new AssertionError("no " + what + " in time");
  }

  /** The feature's page is on screen: its heading, the status the API gives, the checkpoint timeline read. */
  private static void featurePageRenders(WebDriver browser, WebDriverWait wait, RunningDaemon daemon, String id) {
    wait.until(ExpectedConditions.textMatches(By.cssSelector(".feature-page h1"), Pattern.compile("^" + Pattern.quote(id) + "\\b")));
    String status = daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json().get("status").asText();
    wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), status));
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".feature-page .timeline tr[data-seq='0']")));
    assertEquals("#/features/" + id, js(browser, "return location.hash"));
  }

  private static List<String> featureRows(WebDriver browser) {
    @SuppressWarnings("unchecked")
    List<String> ids = (List<String>) js(browser,
        "return [...document.querySelectorAll('#features-table tbody tr[data-id]')].map((r) => r.dataset.id)");
    return ids;
  }

  private static long count(WebDriver browser, String selector) {
    return ((Number) ((JavascriptExecutor) browser).executeScript("return document.querySelectorAll(arguments[0]).length", selector))
        .longValue();
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }
}
