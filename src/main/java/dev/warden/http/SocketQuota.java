package dev.warden.http;

import akka.NotUsed;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.ws.Message;
import akka.stream.javadsl.Flow;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many WebSockets of one kind (agent connections, feed subscriptions) are open, per token and in
 * all, with a cap on each: a connection over a cap is refused before its upgrade with 429 and
 * {@code Retry-After}. A connection counts from the moment it is let through until its WebSocket
 * ends, or, if the WebSocket never opens (the client went away), until {@code unusedAfter}.
 */
public final class SocketQuota {

  private final String what;
  private final int perToken;
  private final int total;
  private final Duration retryAfter;
  private final Duration unusedAfter;
  private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
  private int all;

  /** {@code what} names the sockets in refusals, e.g. "agent connections"; {@code total} 0: no cap in all. */
  public SocketQuota(String what, int perToken, int total, Duration retryAfter, Duration unusedAfter) {
    this.what = what;
    this.perToken = perToken;
    this.total = total;
    this.retryAfter = retryAfter;
    this.unusedAfter = unusedAfter;
  }

  /** One counted connection; {@link #release} is idempotent. */
  public final class Permit {
    private final String token;
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicBoolean opened = new AtomicBoolean();

    private Permit(String token) {
      this.token = token;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        synchronized (SocketQuota.this) {
          open.computeIfPresent(token, (key, count) -> count <= 1 ? null : count - 1);
          all--;
        }
      }
    }

    /** {@code flow}, releasing this permit when it ends. */
    public <M> Flow<Message, Message, NotUsed> guard(Flow<Message, Message, M> flow) {
      return flow.watchTermination((mat, done) -> {
        opened.set(true);
        done.whenComplete((ok, failure) -> release());
        return NotUsed.getInstance();
      });
    }
  }

  /** A permit for one more connection of {@code token}, or empty when a cap is reached. */
  public synchronized Optional<Permit> tryAcquire(String token) {
    if (open.getOrDefault(token, 0) >= perToken || (total > 0 && all >= total)) {
      return Optional.empty();
    }
    open.merge(token, 1, Integer::sum);
    all++;
    Permit permit = new Permit(token);
    CompletableFuture.delayedExecutor(unusedAfter.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
      if (!permit.opened.get()) {
        permit.release();
      }
    });
    return Optional.of(permit);
  }

  /** Open connections of {@code token}. */
  public synchronized int openOf(String token) {
    return open.getOrDefault(token, 0);
  }

  /** Open connections in all. */
  public synchronized int open() {
    return all;
  }

  /** The 429 for a refused connection of {@code token}, naming the cap it reached. */
  public synchronized HttpResponse refusal(String token) {
    String detail = open.getOrDefault(token, 0) >= perToken
        ? "this token already holds " + perToken + " " + what + " (the limit per token); close one or try again later"
        : "Warden already holds " + total + " " + what + " (the limit); try again later";
    return Problems.response(StatusCodes.TOO_MANY_REQUESTS, detail, null)
        .addHeader(RawHeader.create("Retry-After", Long.toString(Math.max(1, retryAfter.toSeconds()))));
  }
}
