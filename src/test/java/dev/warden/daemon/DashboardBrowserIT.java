package dev.warden.daemon;

import static dev.warden.testing.HeadlessChromium.consoleErrors;
import static dev.warden.testing.HeadlessChromium.js;
import static dev.warden.testing.HeadlessChromium.screenshot;
import static dev.warden.testing.HeadlessChromium.signIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.GitRepos;
import dev.warden.testing.HeadlessChromium;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Collectors;
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
import org.openqa.selenium.support.Color;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver};
 * Selenium is pointed at both, so it never looks for or downloads a browser or driver). A scripted
 * agent proposes work on a high-tier path; a person opens the dashboard, tries to approve with a
 * viewer token (403, shown on the card), switches to an approver token, finds the proposal in the
 * queue, reads its diff, approves, and watches the proposal land, the feed say so and the feature
 * become applied — all without the page reloading. The agent's file name and description are
 * hostile HTML, which must show as text and never run. Without the browser the test is skipped,
 * loudly.
 */
class DashboardBrowserIT {

  /** Debian's paths; the properties exist to try the skip (-Dwarden.test.chromium=/nonexistent). */
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Agent-controlled text that would run script if the page ever parsed it as HTML. */
  private static final String HOSTILE_FILE = "src/<img src=x onerror=window.pwned=1>.txt";
  private static final String HOSTILE_DESCRIPTION = "Fix login <script>window.pwned=2</script><b onmouseover=window.pwned=3>now</b>";

  @TempDir Path tmp;

  /** Per test, not per class: a skipped test then counts as skipped in the report, not as nothing run. */
  @BeforeEach
  void aBrowserIsInstalled() {
    HeadlessChromium.assumeInstalled("DashboardBrowserIT", "The dashboard");
  }

  @Test
  void anApproverApprovesFromTheQueueAndWatchesItLandWithoutAReload() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other"); // the user is elsewhere, so Warden may move main
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, """
        rules = [ { paths = "src/**", tier = high } ]
        tiers { high { approvers = 1 } }
        """);
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()));
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      int port = daemon.daemon().httpAddress().getPort();
      Path worktree = Path.of(ApprovalFlowContract.create(daemon, repo, "login-fix", null));
      ApprovalFlowContract.create(daemon, repo, "docs-tidy", null);
      Files.createDirectories(worktree.resolve("src"));
      Files.writeString(worktree.resolve("src/Login.java"), """
          class Login {
            boolean checkPassword(String given) { return given != null && given.equals(stored); }
          }
          """);
      Files.writeString(worktree.resolve(HOSTILE_FILE), "not an image\n");
      try (ScriptedAgent agent = ScriptedAgent.connect(port, "login-fix", RunningDaemon.AGENT).hello()) {
        agent.send("{\"type\":\"propose\",\"description\":\"" + HOSTILE_DESCRIPTION + "\"}");
        agent.expect(m -> m.path("text").asText().startsWith("proposal login-fix.1"), 30, "the proposal's answer");
      }
      assertEquals("proposed", ApprovalFlowContract.proposal(daemon, "login-fix.1").get("status").asText());

      WebDriver browser = HeadlessChromium.start(tmp.resolve("chromium-profile"), "chromedriver.log");
      try {
        // the live parts of the page are redrawn as events arrive: look elements up again rather than fail on a stale one
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
        browser.get("http://127.0.0.1:" + port + "/");
        signIn(browser, wait, RunningDaemon.VIEWER);
        js(browser, "window.__wardenMarker = 'never reloaded'");

        // the features list: both features, the proposed one with its status; the badge counts one
        WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#features-table tr[data-id='login-fix']")));
        assertEquals("proposed", row.findElement(By.cssSelector("td.status")).getText());
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#features-table tr[data-id='docs-tidy']")));
        wait.until(ExpectedConditions.textToBe(By.id("pending-badge"), "1"));

        // a viewer may look but not approve: the button is disabled and says why (its role, read from whoami);
        // if the page let it through anyway, the API's 403 would be on the card
        browser.findElement(By.id("nav-approvals")).click();
        WebElement card = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article.approval[data-id='login-fix.1']")));
        WebElement viewerApprove = card.findElement(By.cssSelector("button.approve"));
        assertFalse(viewerApprove.isEnabled(), "a viewer's Approve button is enabled");
        assertEquals("needs an approver token; this one (dashboard) is a viewer", viewerApprove.getAttribute("title"));
        js(browser, "document.querySelector(\"article.approval[data-id='login-fix.1'] button.approve\").disabled = false");
        card.findElement(By.cssSelector("button.approve")).click();
        wait.until(ExpectedConditions.textMatches(By.cssSelector("article.approval[data-id='login-fix.1'] .error"),
            java.util.regex.Pattern.compile("^403 Forbidden")));

        // a different token, in the same page
        browser.findElement(By.id("signout")).click();
        signIn(browser, wait, RunningDaemon.APPROVER);
        browser.findElement(By.id("nav-approvals")).click();
        card = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article.approval[data-id='login-fix.1']")));
        assertEquals("high", card.findElement(By.cssSelector(".title .tier")).getText());
        assertTrue(card.findElement(By.cssSelector(".description")).getText().equals(HOSTILE_DESCRIPTION),
            "the description shows as the agent wrote it: " + card.findElement(By.cssSelector(".description")).getText());

        // its diff: each file by name (the hostile one as plain text), the added lines in colour
        card.findElement(By.cssSelector("button.show-diff")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article.approval[data-id='login-fix.1'] .diff-file")));
        List<String> files = card.findElements(By.cssSelector(".diff-file summary .file-name")).stream().map(WebElement::getText).toList();
        assertTrue(files.contains("src/Login.java") && files.contains(HOSTILE_FILE), "files in the diff: " + files);
        List<String> added = card.findElements(By.cssSelector(".diff-file[data-path='src/Login.java'] tr.line-add td.code")).stream()
            .map(WebElement::getText).toList();
        assertTrue(added.stream().anyMatch(line -> line.contains("boolean checkPassword(String given)")), "added lines: " + added);
        assertEquals("#e6ffec", Color.fromString(card.findElement(By.cssSelector("tr.line-add td.code")).getCssValue("background-color"))
            .asHex(), "added lines are green");
        // nothing the agent wrote became markup, and none of it ran
        assertTrue(browser.findElements(By.cssSelector("#view img, #view script, #view b")).isEmpty(), "agent text became elements");
        assertNull(js(browser, "return window.pwned === undefined ? null : String(window.pwned)"), "agent-controlled text ran as script");

        card.findElement(By.cssSelector("button.approve")).click();

        // it lands: the card, the live feed, and the features list follow without a reload
        wait.until(ExpectedConditions.textToBe(By.cssSelector("article.approval[data-id='login-fix.1'] .proposal-status"), "applied"));
        wait.until(ExpectedConditions.textMatches(By.cssSelector("#live-list li[data-type='proposal.applied']"),
            java.util.regex.Pattern.compile("login-fix")));
        assertTrue(card.getText().contains("approve by lead"), "the decision trail: " + card.getText());
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("pending-badge"))); // nothing waits any more
        screenshot(browser, "dashboard-approved.png");

        browser.findElement(By.cssSelector("nav a[data-nav='features']")).click();
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#features-table tr[data-id='login-fix'] td.status"), "applied"));

        // the feed drops; meanwhile a feature is created; the page resumes after its last offset and misses nothing
        js(browser, "window.warden.feed.stop()");
        wait.until(ExpectedConditions.textToBe(By.id("conn"), "stopped"));
        ApprovalFlowContract.create(daemon, repo, "after-drop", null);
        js(browser, "window.warden.feed.start()");
        wait.until(ExpectedConditions.textToBe(By.id("conn"), "live"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#features-table tr[data-id='after-drop']")));
        wait.until(ExpectedConditions.textMatches(By.cssSelector("#live-list li[data-type='feature.registered']"),
            java.util.regex.Pattern.compile("after-drop")));
        assertEquals(Boolean.TRUE, js(browser, "const o = window.warden.state.feed.events.map((e) => e.offset); return new Set(o).size === o.length"),
            "an event shown twice after resuming");
        screenshot(browser, "dashboard-features.png");

        browser.findElement(By.cssSelector("#features-table tr[data-id='login-fix'] a.feature-link")).click();
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "applied"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".timeline tr[data-seq='1']")));
        screenshot(browser, "dashboard-feature.png");

        diffsAsGitWritesThemAreReadFileByFile(browser);
        tenThousandEventsKeepTheDomSmall(browser, wait);

        assertEquals("never reloaded", js(browser, "return window.__wardenMarker"), "the page was reloaded");
        assertNull(js(browser, "return window.pwned === undefined ? null : String(window.pwned)"));
        List<String> errors = consoleErrors(browser, message -> message.contains("/approve") && message.contains("403"));
        assertTrue(errors.isEmpty(), "the browser console shows errors: " + errors);
      } catch (AssertionError | RuntimeException e) {
        screenshot(browser, "dashboard-failure.png");
        System.err.println("browser console: " + consoleErrors(browser, message -> message.contains("/approve") && message.contains("403")));
        throw e;
      } finally {
        browser.quit();
      }

      JsonNode proposal = ApprovalFlowContract.proposal(daemon, "login-fix.1");
      assertEquals("applied", proposal.get("status").asText());
      assertEquals("not an image", GitRepos.git(repo, "show", "main:" + HOSTILE_FILE));
      assertFalse(ApprovalFlowContract.landed(repo, "login-fix.1").isEmpty());
    }
  }

  /** The page's diff reader on what git writes for odd names, deletions, binaries and a cut diff. */
  private static void diffsAsGitWritesThemAreReadFileByFile(WebDriver browser) {
    String diff = """
        diff --git a/docs/my notes.md b/docs/my notes.md
        new file mode 100644
        index 0000000..e69de29
        --- /dev/null
        +++ b/docs/my notes.md\t
        @@ -0,0 +1,2 @@
        +first
        +-- not a header
        diff --git "a/caf\\303\\251 \\"q\\".txt" "b/caf\\303\\251 \\"q\\".txt"
        deleted file mode 100644
        --- "a/caf\\303\\251 \\"q\\".txt"
        +++ /dev/null
        @@ -1 +0,0 @@
        -gone
        diff --git a/logo.png b/logo.png
        Binary files a/logo.png and b/logo.png differ
        diff --git a/a.txt b/a.txt
        --- a/a.txt
        +++ b/a.txt
        @@ -1,2 +1,2 @@
         hello
        -old
        +new
        \\ No newline at end of file
        [warden: diff cut at 100 of 200 bytes]
        """;
    Object parsed = ((JavascriptExecutor) browser).executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        import('/dashboard/diff.js')
          .then((m) => { const d = m.parseDiff(arguments[0]);
                         done(JSON.stringify({files: d.files.map((f) => [f.path, f.change, f.added, f.removed, f.binary]), notes: d.notes})); })
          .catch((e) => done('failed: ' + e));
        """, diff);
    assertEquals("{\"files\":[[\"docs/my notes.md\",\"added\",2,0,false],[\"café \\\"q\\\".txt\",\"deleted\",0,1,false],"
        + "[\"logo.png\",\"modified\",0,0,true],[\"a.txt\",\"modified\",1,1,false]],"
        + "\"notes\":[\"[warden: diff cut at 100 of 200 bytes]\"]}", parsed);
  }

  /**
   * 10,000 events in the tab (the most it keeps): the feed page draws only the rows in view, here and
   * scrolled to the oldest. The events are put straight into the page's store here; DashboardScaleBrowserIT
   * does the same with 10,000 real events and 200 real features.
   */
  private static void tenThousandEventsKeepTheDomSmall(WebDriver browser, WebDriverWait wait) {
    js(browser, """
        const events = [];
        for (let i = 0; i < 10000; i++) {
          events.push({offset: 1000000 + i, ts: new Date().toISOString(), feature: 'synthetic-' + (i % 200), type: 'watchdog.changes',
                       data: {files: [{path: 'src/file' + i + '.txt', kind: 'modified', count: 1}], truncated: false, fullScan: false}});
        }
        window.warden.state.feed.addNewer(events);
        location.hash = '#/feed';
        """);
    wait.until(ExpectedConditions.textMatches(By.id("feed-status"), java.util.regex.Pattern.compile("^10\\D?000 event")));
    long drawn = browser.findElements(By.cssSelector(".feed-list .vrow")).size();
    assertTrue(drawn > 10 && drawn < 100, drawn + " feed rows in the DOM");
    assertEquals("1009999", browser.findElement(By.cssSelector(".feed-list .vrow")).getAttribute("data-offset"), "newest first");
    js(browser, "const l = document.querySelector('.feed-list'); l.scrollTop = l.scrollHeight;");
    wait.until(ExpectedConditions.attributeToBe(By.cssSelector(".feed-list .vrow:last-child"), "data-offset", "1000000"));
    drawn = browser.findElements(By.cssSelector(".feed-list .vrow")).size();
    assertTrue(drawn < 100, drawn + " feed rows in the DOM at the bottom");
    screenshot(browser, "dashboard-feed.png");
  }
}
