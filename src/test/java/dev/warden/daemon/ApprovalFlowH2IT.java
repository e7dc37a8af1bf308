package dev.warden.daemon;

/** Proposals and approvals on the default embedded H2 database. */
class ApprovalFlowH2IT extends ApprovalFlowContract {

  @Override
  protected String[] freshDatabase() {
    return new String[] {"", "", ""};
  }
}
