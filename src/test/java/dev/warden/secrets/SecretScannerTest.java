package dev.warden.secrets;

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

  private static final String AWS = "aws_access_key_id = AKIAPNXZAEHSJL4OA8J0\n"
      + "aws_secret_access_key = sb+gZ79MUc4iI8WpsMBx8lpTPrfglP56JYz01aS0\n";

  @Test
  void aSecretAfterANulByteIsFoundThoughGitCallsTheFileBinary() {
    byte[] content = ("\0PNG\n" + "ghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8").getBytes(StandardCharsets.US_ASCII);
    SecretScanner.Scan scan = scanner.scan(content);
    assertTrue(scan.binary(), "a NUL in the first 8000 bytes: binary to git");
    assertEquals(List.of("github-token"), rules(scan));
    assertEquals(2, scan.findings().get(0).line());
    // a NUL right against the key, and keys far behind a binary header
    byte[] glued = concat(new byte[] {0, 0, 0}, AWS.getBytes(StandardCharsets.US_ASCII), new byte[] {0},
        key("rsa-private-key.pem"));
    assertEquals(List.of("aws-access-key-id", "aws-secret-access-key", "private-key"), rules(scanner.scan(glued)));
  }

  @Test
  void utf16LittleEndianWithAByteOrderMarkGivesUpItsAwsKeys() {
    byte[] content = concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, ("[default]\r\n" + AWS).getBytes(StandardCharsets.UTF_16LE));
    SecretScanner.Scan scan = scanner.scan(content);
    assertEquals(List.of("aws-access-key-id", "aws-secret-access-key"), rules(scan));
    assertEquals(List.of(2, 3), scan.findings().stream().map(SecretScanner.Finding::line).toList());
    assertEquals("****A8J0", scan.findings().get(0).masked());
    // the same value has the same fingerprint in either encoding ("the base already held it" compares them)
    assertEquals(rules(scanner.scan(AWS.getBytes(StandardCharsets.UTF_8))), rules(scan));
    assertEquals(scanner.scan(AWS.getBytes(StandardCharsets.UTF_8)).findings().stream().map(SecretScanner.Finding::fingerprint).toList(),
        scan.findings().stream().map(SecretScanner.Finding::fingerprint).toList());
  }

  @Test
  void utf16BigEndianWithoutAByteOrderMarkGivesUpItsPrivateKey() throws IOException {
    byte[] pem = Files.readString(CORPUS.resolve("planted/rsa-private-key.pem")).getBytes(StandardCharsets.UTF_16BE);
    assertEquals(StandardCharsets.UTF_16BE, SecretScanner.utf16(pem, pem.length), "told by its NUL pattern");
    assertEquals(List.of("private-key"), rules(scanner.scan(pem)));
    byte[] little = Files.readString(CORPUS.resolve("planted/rsa-private-key.pem")).getBytes(StandardCharsets.UTF_16LE);
    assertEquals(StandardCharsets.UTF_16LE, SecretScanner.utf16(little, little.length));
    assertEquals(List.of("private-key"), rules(scanner.scan(little)));
  }

  @Test
  void utf16TextBehindABinaryHeaderIsFoundToo() {
    // no byte order mark and a header that spoils the pattern: the pass without NULs still reads it
    byte[] header = new byte[6000];
    new java.util.Random(7).nextBytes(header);
    byte[] content = concat(header, AWS.getBytes(StandardCharsets.UTF_16LE));
    assertEquals(null, SecretScanner.utf16(content, content.length));
    assertEquals(List.of("aws-access-key-id", "aws-secret-access-key"), rules(scanner.scan(content)));
  }

  @Test
  void everyPlantedSecretIsFoundInUtf16AsInUtf8() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (String name : PLANTED.keySet()) {
      String text = Files.readString(CORPUS.resolve("planted").resolve(name));
      for (byte[] content : List.of(concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, text.getBytes(StandardCharsets.UTF_16LE)),
          text.getBytes(StandardCharsets.UTF_16BE))) {
        List<String> rules = rules(scanner.scan(content));
        if (!rules.equals(PLANTED.get(name))) {
          wrong.add(name + ": expected " + PLANTED.get(name) + ", found " + rules);
        }
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void innocentFilesStayInnocentInUtf16AndWithNulBytesSprinkledIn() throws IOException {
    List<String> found = new ArrayList<>();
    java.util.Random random = new java.util.Random(11);
    for (String name : list("innocent")) {
      byte[] utf8 = Files.readAllBytes(CORPUS.resolve("innocent").resolve(name));
      String text = new String(utf8, StandardCharsets.UTF_8);
      byte[] sprinkled = new byte[utf8.length * 2];
      int n = 0;
      for (byte b : utf8) {
        sprinkled[n++] = b;
        if (random.nextInt(20) == 0) {
          sprinkled[n++] = 0;
        }
      }
      for (byte[] content : List.of(concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, text.getBytes(StandardCharsets.UTF_16LE)),
          text.getBytes(StandardCharsets.UTF_16BE), java.util.Arrays.copyOf(sprinkled, n))) {
        for (SecretScanner.Finding f : scanner.scan(content).findings()) {
          found.add(name + ": " + f);
        }
      }
    }
    assertEquals(List.of(), found);
  }

  @Test
  void realBinariesHoldNoSecrets() throws IOException {
    // Warden's own compiled classes: NUL bytes everywhere, and the scanner's prefixes and labels in their constants
    List<String> found = new ArrayList<>();
    int files = 0;
    try (Stream<Path> classes = Files.walk(Path.of("target/classes"))) {
      for (Path p : classes.filter(f -> f.toString().endsWith(".class")).toList()) {
        files++;
        SecretScanner.Scan scan = scanner.scan(Files.readAllBytes(p));
        assertTrue(scan.binary(), p.toString());
        scan.findings().forEach(f -> found.add(p.getFileName() + ": " + f));
      }
    }
    assertTrue(files > 100, "the compiled classes are there: " + files);
    byte[] noise = new byte[4 << 20];
    new java.util.Random(3).nextBytes(noise);
    scanner.scan(noise).findings().forEach(f -> found.add("random bytes: " + f));
    assertEquals(List.of(), found);
  }

  @Test
  void asciiTextWithAccentsIsNotTakenForUtf16() {
    byte[] text = "caf\u00e9 = 1\nna\u00efve = 2\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(null, SecretScanner.utf16(text, text.length));
    byte[] latin1 = "r\u00e9sum\u00e9 des cl\u00e9s\n".getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(null, SecretScanner.utf16(latin1, latin1.length));
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
        "sk-ant-", "password=", "a:", "::", "=>", "\"secret\": \"", "-----BEGIN PRIVATE KEY-----\nProc-Type: x\n",
        "\0AKIA", "A\0K\0I\0A\0", "\0-\0-\0-\0-\0-\0B\0E\0G\0I\0N\0 \0", "\0\0sk-", "=\0"};
    for (String unit : units) {
      byte[] content = unit.repeat((4 << 20) / unit.length()).getBytes(StandardCharsets.US_ASCII);
      long start = System.nanoTime();
      scanner.scan(content);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 3_000, "4 MiB of '" + unit.strip() + "' took " + ms + " ms");
    }
  }

  private static List<String> rules(SecretScanner.Scan scan) {
    return scan.findings().stream().map(SecretScanner.Finding::rule).toList();
  }

  private static byte[] key(String planted) {
    try {
      return Files.readAllBytes(CORPUS.resolve("planted").resolve(planted));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static List<String> list(String dir) throws IOException {
    try (Stream<Path> files = Files.list(CORPUS.resolve(dir))) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
