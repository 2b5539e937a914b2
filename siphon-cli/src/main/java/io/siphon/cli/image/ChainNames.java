package io.siphon.cli.image;

import io.siphon.cli.view.DisplayNames;
import io.siphon.format.ImageChain;
import java.util.ArrayList;
import java.util.List;

/** The names qemu-img shows for each image of an open chain, top first. */
final class ChainNames {
    private ChainNames() {}

    /** {@code topName} as the user wrote it, then each backing as the image above names it. */
    static List<String> of(ImageChain chain, String topName) {
        List<String> names = new ArrayList<>();
        names.add(topName);
        for (int i = 1; i < chain.images().size(); i++) {
            String above = names.get(i - 1);
            String stored =
                    chain.images().get(i - 1).backingReference().orElseThrow().name();
            names.add(DisplayNames.backing(above, stored));
        }
        return names;
    }
}
