package io.siphon.format;

import java.util.Objects;

/**
 * How an image is opened.
 *
 * @param writable open for writing (takes QEMU's write locks)
 * @param forceShare take no locks at all, as {@code qemu-img -U}; only with read-only
 * @param backing open as a backing image: read-only, and other writers are refused
 * @param remote which remote backing names the chain may follow ({@link RemoteBackingPolicy#LOCAL_ONLY}
 *     unless asked)
 */
public record OpenOptions(boolean writable, boolean forceShare, boolean backing, RemoteBackingPolicy remote) {
    public OpenOptions {
        Objects.requireNonNull(remote, "remote");
        if (forceShare && writable) {
            throw new IllegalArgumentException("force-share is only allowed read-only");
        }
        if (backing && writable) {
            throw new IllegalArgumentException("backing images are opened read-only");
        }
    }

    public OpenOptions(boolean writable, boolean forceShare, boolean backing) {
        this(writable, forceShare, backing, RemoteBackingPolicy.LOCAL_ONLY);
    }

    public static final OpenOptions READ_WRITE = new OpenOptions(true, false, false);
    public static final OpenOptions READ_ONLY = new OpenOptions(false, false, false);
    public static final OpenOptions FORCE_SHARE = new OpenOptions(false, true, false);
    public static final OpenOptions BACKING = new OpenOptions(false, false, true);

    /** The options a backing image of an image opened with these is opened with. */
    public OpenOptions forBacking() {
        return new OpenOptions(false, forceShare, !forceShare, remote);
    }

    /** These options with {@code policy} for remote backing names. */
    public OpenOptions withRemote(RemoteBackingPolicy policy) {
        return new OpenOptions(writable, forceShare, backing, policy);
    }
}
