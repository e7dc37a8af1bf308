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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class SecretMaskerTest {

  private static final Path CORPUS = Path.of("src/test/resources/secrets");
  private static final String KEY_ID = "AKIAPNXZAEHSJL4OA8J0";
  private static final String SECRET_KEY = "sb+gZ79MUc4iI8WpsMBx8lpTPrfglP56JYz01aS0";
  private static final String AWS = "aws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET_KEY + "\n";
  private static final String TOKEN = "ghp_Zq3xR8mN2vL5kJ7hG4fD1sA9pO6iU0yT2eW8";

  @Test
  void aDiffAddingKeysShowsMarkersWhereTheValuesWereAndKeepsEveryLine() throws IOException {
    String pem = planted("rsa-private-key.pem");
    String diff = added("deploy/creds.env", "# deploy\n" + AWS + pem);
    SecretMasker.Masked masked = SecretMasker.diff(diff);

    assertEquals(3, masked.secrets(), masked.text());
    assertFalse(masked.text().contains(KEY_ID), masked.text());
    assertFalse(masked.text().contains(SECRET_KEY), masked.text());
    for (String bodyLine : pem.lines().filter(l -> !l.startsWith("-----")).toList()) {
      assertFalse(masked.text().contains(bodyLine), "a line of the key's body shows: " + bodyLine);
    }
    List<String> before = diff.lines().toList();
    List<String> after = masked.text().lines().toList();
    assertEquals(before.size(), after.size(), "every line stays where it was");
    assertEquals("+aws_access_key_id = «secret:aws-access-key-id masked»", after.get(7));
    assertEquals("+aws_secret_access_key = «secret:aws-secret-access-key masked»", after.get(8));
    // a reader still sees what kind of thing was there and where it ends
    assertEquals("+-----BEGIN RSA PRIVATE KEY-----", after.get(9));
    assertEquals("+«secret:private-key masked»", after.get(10));
    assertEquals("+-----END RSA PRIVATE KEY-----", after.get(after.size() - 1));
    for (int i = 0; i < 7; i++) {
      assertEquals(before.get(i), after.get(i), "headers are left as they are");
    }
  }

  @Test
  void contextAndRemovedLinesAreMaskedAndASecretShownOnBothSidesCountsOnce() {
    String diff = """
        diff --git a/app.env b/app.env
        index 1111111..2222222 100644
        --- a/app.env
        +++ b/app.env
        @@ -1,3 +1,3 @@
         GITHUB_TOKEN=%s
        -SESSION_SECRET=iTl56dy3ylvzXG%%YnQomHAbaTPitv1bT
        +SESSION_SECRET=${SESSION_SECRET}
         region=eu-west-1
        """.formatted(TOKEN);
    SecretMasker.Masked masked = SecretMasker.diff(diff);
    assertEquals(2, masked.secrets(), masked.text());
    assertTrue(masked.text().contains("\n GITHUB_TOKEN=«secret:github-token masked»\n"), masked.text());
    assertTrue(masked.text().contains("\n-SESSION_SECRET=«secret:generic-secret masked»\n"), masked.text());
    assertTrue(masked.text().contains("\n+SESSION_SECRET=${SESSION_SECRET}\n"), "a reference is no secret: " + masked.text());
  }

  @Test
  void aValueThatIsASecretOnlyAtTheStartOfItsLineIsFoundUnderTheDiffsPlusSign() throws IOException {
    // generic-secret takes unquoted values only when the name starts the line: the diff's '+' must not hide that
    String diff = added("generic-secret.env", planted("generic-secret.env"));
    SecretMasker.Masked masked = SecretMasker.diff(diff);
    assertEquals(1, masked.secrets());
    assertTrue(masked.text().endsWith("+SESSION_SECRET=«secret:generic-secret masked»\n"), masked.text());
  }

  @Test
  void aHunkHeadersFunctionContextIsMaskedToo() {
    String diff = """
        diff --git a/deploy.sh b/deploy.sh
        --- a/deploy.sh
        +++ b/deploy.sh
        @@ -10,2 +10,3 @@ GITHUB_TOKEN="%s"
         run
        +run again
         done
        """.formatted(TOKEN);
    SecretMasker.Masked masked = SecretMasker.diff(diff);
    assertEquals(1, masked.secrets());
    assertTrue(masked.text().contains("@@ -10,2 +10,3 @@ GITHUB_TOKEN=\"«secret:github-token masked»\"\n"), masked.text());
  }

  @Test
  void aPrivateKeyCutShortByTheEndOfTheDiffHasEveryShownBodyLineMasked() throws IOException {
    List<String> pem = planted("rsa-private-key.pem").lines().toList();
    String firstLines = String.join("\n", pem.subList(0, 6)) + "\n";
    String diff = added("key.pem", planted("rsa-private-key.pem"));
    String cut = diff.substring(0, diff.indexOf("+" + pem.get(6))) + "... diff truncated: it is longer than 4194304 bytes\n";
    SecretMasker.Masked masked = SecretMasker.diff(cut);
    assertEquals(1, masked.secrets(), masked.text());
    for (String line : firstLines.lines().skip(1).toList()) {
      assertFalse(masked.text().contains(line), masked.text());
    }
    assertEquals(5, masked.text().lines().filter(l -> l.equals("+«secret:private-key masked»")).count(), masked.text());
    assertTrue(masked.text().endsWith("\n... diff truncated: it is longer than 4194304 bytes\n"), masked.text());
  }

  @Test
  void aServiceAccountKeyInsideOneJsonLineKeepsItsQuotesAndArmour() throws IOException {
    String json = planted("gcp-service-account.json");
    SecretMasker.Masked masked = SecretMasker.content(json);
    assertEquals(1, masked.secrets());
    assertTrue(masked.text().contains("\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n«secret:gcp-service-account-key masked»"
        + "-----END PRIVATE KEY-----\\n\","), masked.text());
    assertFalse(masked.text().contains("MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ"), masked.text());
    assertEquals(json.lines().count(), masked.text().lines().count());
  }

  @Test
  void fileContentIsMaskedLineForLineWithWindowsLineEndsKept() {
    String content = "[default]\r\n" + AWS.replace("\n", "\r\n") + "token: " + TOKEN + "\r\n";
    SecretMasker.Masked masked = SecretMasker.content(content);
    assertEquals(3, masked.secrets());
    assertEquals("[default]\r\naws_access_key_id = «secret:aws-access-key-id masked»\r\n"
        + "aws_secret_access_key = «secret:aws-secret-access-key masked»\r\ntoken: «secret:github-token masked»\r\n", masked.text());
  }

  @Test
  void secretsBehindANulOrInUtf16TextInADiffAreMasked() {
    // git shows a file as text when its first NUL comes after 8000 bytes: what follows is in the diff
    String diff = "diff --git a/blob b/blob\n--- a/blob\n+++ b/blob\n@@ -1,0 +1,3 @@\n+pad\0\0x " + TOKEN + "\n+"
        + utf16("aws_secret_access_key = " + SECRET_KEY) + "\n+" + utf16("id=" + KEY_ID) + "\n";
    SecretMasker.Masked masked = SecretMasker.diff(diff);
    assertFalse(masked.text().contains(TOKEN), masked.text());
    assertFalse(masked.text().replace("\0", "").contains(KEY_ID), masked.text());
    assertFalse(masked.text().replace("\0", "").contains(SECRET_KEY), masked.text());
    assertEquals(3, masked.secrets(), masked.text());
    assertEquals(diff.lines().count(), masked.text().lines().count());
  }

  @Test
  void textWithoutSecretsComesBackAsItWas() throws IOException {
    List<String> changed = new ArrayList<>();
    try (Stream<Path> files = Files.list(CORPUS.resolve("innocent"))) {
      for (Path file : files.sorted().toList()) {
        String text = Files.readString(file);
        String diff = added(file.getFileName().toString(), text);
        if (SecretMasker.diff(diff).secrets() != 0 || !SecretMasker.diff(diff).text().equals(diff)
            || !SecretMasker.content(text).text().equals(text)) {
          changed.add(file.getFileName().toString());
        }
      }
    }
    assertEquals(List.of(), changed);
    assertEquals(new SecretMasker.Masked("", 0), SecretMasker.diff(""));
    assertEquals(new SecretMasker.Masked("no newline at the end", 0), SecretMasker.content("no newline at the end"));
  }

  @Test
  void everyPlantedSecretIsMaskedInADiffThatAddsIt() throws IOException {
    List<String> shown = new ArrayList<>();
    try (Stream<Path> files = Files.list(CORPUS.resolve("planted"))) {
      for (Path file : files.sorted().toList()) {
        byte[] content = Files.readAllBytes(file);
        SecretScanner.Scan scan = new SecretScanner().scan(content);
        SecretMasker.Masked masked = SecretMasker.diff(added(file.getFileName().toString(), new String(content, StandardCharsets.UTF_8)));
        if (masked.secrets() != scan.findings().size() || new SecretScanner().scan(masked.text().getBytes(StandardCharsets.UTF_8))
            .findings().size() != 0) {
          shown.add(file.getFileName() + ": " + masked.secrets() + " masked of " + scan.findings().size());
        }
      }
    }
    assertEquals(List.of(), shown);
  }

  @Test
  void hostileDiffsStayLinear() {
    for (String unit : new String[] {"+AKIA\n", "@@ -1 +1 @@\n", " -----BEGIN RSA PRIVATE KEY-----\n", "+a=\n-b:\n", "\n", "+\0\n"}) {
      String diff = "diff --git a/x b/x\n@@ -1,999999 +1,999999 @@\n" + unit.repeat((4 << 20) / unit.length());
      long start = System.nanoTime();
      SecretMasker.diff(diff);
      long ms = (System.nanoTime() - start) / 1_000_000;
      // well under a second alone; the bound is loose for a loaded build machine, and a quadratic pass would take hours
      assertTrue(ms < 10_000, "4 MiB of '" + unit.strip() + "' took " + ms + " ms");
    }
  }

  /** A git-style diff adding {@code path} with {@code content}. */
  private static String added(String path, String content) {
    List<String> lines = content.lines().toList();
    StringBuilder diff = new StringBuilder("diff --git a/" + path + " b/" + path + "\nnew file mode 100644\nindex 0000000..1234567\n"
        + "--- /dev/null\n+++ b/" + path + "\n@@ -0,0 +1," + lines.size() + " @@\n");
    lines.forEach(line -> diff.append('+').append(line).append('\n'));
    return diff.toString();
  }

  /** {@code text} as UTF-16LE bytes, each byte one character (as a diff shows such a file's lines). */
  private static String utf16(String text) {
    return new String(text.getBytes(StandardCharsets.UTF_16LE), StandardCharsets.ISO_8859_1);
  }

  private static String planted(String name) throws IOException {
    return Files.readString(CORPUS.resolve("planted").resolve(name));
  }
}
