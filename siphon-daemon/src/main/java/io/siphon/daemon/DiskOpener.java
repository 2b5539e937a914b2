package io.siphon.daemon;

import io.siphon.domain.DiskDefinition;
import java.io.IOException;

/**
 * How a start opens one disk of a domain ({@link RunningDisk#open} in the daemon); a start calls it
 * outside the manager's lock, so an open that blocks holds only that start up.
 */
@FunctionalInterface
interface DiskOpener {
    RunningDisk open(String domain, DiskDefinition disk) throws IOException;
}
