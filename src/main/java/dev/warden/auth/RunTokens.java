package dev.warden.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run tokens: what {@code bin/warden agent} gets for one run so that the agent's connection never
 * holds an operator's token. A run token has the agent role, is bound to one feature, and expires
 * (default after 12 h; the wrapper renews it with the operator's token). It is self-contained and
 * HMAC-SHA256-signed with a key kept in {@code <data>/token.key} (mode 0600), so nothing is stored
 * per token and it survives a restart; a revoked one is remembered, until it would have expired, in
 * {@code <data>/revoked-run-tokens} (0600, rewritten atomically).
 *
 * <p>Format: {@code wrt_<base64url(v1|feature|id|expiresAtEpochSecond)>.<base64url(hmac)>}. Its
 * caller is named {@code run:<feature>:<id>}, so every decision made with it says which run it was.
 */
public final class RunTokens {

  private static final Logger log = LoggerFactory.getLogger(RunTokens.class);
  public static final String PREFIX = "wrt_";
  public static final String NAME_PREFIX = "run:";
  public static final String KEY_FILE = "token.key";
  public static final String REVOKED_FILE = "revoked-run-tokens";
  private static final String VERSION = "v1";

  /** A token just issued: the secret (shown once), its id and when it stops working. */
  public record Issued(String token, String id, String feature, Instant expiresAt) {}

  private final byte[] key;
  private final Path revokedFile;
  private final Duration ttl;
  private final Map<String, Instant> revoked = new HashMap<>(); // id -> when the token expires anyway
  private final SecureRandom random = new SecureRandom();

  private RunTokens(byte[] key, Path revokedFile, Duration ttl) {
    this.key = key.clone();
    this.revokedFile = revokedFile;
    this.ttl = ttl;
  }

  /** Reads (or creates once) the signing key under {@code dataDir} and the revoked tokens still unexpired. */
  public static RunTokens open(Path dataDir, Duration ttl) {
    RunTokens tokens = new RunTokens(readOrCreateKey(dataDir.resolve(KEY_FILE)), dataDir.resolve(REVOKED_FILE), ttl);
    tokens.loadRevoked();
    return tokens;
  }

  public Duration ttl() {
    return ttl;
  }

  /** A new token for {@code feature}, valid for the configured time to live. */
  public Issued issue(String feature, String issuer) {
    byte[] idBytes = new byte[9];
    random.nextBytes(idBytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(idBytes).replace('-', 'x').replace('_', 'y');
    // whole seconds, rounded up: a token never lives shorter than the TTL it was issued with
    Instant end = Instant.now().plus(ttl);
    Instant expiresAt = Instant.ofEpochSecond(end.getEpochSecond() + (end.getNano() > 0 ? 1 : 0));
    String payload = String.join("|", VERSION, feature, id, Long.toString(expiresAt.getEpochSecond()));
    String token = PREFIX + b64(payload.getBytes(StandardCharsets.UTF_8)) + "." + b64(mac(payload));
    log.info("issued run token {} for feature {} to {}, valid until {}", NAME_PREFIX + feature + ":" + id, feature, issuer, expiresAt);
    return new Issued(token, id, feature, expiresAt);
  }

  /** The caller of a valid, unexpired, unrevoked run token; empty for anything else. */
  public Optional<Caller> authenticate(String presented) {
    return parse(presented).filter(t -> t.expiresAt().isAfter(Instant.now()) && !isRevoked(t.id()))
        .map(t -> new Caller(NAME_PREFIX + t.feature() + ":" + t.id(), Role.AGENT, Set.of(t.feature())));
  }

  /** Revokes a valid token (idempotent); false when it is not one of ours or has expired anyway. */
  public synchronized boolean revoke(String presented) {
    Optional<Parsed> token = parse(presented).filter(t -> t.expiresAt().isAfter(Instant.now()));
    if (token.isEmpty()) {
      return false;
    }
    if (revoked.putIfAbsent(token.get().id(), token.get().expiresAt()) == null) {
      saveRevoked();
      log.info("revoked run token {}{}:{}", NAME_PREFIX, token.get().feature(), token.get().id());
    }
    return true;
  }

  private synchronized boolean isRevoked(String id) {
    return revoked.containsKey(id);
  }

  private record Parsed(String feature, String id, Instant expiresAt) {}

  private Optional<Parsed> parse(String presented) {
    if (presented == null || !presented.startsWith(PREFIX) || presented.length() > 512) {
      return Optional.empty();
    }
    String body = presented.substring(PREFIX.length());
    int dot = body.indexOf('.');
    if (dot < 0) {
      return Optional.empty();
    }
    byte[] payload;
    byte[] signature;
    try {
      payload = Base64.getUrlDecoder().decode(body.substring(0, dot));
      signature = Base64.getUrlDecoder().decode(body.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    String text = new String(payload, StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(mac(text), signature)) {
      return Optional.empty();
    }
    String[] parts = text.split("\\|", -1);
    if (parts.length != 4 || !parts[0].equals(VERSION)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Parsed(parts[1], parts[2], Instant.ofEpochSecond(Long.parseLong(parts[3]))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private byte[] mac(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static byte[] readOrCreateKey(Path file) {
    try {
      if (!Files.exists(file)) {
        byte[] fresh = new byte[32];
        new SecureRandom().nextBytes(fresh);
        writePrivate(file, b64(fresh) + "\n");
        log.info("created the run-token signing key {} (mode 0600)", file);
      }
      SecureFiles.tighten(file, SecureFiles.OWNER_ONLY_FILE);
      byte[] key = Base64.getUrlDecoder().decode(Files.readString(file, StandardCharsets.UTF_8).strip());
      if (key.length < 32) {
        throw new IllegalStateException(file + " holds fewer than 32 bytes: delete it to have a new key made"
            + " (every run token issued so far then stops working)");
      }
      return key;
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("cannot read or create the run-token key " + file + ": " + e.getMessage(), e);
    }
  }

  private void loadRevoked() {
    if (!Files.exists(revokedFile)) {
      return;
    }
    try {
      SecureFiles.tighten(revokedFile, SecureFiles.OWNER_ONLY_FILE);
      Instant now = Instant.now();
      for (String line : Files.readAllLines(revokedFile, StandardCharsets.UTF_8)) {
        String[] parts = line.trim().split(" ");
        if (parts.length == 2) {
          try {
            Instant expires = Instant.ofEpochSecond(Long.parseLong(parts[1]));
            if (expires.isAfter(now)) {
              revoked.put(parts[0], expires);
            }
          } catch (NumberFormatException skipped) {
            log.warn("ignoring a bad line in {}", revokedFile);
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + revokedFile + ": " + e.getMessage(), e);
    }
  }

  /** Rewrites the revoked list without the entries that expired anyway (caller holds the lock). */
  private void saveRevoked() {
    Instant now = Instant.now();
    revoked.values().removeIf(expires -> !expires.isAfter(now));
    StringBuilder text = new StringBuilder();
    revoked.forEach((id, expires) -> text.append(id).append(' ').append(expires.getEpochSecond()).append('\n'));
    try {
      writePrivate(revokedFile, text.toString());
    } catch (IOException e) {
      // still revoked in memory; only a restart before its expiry would bring it back
      log.error("cannot write {} ({}): the revocation holds until this daemon stops", revokedFile, e.getMessage());
    }
  }

  /** Writes {@code text} to {@code file} through a 0600 temporary file and an atomic rename. */
  static void writePrivate(Path file, String text) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
        PosixFilePermissions.asFileAttribute(SecureFiles.OWNER_ONLY_FILE));
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

}
