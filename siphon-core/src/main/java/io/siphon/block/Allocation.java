package io.siphon.block;

/** What a range of one node holds, as its block status reports it. */
public enum Allocation {
    /** The node holds data for the range. */
    DATA,
    /** The node holds the range and it reads as zeroes (a zero cluster, a hole in a raw file). */
    ZERO,
    /** The node does not hold the range: reads fall through to the backing node (or read zeroes). */
    UNALLOCATED;

    /** Whether this node answers reads of the range itself, without its backing. */
    public boolean isAllocated() {
        return this != UNALLOCATED;
    }
}
