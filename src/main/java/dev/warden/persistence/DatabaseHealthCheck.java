package dev.warden.persistence;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Readiness check registered in cluster.conf: the journal database answers. */
public final class DatabaseHealthCheck implements Supplier<CompletionStage<Boolean>> {

  private final JournalDatabase database;

  public DatabaseHealthCheck(ActorSystem system) {
    this.database = JournalDatabase.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return database.isReachable();
  }
}
