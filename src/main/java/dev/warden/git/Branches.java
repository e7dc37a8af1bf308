package dev.warden.git;

import dev.warden.Rejection;
import java.io.IOException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * Reads and moves branches of a supervised repository with JGit. Creating is a compare-and-swap
 * from "absent", so two requests for the same branch can never both succeed.
 */
public final class Branches {

  private Branches() {}

  public static Repository open(SupervisedRepository repo) {
    try {
      return new FileRepositoryBuilder().setGitDir(repo.gitDir().toFile()).setMustExist(true).build();
    } catch (IOException e) {
      throw new GitFailure("cannot open repository " + repo.root() + ": " + e.getMessage(), e);
    }
  }

  /** The commit a branch points at; rejects (naming {@code field}) a bad name or a missing branch. */
  public static ObjectId head(SupervisedRepository repo, String branch, String field) {
    String refName = Constants.R_HEADS + branch;
    if (branch.isBlank() || !Repository.isValidRefName(refName)) {
      throw Rejection.invalid(field, "'" + branch + "' is not a valid branch name");
    }
    try (Repository repository = open(repo)) {
      Ref ref = repository.exactRef(refName);
      if (ref == null || ref.getObjectId() == null) {
        throw Rejection.invalid(field, "branch '" + branch + "' does not exist in " + repo.root());
      }
      return ref.getObjectId();
    } catch (IOException e) {
      throw new GitFailure("cannot read branch " + branch + " of " + repo.root() + ": " + e.getMessage(), e);
    }
  }

  public static boolean exists(SupervisedRepository repo, String branch) {
    try (Repository repository = open(repo)) {
      return repository.exactRef(Constants.R_HEADS + branch) != null;
    } catch (IOException e) {
      throw new GitFailure("cannot read branch " + branch + " of " + repo.root() + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code branch} at {@code commit}; a conflict when it already exists. */
  public static void create(SupervisedRepository repo, String branch, ObjectId commit) {
    try (Repository repository = open(repo)) {
      RefUpdate update = repository.updateRef(Constants.R_HEADS + branch);
      update.setExpectedOldObjectId(ObjectId.zeroId());
      update.setNewObjectId(commit);
      update.setRefLogMessage("warden: created for feature", false);
      RefUpdate.Result result = update.update();
      if (result != RefUpdate.Result.NEW) {
        throw Rejection.conflict("branch '" + branch + "' already exists in " + repo.root() + " (" + result + ")");
      }
    } catch (IOException e) {
      throw new GitFailure("cannot create branch " + branch + " in " + repo.root() + ": " + e.getMessage(), e);
    }
  }

  /** Deletes {@code branch} whatever it points at; nothing happens when it is already gone. */
  public static void delete(SupervisedRepository repo, String branch) {
    try (Repository repository = open(repo)) {
      String refName = Constants.R_HEADS + branch;
      if (repository.exactRef(refName) == null) {
        return;
      }
      RefUpdate update = repository.updateRef(refName);
      update.setForceUpdate(true);
      RefUpdate.Result result = update.delete();
      if (result != RefUpdate.Result.FORCED && result != RefUpdate.Result.NO_CHANGE && result != RefUpdate.Result.FAST_FORWARD) {
        throw new GitFailure("cannot delete branch " + branch + " in " + repo.root() + ": " + result);
      }
    } catch (IOException e) {
      throw new GitFailure("cannot delete branch " + branch + " in " + repo.root() + ": " + e.getMessage(), e);
    }
  }
}
