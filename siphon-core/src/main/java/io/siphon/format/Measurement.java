package io.siphon.format;

import java.util.OptionalLong;

/**
 * What {@code qemu-img measure} reports: the file size a new image needs for some data, and for
 * every cluster of its virtual size.
 *
 * @param requiredBytes the file size the new image needs to hold the measured data
 * @param fullyAllocatedBytes the file size with every cluster of the virtual size allocated
 * @param bitmapsBytes room the source's persistent bitmaps would take, when the target can hold
 *     them and the source has a bitmap directory to measure
 */
public record Measurement(long requiredBytes, long fullyAllocatedBytes, OptionalLong bitmapsBytes) {}
