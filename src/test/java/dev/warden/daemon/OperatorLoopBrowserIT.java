package dev.warden.daemon;

import static dev.warden.daemon.ApprovalFlowContract.await;
import static dev.warden.daemon.ApprovalFlowContract.decisions;
import static dev.warden.daemon.ApprovalFlowContract.landed;
import static dev.warden.daemon.ApprovalFlowContract.proposal;
import static dev.warden.testing.HeadlessChromium.consoleErrors;
import static dev.warden.testing.HeadlessChromium.js;
import static dev.warden.testing.HeadlessChromium.screenshot;
import static dev.warden.testing.HeadlessChromium.signIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.process.Bubblewrap;
import dev.warden.testing.GitRepos;
import dev.warden.testing.HeadlessChromium;
import dev.warden.testing.RunningDaemon;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The whole operator loop with the dashboard alone, in a real headless Chromium against a real
 * daemon, the agent side a real {@code bin/warden agent} in its sandbox: a feature created on the
 * page with a plan, the agent's command asks a question with {@code bin/warden ask}, the question is
 * answered on the page, the command writes the answer and exits, the proposal is approved on the
 * page and lands on {@code main} in the user's clone, which has {@code main} checked out: branch and
 * working tree. Then what the operator does when landing waits (the note, "Land now"), a smart
 * rollback from the timeline, and an admin's bypass with its reason. Screenshots of each page under
 * target/. Skipped, loudly, without the browser.
 */
class OperatorLoopBrowserIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Path WARDEN = Path.of("bin", "warden").toAbsolutePath();

  @TempDir static Path tmp;
  private static RunningDaemon daemon;

  @BeforeAll
  static void start() throws Exception {
    Path policy = tmp.resolve("policy.conf");
    // medium: one approver may approve it on the page; urgent/** is high and needs two (or an admin's bypass)
    Files.writeString(policy, """
        rules = [ { paths = "urgent/**", tier = high }, { paths = "**", tier = medium } ]
        tiers { high { approvers = 2 } }
        """);
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()))
        // what lands a waiting proposal here is the watch of the clone or the click, never the timer
        .withValue("warden.apply.deferred-retry", ConfigValueFactory.fromAnyRef("10m"));
    daemon = RunningDaemon.start(config).awaitReady();
  }

  @AfterAll
  static void stop() {
    if (daemon != null) {
      daemon.close();
    }
  }

  @BeforeEach
  void aBrowserIsInstalled() {
    HeadlessChromium.assumeInstalled("OperatorLoopBrowserIT", "The operator loop on the dashboard");
  }

  /** The user's own clone: {@code main} checked out, as users have it. */
  private static Path userClone(String name) throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos").resolve(name)).toRealPath();
    assertEquals("main", GitRepos.git(repo, "symbolic-ref", "--short", "HEAD"));
    return repo;
  }

  private static String status(Path repo) {
    return GitRepos.git(repo, "status", "--porcelain", "--untracked-files=all");
  }

  private static JsonNode feature(String id) {
    return daemon.get("/api/v1/features/" + id, RunningDaemon.VIEWER).json();
  }

  private static String server() {
    return "http://127.0.0.1:" + daemon.daemon().httpAddress().getPort();
  }

  /** {@code bin/warden agent} as a user runs it: its own JVM, the agent token in WARDEN_TOKEN, its output in {@code log}. */
  private static Process agent(String feature, String title, Path log, String script) throws Exception {
    List<String> argv = new ArrayList<>(List.of(WARDEN.toString(), "agent", "--feature", feature, "--title", title,
        "--", "sh", "-c", script));
    ProcessBuilder builder = new ProcessBuilder(argv).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().put("WARDEN_TOKEN", RunningDaemon.AGENT);
    builder.environment().put("WARDEN_URL", server());
    builder.environment().put("WARDEN_JAVA_OPTS", "-Xmx256m");
    return builder.start();
  }

  private static WebDriver browser(String profile) throws Exception {
    return HeadlessChromium.start(tmp.resolve(profile), "chromedriver-" + profile + ".log");
  }

  private static WebDriverWait waiting(WebDriver browser) {
    WebDriverWait wait = new WebDriverWait(browser, WAIT);
    wait.ignoring(StaleElementReferenceException.class);
    return wait;
  }

  private static void click(WebDriver browser, WebDriverWait wait, By by) {
    wait.until(ExpectedConditions.elementToBeClickable(by)).click();
  }

  private static By card(String proposal, String inside) {
    return By.cssSelector("article.approval[data-id='" + proposal + "']" + (inside.isEmpty() ? "" : " " + inside));
  }

  @Test
  void anApproverRunsTheWholeLoopOnThePageAndTheChangeLandsInTheCheckedOutClone() throws Exception {
    assertTrue(Bubblewrap.availability().usable(), "bubblewrap must work here: " + Bubblewrap.availability().problem());
    Path clone = userClone("app");
    String id = "greeting-for-operators";
    Path log = tmp.resolve("agent.log");
    WebDriver browser = browser("loop");
    Process agent = null;
    try {
      WebDriverWait wait = waiting(browser);
      browser.get(server() + "/");
      signIn(browser, wait, RunningDaemon.APPROVER);

      // 1. a feature with a plan, from the page
      click(browser, wait, By.id("new-feature"));
      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("new-title"))).sendKeys("Greeting for operators");
      assertEquals(id, browser.findElement(By.id("new-id")).getAttribute("value"));
      WebElement repo = browser.findElement(By.id("new-repo"));
      repo.clear();
      repo.sendKeys(clone.toString());
      browser.findElement(By.id("new-plan")).sendKeys("{\"allowedPaths\": [\"src/**\"], \"limits\": {\"maxChangedLines\": 50}}");
      screenshot(browser, "loop-1-new-feature.png");
      browser.findElement(By.id("new-submit")).click();
      wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "active"));
      JsonNode created = feature(id);
      assertEquals("lead", created.get("createdBy").asText());
      assertEquals("[\"src/**\"]", created.get("plan").get("allowedPaths").toString(), created.toString());

      // 2. the agent, under bin/warden agent in its sandbox, asks with bin/warden ask and writes the answer
      agent = agent(id, "Say hello to operators", log, String.join("\n",
          "env | grep -q '^WARDEN_' && echo SAW_WARDEN_ENV",
          "answer=$(" + WARDEN + " ask --timeout 300 'Which greeting goes in src/greeting.txt?') || exit 7",
          "mkdir -p src && printf '%s\\n' \"$answer\" > src/greeting.txt",
          "echo wrote the greeting"));

      // 3. answered on the page: the feature waits for a person, prominently, and the top bar counts it
      wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "awaiting_input"));
      wait.until(ExpectedConditions.textMatches(By.cssSelector(".questions.awaiting .question .question-text"),
          Pattern.compile("^Which greeting goes in src/greeting\\.txt\\?")));
      wait.until(ExpectedConditions.textToBe(By.id("attention-badge"), "1"));
      screenshot(browser, "loop-2-question.png");
      browser.findElement(By.cssSelector(".question textarea")).sendKeys("Hello, operator!");
      browser.findElement(By.cssSelector(".question button.answer")).click();

      // 4. the command gets the answer, writes it and exits 0: the wrapper proposes its work
      assertTrue(agent.waitFor(120, TimeUnit.SECONDS), "the agent exited; its output:\n" + Files.readString(log));
      String output = Files.readString(log);
      assertEquals(0, agent.exitValue(), output);
      assertTrue(output.contains("wrote the greeting"), output);
      assertFalse(output.contains(RunningDaemon.AGENT), "the token leaked into the agent's output:\n" + output);
      assertFalse(output.contains("SAW_WARDEN_ENV"), "a WARDEN_ variable reached the agent:\n" + output);
      wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "proposed"));

      // 5. approved on the page
      browser.findElement(By.id("nav-approvals")).click();
      String proposalId = id + ".1";
      wait.until(ExpectedConditions.textMatches(card(proposalId, ".description"), Pattern.compile("^Say hello to operators")));
      wait.until(ExpectedConditions.textMatches(card(proposalId, ".paths"), Pattern.compile("src/greeting\\.txt")));
      screenshot(browser, "loop-3-approval.png");
      click(browser, wait, card(proposalId, "button.approve"));
      wait.until(ExpectedConditions.textToBe(card(proposalId, ".proposal-status"), "applied"));
      assertTrue(decisions(proposal(daemon, proposalId)).contains("approve by lead"));
      screenshot(browser, "loop-4-applied-approval.png");

      // 6. on main in the user's clone, and in its working tree: one commit with the proposal's title
      assertEquals("main", GitRepos.git(clone, "symbolic-ref", "--short", "HEAD"));
      assertEquals(proposal(daemon, proposalId).get("apply").get("commit").asText(), GitRepos.git(clone, "rev-parse", "HEAD"));
      assertEquals("Say hello to operators", GitRepos.git(clone, "log", "-1", "--format=%s", "main"));
      assertEquals(1, landed(clone, proposalId).lines().count());
      assertEquals("", status(clone), "the clone is clean after the landing");
      assertEquals("Hello, operator!\n", Files.readString(clone.resolve("src/greeting.txt"), StandardCharsets.UTF_8));

      // 7. the feature shows applied
      browser.findElement(card(proposalId, "a.feature-link")).click();
      wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "applied"));
      assertEquals("#/features/" + id, js(browser, "return location.hash"));
      screenshot(browser, "loop-5-feature-applied.png");
      List<String> errors = consoleErrors(browser, message -> false);
      assertTrue(errors.isEmpty(), "the browser console shows errors: " + errors);
    } catch (AssertionError | RuntimeException e) {
      screenshot(browser, "loop-failure.png");
      throw new AssertionError(e.getMessage() + "\nthe agent's output:\n" + (Files.exists(log) ? Files.readString(log) : "(none)"), e);
    } finally {
      if (agent != null && agent.isAlive()) {
        agent.destroy();
      }
      browser.quit();
    }
  }

  @Test
  void landNowAfterTheNoteASmartRollbackFromTheTimelineAndAnAdminsBypassWithItsReason() throws Exception {
    Path clone = userClone("shop");
    WebDriver browser = browser("operator");
    try {
      WebDriverWait wait = waiting(browser);
      browser.get(server() + "/");
      signIn(browser, wait, RunningDaemon.APPROVER);

      // a smart rollback from the timeline: the file outside the plan goes back, the rest stays
      Path stray = Path.of(ApprovalFlowContract.create(daemon, clone, "stray", "{\"allowedPaths\": [\"src/**\"]}"));
      Files.createDirectories(stray.resolve("src"));
      Files.writeString(stray.resolve("src/ok.txt"), "fine\n");
      Files.writeString(stray.resolve("stray.txt"), "outside the plan\n");
      js(browser, "location.hash = '#/features/stray'");
      click(browser, wait, By.id("op-checkpoint"));
      wait.until(ExpectedConditions.textMatches(By.id("op-outcome"), Pattern.compile("^Checkpoint \\d+ taken")));
      java.util.regex.Matcher taken = Pattern.compile("^Checkpoint (\\d+) taken").matcher(browser.findElement(By.id("op-outcome")).getText());
      assertTrue(taken.find());
      String seq = taken.group(1);
      await("checkpoint " + seq + " judged with a violation", 60_000, () -> {
        RunningDaemon.Response v = daemon.get("/api/v1/features/stray/checkpoints/" + seq + "/validation", RunningDaemon.VIEWER);
        return v.status() == 200 && !v.json().get("finishedAt").isNull() && v.body().contains("stray.txt");
      });
      wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".timeline tr[data-seq='" + seq + "']")));
      click(browser, wait, By.id("rollback-smart"));
      wait.until(ExpectedConditions.textMatches(By.id("rollback-outcome"), Pattern.compile("^Smart rollback recorded as checkpoint \\d+\\.$")));
      assertFalse(Files.exists(stray.resolve("stray.txt")), "the file of the violation went back (it was not in the base)");
      assertEquals("fine\n", Files.readString(stray.resolve("src/ok.txt")), "the rest stays");
      screenshot(browser, "operator-smart-rollback.png");

      // an approved proposal that waits: the user edited a landed path in the clone; the page says why
      Path waits = Path.of(ApprovalFlowContract.create(daemon, clone, "waits", null));
      Files.writeString(waits.resolve("a.txt"), "hello from warden\n");
      Path local = clone.resolve("a.txt");
      Files.writeString(local, "HELLO\n"); // same size as the committed "hello\n"
      FileTime edited = Files.getLastModifiedTime(local);
      assertEquals(201, ApprovalFlowContract.propose(daemon, "waits", "Warden's greeting").status());
      js(browser, "location.hash = '#/approvals/waits.1'");
      click(browser, wait, card("waits.1", "button.approve"));
      wait.until(ExpectedConditions.textMatches(card("waits.1", ".proposal-note"),
          Pattern.compile("^Why it waits: .*local changes to a\\.txt")));
      assertEquals("approved", wait.until(ExpectedConditions.visibilityOfElementLocated(card("waits.1", ".proposal-status"))).getText());
      assertTrue(browser.findElement(card("waits.1", "button.land")).isDisplayed(), "Land now is offered");
      assertEquals("HELLO\n", Files.readString(local), "the user's edit is untouched");
      screenshot(browser, "operator-waiting-note.png");
      // the user undoes the edit in an editor: the content is as committed again, but the file's stat is not the
      // index's (git merge --ff-only refreshes the index first and lands). Same size and time as the edit: the
      // watch's cheap fingerprint cannot tell, so what lands it is the click
      Files.writeString(local, "hello\n");
      Files.setLastModifiedTime(local, edited);
      assertEquals("approved", proposal(daemon, "waits.1").get("status").asText(), "nothing landed it before the click");
      click(browser, wait, card("waits.1", "button.land"));
      wait.until(ExpectedConditions.textMatches(card("waits.1", ".outcome"), Pattern.compile("^(Asked to land now|Landed\\.)")));
      wait.until(ExpectedConditions.textToBe(card("waits.1", ".proposal-status"), "applied"));
      assertEquals("hello from warden\n", Files.readString(local));
      assertEquals("", status(clone));
      assertEquals(1, landed(clone, "waits.1").lines().count());
      screenshot(browser, "operator-landed-now.png");

      // an admin's bypass: a high proposal that needs two approvers, approved at once, the reason recorded
      Path hotfix = Path.of(ApprovalFlowContract.create(daemon, clone, "hotfix", null));
      Files.createDirectories(hotfix.resolve("urgent"));
      Files.writeString(hotfix.resolve("urgent/fix.txt"), "the fix\n");
      assertEquals(201, ApprovalFlowContract.propose(daemon, "hotfix", "Fix the outage").status());
      assertEquals("high", proposal(daemon, "hotfix.1").get("tier").asText());
      browser.findElement(By.id("signout")).click();
      signIn(browser, wait, RunningDaemon.ADMIN);
      js(browser, "location.hash = '#/approvals/hotfix.1'");
      WebElement bypass = wait.until(ExpectedConditions.elementToBeClickable(card("hotfix.1", "input.bypass")));
      bypass.click();
      click(browser, wait, card("hotfix.1", "button.approve"));
      wait.until(ExpectedConditions.textMatches(card("hotfix.1", ".error"), Pattern.compile("^A bypass needs a reason")));
      assertEquals("proposed", proposal(daemon, "hotfix.1").get("status").asText(), "nothing was decided without a reason");
      browser.findElement(card("hotfix.1", "input.reason")).sendKeys("the outage: ship it now");
      click(browser, wait, card("hotfix.1", "button.approve"));
      wait.until(ExpectedConditions.textMatches(card("hotfix.1", ".outcome"), Pattern.compile("^You approved it \\(.+\\); Warden now tests the merge and lands it\\.$")));
      wait.until(ExpectedConditions.textToBe(card("hotfix.1", ".proposal-status"), "applied"));
      wait.until(ExpectedConditions.textMatches(card("hotfix.1", ".decisions"), Pattern.compile("bypass by ops \\(admin\\): the outage: ship it now")));
      JsonNode bypassed = proposal(daemon, "hotfix.1");
      assertEquals(List.of("bypass by ops"), decisions(bypassed));
      assertEquals("the outage: ship it now", bypassed.get("decisions").get(0).get("reason").asText());
      assertEquals("the fix\n", Files.readString(clone.resolve("urgent/fix.txt")));
      assertEquals("", status(clone));
      screenshot(browser, "operator-bypass.png");
      List<String> errors = consoleErrors(browser, message -> false);
      assertTrue(errors.isEmpty(), "the browser console shows errors: " + errors);
    } catch (AssertionError | RuntimeException e) {
      screenshot(browser, "operator-failure.png");
      throw e;
    } finally {
      browser.quit();
    }
  }
}
