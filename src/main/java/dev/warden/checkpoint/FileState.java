package dev.warden.checkpoint;

import org.eclipse.jgit.lib.ObjectId;

/** A path's content in a tree: its git mode and blob (or submodule commit) id. */
record FileState(int mode, ObjectId id) {}
