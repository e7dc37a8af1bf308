package dev.warden.daemon;

import static dev.warden.testing.HeadlessChromium.consoleErrors;
import static dev.warden.testing.HeadlessChromium.js;
import static dev.warden.testing.HeadlessChromium.screenshot;
import static dev.warden.testing.HeadlessChromium.signIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.warden.testing.GitRepos;
import dev.warden.testing.HeadlessChromium;
import dev.warden.testing.RunningDaemon;
import dev.warden.testing.ScriptedAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
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
 * The operator's loop on the dashboard, in a real headless Chromium against a real daemon: an approver
 * creates a feature from the page (a wrong repository first: the API's error is shown next to the
 * field), takes a checkpoint, rolls one path back to it, pauses and resumes it, answers the question a scripted agent asks, and
 * approves the agent's proposal (the agent's connecting and disconnecting arrive as feed events); then a viewer token sees every one of those controls disabled, each
 * with the reason; last, the approver abandons a feature (a reason required) and its controls say it ended. Skipped, loudly, without the browser.
 */
class DashboardControlsBrowserIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path tmp;

  @BeforeEach
  void aBrowserIsInstalled() {
    HeadlessChromium.assumeInstalled("DashboardControlsBrowserIT", "The dashboard's controls");
  }

  @Test
  void anApproverRunsTheLoopFromThePageAndAViewerSeesEveryControlDisabledWithItsReason() throws Exception {
    Path repo = GitRepos.create(tmp.resolve("repos/app")).toRealPath();
    GitRepos.git(repo, "checkout", "-q", "other");
    Path policy = tmp.resolve("policy.conf");
    Files.writeString(policy, """
        rules = [ { paths = "src/**", tier = high } ]
        tiers { high { approvers = 1 } }
        """);
    Config config = RunningDaemon.config(tmp.resolve("data"), "", "", "", List.of(tmp.resolve("repos")), true)
        .withValue("warden.policy.file", ConfigValueFactory.fromAnyRef(policy.toString()));
    try (RunningDaemon daemon = RunningDaemon.start(config).awaitReady()) {
      int port = daemon.daemon().httpAddress().getPort();

      // whoami: what the page reads once to know the token's role
      JsonNode viewer = daemon.get("/api/v1/whoami", RunningDaemon.VIEWER).json();
      assertEquals("dashboard", viewer.get("name").asText());
      assertEquals("viewer", viewer.get("role").asText());
      assertEquals(0, viewer.get("features").size());
      assertEquals(401, daemon.get("/api/v1/whoami", "no-such-token").status());

      WebDriver browser = HeadlessChromium.start(tmp.resolve("chromium-profile"), "chromedriver-controls.log");
      try {
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
        browser.get("http://127.0.0.1:" + port + "/");
        signIn(browser, wait, RunningDaemon.APPROVER);
        assertEquals("lead · approver", browser.findElement(By.id("whoami")).getText());

        // create a feature from the page: the id follows the title; a wrong repository is refused next to its field
        browser.findElement(By.id("new-feature")).click();
        WebElement title = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("new-title")));
        title.sendKeys("Login form: remember me!");
        assertEquals("login-form-remember-me", browser.findElement(By.id("new-id")).getAttribute("value"));
        WebElement repoInput = browser.findElement(By.id("new-repo"));
        repoInput.clear();
        repoInput.sendKeys(tmp.resolve("elsewhere").toString());
        browser.findElement(By.id("new-plan")).sendKeys("{\"limits\": {\"maxChangedLines\": 0}}");
        browser.findElement(By.id("new-submit")).click();
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".field-error[data-for='plan']"),
            Pattern.compile("^plan\\.limits\\.maxChangedLines: 400 Bad Request")));
        browser.findElement(By.id("new-plan")).clear();
        browser.findElement(By.id("new-submit")).click();
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".field-error[data-for='repo']"), Pattern.compile("^400 Bad Request: .+\\(repo\\)$")));
        assertEquals("", browser.findElement(By.cssSelector(".field-error[data-for='plan']")).getText(), "an old error stays");
        screenshot(browser, "dashboard-new-feature.png");
        repoInput.clear();
        repoInput.sendKeys(repo.toString());
        browser.findElement(By.id("new-submit")).click();
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "active"));
        assertEquals("#/features/login-form-remember-me", js(browser, "return location.hash"));
        JsonNode created = daemon.get("/api/v1/features/login-form-remember-me", RunningDaemon.VIEWER).json();
        assertEquals("lead", created.get("createdBy").asText());
        Path worktree = Path.of(created.get("worktree").asText());

        // checkpoint now
        Files.createDirectories(worktree.resolve("src"));
        Files.writeString(worktree.resolve("src/Remember.java"), "class Remember {}\n");
        click(browser, wait, "op-checkpoint");
        wait.until(ExpectedConditions.textMatches(By.id("op-outcome"), Pattern.compile("^Checkpoint \\d+ taken")));
        java.util.regex.Matcher taken = Pattern.compile("^Checkpoint (\\d+) taken").matcher(browser.findElement(By.id("op-outcome")).getText());
        assertTrue(taken.find());
        String good = taken.group(1);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".timeline tr[data-seq='" + good + "']")));

        // roll back one path to that checkpoint, from the timeline
        Files.writeString(worktree.resolve("src/Scratch.java"), "class Scratch { /* a wrong turn */ }\n");
        browser.findElement(By.cssSelector(".timeline input[name='to'][value='" + good + "']")).click();
        assertEquals(good, browser.findElement(By.id("rollback-to")).getAttribute("value"), "picking a 'to' checkpoint fills in the rollback");
        browser.findElement(By.id("rollback-paths")).sendKeys("src/Scratch.java");
        click(browser, wait, "rollback");
        wait.until(ExpectedConditions.textMatches(By.id("rollback-outcome"),
            Pattern.compile("^Rolled back to checkpoint " + good + " \\(src/Scratch\\.java\\): recorded as checkpoint \\d+\\.$")));
        assertTrue(!Files.exists(worktree.resolve("src/Scratch.java")) && Files.exists(worktree.resolve("src/Remember.java")),
            "only the chosen path went back");

        // pause with a reason, resume
        browser.findElement(By.id("op-reason")).sendKeys("lunch");
        click(browser, wait, "op-pause");
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "paused"));
        assertEquals("paused", daemon.get("/api/v1/features/login-form-remember-me", RunningDaemon.VIEWER).json().get("status").asText());
        assertEquals("lunch", daemon.get("/api/v1/features/login-form-remember-me", RunningDaemon.VIEWER).json().get("statusReason").asText());
        WebElement pause = browser.findElement(By.id("op-pause"));
        assertTrue(!pause.isEnabled() && pause.getAttribute("data-why").contains("already paused"), "pause of a paused feature");
        click(browser, wait, "op-resume");
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "active"));

        try (ScriptedAgent agent = ScriptedAgent.connect(port, "login-form-remember-me", RunningDaemon.AGENT).hello()) {
          // the connection is a feed event: the live column says so and the agent box follows, no polling, no reload
          wait.until(ExpectedConditions.textMatches(By.cssSelector("#live-list li[data-type='agent.connected']"),
              Pattern.compile("login-form-remember-me agent\\.connected scripted 1 connected")));
          wait.until(ExpectedConditions.textMatches(By.cssSelector(".agent-box"), Pattern.compile("^connected scripted 1")));
          // the agent asks: the feature waits for a person, prominently, and the top bar counts it
          agent.send("{\"type\":\"question\",\"id\":\"q-1\",\"text\":\"Keep the old cookie name?\"}");
          wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "awaiting_input"));
          wait.until(ExpectedConditions.textMatches(By.cssSelector(".questions.awaiting .question[data-id='q-1'] .question-text"),
              Pattern.compile("^Keep the old cookie name\\?")));
          wait.until(ExpectedConditions.textToBe(By.id("attention-badge"), "1"));
          assertTrue(browser.findElement(By.id("op-resume")).getAttribute("data-why").contains("answer it instead"));
          screenshot(browser, "dashboard-question.png");
          WebElement answer = browser.findElement(By.cssSelector(".question[data-id='q-1'] textarea"));
          answer.sendKeys("Yes, until v3.");
          browser.findElement(By.cssSelector(".question[data-id='q-1'] button.answer")).click();
          JsonNode relayed = agent.expect("answer", 10);
          assertEquals("q-1", relayed.get("id").asText());
          assertEquals("Yes, until v3.", relayed.get("text").asText());
          wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "active"));
          wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("attention-badge")));

          // the agent proposes; the approver approves from the queue
          agent.send("{\"type\":\"propose\",\"description\":\"Remember me\"}");
          agent.expect(m -> m.path("text").asText().startsWith("proposal login-form-remember-me.1"), 30, "the proposal's answer");
        }
        wait.until(ExpectedConditions.textMatches(By.cssSelector("#live-list li[data-type='agent.disconnected']"),
            Pattern.compile("scripted disconnected: the connection closed")));
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".agent-box"), Pattern.compile("^disconnected")));
        browser.findElement(By.id("nav-approvals")).click();
        WebElement card = wait.until(ExpectedConditions.presenceOfElementLocated(
            By.cssSelector("article.approval[data-id='login-form-remember-me.1']")));
        WebElement bypass = card.findElement(By.cssSelector("input.bypass"));
        assertTrue(!bypass.isEnabled() && bypass.getAttribute("data-why").contains("needs an admin token"), "an approver's bypass");
        card.findElement(By.cssSelector("button.approve")).click();
        wait.until(ExpectedConditions.textMatches(By.cssSelector("article.approval[data-id='login-form-remember-me.1'] .proposal-status"),
            Pattern.compile("approved|applied")));
        assertTrue(ApprovalFlowContract.decisions(ApprovalFlowContract.proposal(daemon, "login-form-remember-me.1")).contains("approve by lead"));
        screenshot(browser, "dashboard-approved-from-loop.png");

        // a viewer: a feature waiting for an answer and a proposal waiting for a decision, and every control disabled with its reason
        ApprovalFlowContract.create(daemon, repo, "asks", null);
        // a run token is bound to its feature: whoami is the one path outside it that it may read
        String runToken = daemon.post("/api/v1/features/asks/agent-token", RunningDaemon.AGENT, "{}").json().get("token").asText();
        JsonNode run = daemon.get("/api/v1/whoami", runToken).json();
        assertEquals("agent", run.get("role").asText());
        assertTrue(run.get("name").asText().startsWith("run:asks:"), run.toString());
        assertEquals("[\"asks\"]", run.get("features").toString());
        assertEquals(403, daemon.get("/api/v1/features", runToken).status());
        try (ScriptedAgent agent = ScriptedAgent.connect(port, "asks", RunningDaemon.AGENT).hello()) {
          agent.send("{\"type\":\"question\",\"id\":\"q-7\",\"text\":\"Which database?\"}");
          ApprovalFlowContract.await("asks awaiting_input", 10_000,
              () -> daemon.get("/api/v1/features/asks", RunningDaemon.VIEWER).json().get("status").asText().equals("awaiting_input"));
        }
        Path waits = Path.of(ApprovalFlowContract.create(daemon, repo, "waits", null));
        Files.createDirectories(waits.resolve("src"));
        Files.writeString(waits.resolve("src/Waits.java"), "class Waits {}\n");
        assertEquals(201, ApprovalFlowContract.propose(daemon, "waits", "Waits for a person").status());

        browser.findElement(By.id("signout")).click();
        signIn(browser, wait, RunningDaemon.VIEWER);
        assertEquals("dashboard · viewer", browser.findElement(By.id("whoami")).getText());
        wait.until(ExpectedConditions.textToBe(By.id("attention-badge"), "1"));
        everyControlDisabledWithItsReason(browser, wait, "#/", 1);
        everyControlDisabledWithItsReason(browser, wait, "#/new", 6);
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".actions .why"), Pattern.compile("needs an agent token; this one \\(dashboard\\) is a viewer")));
        everyControlDisabledWithItsReason(browser, wait, "#/features/asks", 11);
        wait.until(ExpectedConditions.textMatches(By.cssSelector(".question[data-id='q-7'] .why"), Pattern.compile("needs an approver token")));
        screenshot(browser, "dashboard-viewer-feature.png");
        everyControlDisabledWithItsReason(browser, wait, "#/approvals/waits.1", 4);
        screenshot(browser, "dashboard-viewer-approvals.png");

        // back as the approver: abandon needs a reason; once abandoned, the feature's controls say it has ended
        browser.findElement(By.id("signout")).click();
        signIn(browser, wait, RunningDaemon.APPROVER);
        js(browser, "location.hash = '#/features/asks'; window.confirm = () => true");
        click(browser, wait, "op-abandon");
        wait.until(ExpectedConditions.textMatches(By.id("op-error"), Pattern.compile("^Give a reason to abandon")));
        browser.findElement(By.id("op-reason")).sendKeys("not needed after all");
        click(browser, wait, "op-abandon");
        wait.until(ExpectedConditions.textToBe(By.cssSelector(".feature-page .feature-status"), "abandoned"));
        assertEquals("not needed after all", daemon.get("/api/v1/features/asks", RunningDaemon.VIEWER).json().get("statusReason").asText());
        for (String id : List.of("op-pause", "op-resume", "op-checkpoint", "op-abandon", "rollback", "rollback-smart")) {
          WebElement control = browser.findElement(By.id(id));
          assertTrue(!control.isEnabled() && "the feature has ended (abandoned)".equals(control.getAttribute("data-why")),
              id + " of an abandoned feature: " + control.getAttribute("data-why"));
        }
        List<String> errors = consoleErrors(browser, message -> message.contains("status of 400"));
        assertTrue(errors.isEmpty(), "the browser console shows errors: " + errors);
      } catch (AssertionError | RuntimeException e) {
        screenshot(browser, "dashboard-controls-failure.png");
        throw e;
      } finally {
        browser.quit();
      }
    }
  }

  private static void click(WebDriver browser, WebDriverWait wait, String id) {
    wait.until(ExpectedConditions.elementToBeClickable(By.id(id))).click();
  }

  /** On {@code hash}: at least {@code atLeast} controls that need a role, each disabled, with a reason that names the viewer. */
  private static void everyControlDisabledWithItsReason(WebDriver browser, WebDriverWait wait, String hash, int atLeast) {
    js(browser, "location.hash = '" + hash + "'");
    wait.until(d -> d.findElements(By.cssSelector("#view [data-needs]")).size() >= atLeast);
    List<WebElement> controls = browser.findElements(By.cssSelector("#view [data-needs]"));
    for (WebElement control : controls) {
      String what = control.getTagName() + " " + control.getText() + " " + control.getAttribute("id") + " on " + hash;
      assertTrue(!control.isEnabled(), "enabled for a viewer: " + what);
      String why = control.getAttribute("data-why");
      assertTrue(why != null && why.contains("this one (dashboard) is a viewer"), "the reason of " + what + ": " + why);
      assertEquals(why, control.getAttribute("title"), "the reason as the tooltip of " + what);
    }
  }
}
