package io.siphon.cli.view;

import io.siphon.format.BackingNames;

/**
 * The names qemu-img prints for images of a chain: a backing name is shown as the image naming it
 * would find it, by putting the naming image's directory prefix (as the user wrote it) in front of
 * a relative name, without making it absolute or normalizing it.
 */
public final class DisplayNames {
    private DisplayNames() {}

    /** The display name of backing {@code backingName} stored in the image shown as {@code imageName}. */
    public static String backing(String imageName, String backingName) {
        if (backingName.startsWith("/") || BackingNames.isRemote(backingName)) {
            return backingName;
        }
        int slash = imageName.lastIndexOf('/');
        return imageName.substring(0, slash + 1) + backingName;
    }
}
