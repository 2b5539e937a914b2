package io.siphon.daemon.web;

import io.siphon.blockjob.Disk;

/** A disk of a running domain, named as the API names it, with the engine's disk behind it. */
record RunningDiskRef(String domain, String target, Disk disk) {}
