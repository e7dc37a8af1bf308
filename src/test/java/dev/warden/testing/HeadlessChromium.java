package dev.warden.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
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
 * Debian's headless Chromium driven through its matching chromedriver, for the dashboard's browser
 * tests; nothing is downloaded. Paths can be overridden with {@code -Dwarden.test.chromium=} and
 * {@code -Dwarden.test.chromedriver=}.
 */
public final class HeadlessChromium {

  public static final Path CHROMIUM = Path.of(System.getProperty("warden.test.chromium", "/usr/bin/chromium"));
  public static final Path CHROMEDRIVER = Path.of(System.getProperty("warden.test.chromedriver", "/usr/bin/chromedriver"));

  private HeadlessChromium() {}

  /**
   * Skips the calling test, loudly, when the browser or its driver is missing: it then counts as
   * skipped in the report, never as passed. Call it per test (from {@code @BeforeEach}).
   */
  public static void assumeInstalled(String test, String what) {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present) {
      String missing = (Files.isExecutable(CHROMIUM) ? "" : CHROMIUM + " ") + (Files.isExecutable(CHROMEDRIVER) ? "" : CHROMEDRIVER);
      System.err.println("\n************************************************************************************\n"
          + "* " + test + " SKIPPED: no headless browser. It needs " + CHROMIUM + " and " + CHROMEDRIVER + "\n"
          + "* (Debian: apt-get install chromium chromium-driver; .ci/run installs them).\n"
          + "* " + what + " was NOT tested in a browser in this run.\n"
          + "************************************************************************************\n"
          + "missing: " + missing + "\n");
    }
    Assumptions.assumeTrue(present, test + " needs " + CHROMIUM + " and " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)");
  }

  /** A new headless browser with its own profile under {@code profile}; the driver's log goes to target/{@code log}. */
  public static WebDriver start(Path profile, String log) throws IOException {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    Files.createDirectories(profile);
    Path target = Files.createDirectories(Path.of("target"));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withLogFile(new File(target.resolve(log).toString()))
        .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--window-size=1440,1000", "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    return new ChromeDriver(service, options);
  }

  /** Gives the dashboard its token and waits until the page and its live feed are up. */
  public static void signIn(WebDriver browser, WebDriverWait wait, String token) {
    WebElement input = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-input")));
    input.sendKeys(token);
    browser.findElement(By.id("token-submit")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("view")));
    wait.until(ExpectedConditions.textToBe(By.id("conn"), "live"));
  }

  public static Object js(WebDriver browser, String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  /** Keeps a screenshot as target/{@code name}; a failure to take it is reported, never fatal. */
  public static void screenshot(WebDriver browser, String name) {
    try {
      Path target = Files.createDirectories(Path.of("target"));
      Files.write(target.resolve(name), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    } catch (IOException | RuntimeException e) {
      System.err.println("cannot keep the screenshot " + name + ": " + e);
    }
  }

  /**
   * Errors in the browser's console (script errors, failed requests, Content-Security-Policy
   * refusals), except those the test expects.
   */
  public static List<String> consoleErrors(WebDriver browser, Predicate<String> expected) {
    try {
      return browser.manage().logs().get(LogType.BROWSER).getAll().stream()
          .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
          .map(LogEntry::getMessage)
          .filter(expected.negate())
          .toList();
    } catch (RuntimeException e) {
      return List.of("cannot read the console: " + e);
    }
  }
}
