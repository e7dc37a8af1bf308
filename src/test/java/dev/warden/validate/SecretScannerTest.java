package dev.warden.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class SecretScannerTest {

  private static final Path CORPUS = Path.of("src/test/resources/secrets");
  private final SecretScanner scanner = new SecretScanner();

  /** Every planted file and the rules it must trigger, in order of appearance. */
  private static final Map<String, List<String>> PLANTED = new TreeMap<>(Map.ofEntries(
      Map.entry("rsa-private-key.pem", List.of("private-key")),
      Map.entry("rsa-private-key-legacy-encrypted.pem", List.of("private-key")),
      Map.entry("ec-private-key.pem", List.of("private-key")),
      Map.entry("dsa-private-key.pem", List.of("private-key")),
      Map.entry("pkcs8-private-key.pem", List.of("private-key")),
      Map.entry("encrypted-private-key.pem", List.of("private-key")),
      Map.entry("id_ed25519", List.of("private-key")),
      Map.entry("pgp-private-key.asc", List.of("private-key")),
      Map.entry("gcp-service-account.json", List.of("gcp-service-account-key")),
      Map.entry("aws-credentials", List.of("aws-access-key-id", "aws-secret-access-key")),
      Map.entry("aws-session.env", List.of("aws-access-key-id", "aws-secret-access-key")),
      Map.entry("aws-documented-example.py", List.of("aws-access-key-id", "aws-secret-access-key")),
      Map.entry("github-ghp.sh", List.of("github-token")),
      Map.entry("github-gho.json", List.of("github-token")),
      Map.entry("github-ghu.yml", List.of("github-token")),
      Map.entry("github-ghs.txt", List.of("github-token")),
      Map.entry("github-ghr.ini", List.of("github-token")),
      Map.entry("github-fine-grained.env", List.of("github-token")),
      Map.entry("gitlab.yml", List.of("gitlab-token")),
      Map.entry("slack.js", List.of("slack-token", "slack-token")),
      Map.entry("stripe.rb", List.of("stripe-key", "stripe-key")),
      Map.entry("openai.py", List.of("openai-api-key", "openai-api-key")),
      Map.entry("anthropic.ts", List.of("anthropic-api-key")),
      Map.entry("generic-password.yml", List.of("generic-secret")),
      Map.entry("generic-secret.env", List.of("generic-secret")),
      Map.entry("generic-client-secret.json", List.of("generic-secret"))));

  @Test
  void everyPlantedSecretIsFoundUnderItsRule() throws IOException {
    List<String> files = list("planted");
    assertEquals(PLANTED.keySet().stream().toList(), files, "every planted file has its expectation, and only those");
    List<String> wrong = new ArrayList<>();
    for (String name : files) {
      byte[] content = Files.readAllBytes(CORPUS.resolve("planted").resolve(name));
      List<String> rules = scanner.scan(content).findings().stream().map(SecretScanner.Finding::rule).toList();
      if (!rules.equals(PLANTED.get(name))) {
        wrong.add(name + ": expected " + PLANTED.get(name) + ", found " + rules);
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void nothingIsFoundInTheInnocentLookAlikes() throws IOException {
    List<String> files = list("innocent");
    assertTrue(files.size() >= 10, "the innocent corpus is there: " + files);
    List<String> found = new ArrayList<>();
    for (String name : files) {
      for (SecretScanner.Finding f : scanner.scan(Files.readAllBytes(CORPUS.resolve("innocent").resolve(name))).findings()) {
        found.add(name + ": " + f);
      }
    }
    assertEquals(List.of(), found);
  }

  @Test
  void findingsNeverCarryTheSecret() throws IOException {
    Pattern secretLike = Pattern.compile("[A-Za-z0-9+/=_-]{12,}");
    for (String name : PLANTED.keySet()) {
      String content = Files.readString(CORPUS.resolve("planted").resolve(name));
      for (SecretScanner.Finding f : scanner.scan(content.getBytes(StandardCharsets.UTF_8)).findings()) {
        assertTrue(f.masked().matches("(\\*\\*\\*\\*.{0,4})?"), name + ": " + f.masked());
        assertEquals(16, f.fingerprint().length());
        Matcher m = secretLike.matcher(content);
        while (m.find()) {
          String run = m.group();
          boolean mixed = run.chars().anyMatch(Character::isDigit) && run.chars().anyMatch(Character::isUpperCase)
              && run.chars().anyMatch(Character::isLowerCase);
          if (mixed) {
            assertFalse(f.message().contains(run), name + ": the message shows " + run + ": " + f.message());
          }
        }
      }
    }
  }

  @Test
  void reportsTheLineOfEachFinding() {
    String text = "a = 1\nb = 2\ntoken: ghp_" + "Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8" + "\n";
    List<SecretScanner.Finding> f = scanner.scan(text.getBytes(StandardCharsets.UTF_8)).findings();
    assertEquals(1, f.size(), f.toString());
    assertEquals(3, f.get(0).line());
    assertEquals("****2eW8", f.get(0).masked());
    assertTrue(f.get(0).message().endsWith(" at line 3: ****2eW8"), f.get(0).message());
  }

  @Test
  void binaryContentIsSkipped() {
    byte[] content = ("\0PNG" + "ghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8").getBytes(StandardCharsets.US_ASCII);
    SecretScanner.Scan scan = scanner.scan(content);
    assertTrue(scan.binary());
    assertEquals(List.of(), scan.findings());
  }

  @Test
  void largeFilesAreScannedUpToTheCapAndSaySo() {
    SecretScanner small = new SecretScanner(1000);
    byte[] content = ("x".repeat(2000) + "\nghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8\n").getBytes(StandardCharsets.US_ASCII);
    SecretScanner.Scan scan = small.scan(content);
    assertTrue(scan.truncated());
    assertEquals(1000, scan.scannedBytes());
    assertEquals(content.length, scan.totalBytes());
    assertEquals(List.of(), scan.findings());
    // a caller that read only the first bytes says how large the file is
    SecretScanner.Scan prefix = scanner.scan(new byte[10], 5_000_000_000L);
    assertTrue(prefix.truncated());
    assertEquals(5_000_000_000L, prefix.totalBytes());
  }

  @Test
  void hostileInputStaysLinear() {
    String[] units = {"-----BEGIN ", "-----BEGIN RSA PRIVATE KEY-----\n", "AKIA", "ghp_", "github_pat_", "xoxb-", "sk-",
        "sk-ant-", "password=", "a:", "::", "=>", "\"secret\": \"", "-----BEGIN PRIVATE KEY-----\nProc-Type: x\n"};
    for (String unit : units) {
      byte[] content = unit.repeat((4 << 20) / unit.length()).getBytes(StandardCharsets.US_ASCII);
      long start = System.nanoTime();
      scanner.scan(content);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 3_000, "4 MiB of '" + unit.strip() + "' took " + ms + " ms");
    }
  }

  private static List<String> list(String dir) throws IOException {
    try (Stream<Path> files = Files.list(CORPUS.resolve(dir))) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
