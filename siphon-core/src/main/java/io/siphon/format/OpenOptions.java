package io.siphon.format;

/**
 * How an image is opened.
 *
 * @param writable open for writing (takes QEMU's write locks)
 * @param forceShare take no locks at all, as {@code qemu-img -U}; only with read-only
 * @param backing open as a backing image: read-only, and other writers are refused
 */
public record OpenOptions(boolean writable, boolean forceShare, boolean backing) {
    public OpenOptions {
        if (forceShare && writable) {
            throw new IllegalArgumentException("force-share is only allowed read-only");
        }
        if (backing && writable) {
            throw new IllegalArgumentException("backing images are opened read-only");
        }
    }

    public static final OpenOptions READ_WRITE = new OpenOptions(true, false, false);
    public static final OpenOptions READ_ONLY = new OpenOptions(false, false, false);
    public static final OpenOptions FORCE_SHARE = new OpenOptions(false, true, false);
    public static final OpenOptions BACKING = new OpenOptions(false, false, true);

    /** The options a backing image of an image opened with these is opened with. */
    public OpenOptions forBacking() {
        return forceShare ? FORCE_SHARE : BACKING;
    }
}
