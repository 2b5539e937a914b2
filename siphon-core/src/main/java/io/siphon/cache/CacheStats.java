package io.siphon.cache;

/**
 * Counters of one cache since it was opened.
 *
 * @param hits chunk reads served from memory or the cache directory
 * @param fetches range requests sent to the remote store
 * @param fetchedBytes bytes those requests returned
 * @param storedBytes bytes of chunks in the cache directory (as this process sees it)
 * @param rejectedChunks chunk files found torn or corrupt and removed
 */
public record CacheStats(long hits, long fetches, long fetchedBytes, long storedBytes, long rejectedChunks) {}
