package io.siphon.cli.view;

import io.siphon.cli.Sizes;
import io.siphon.format.BackingReference;
import io.siphon.format.ImageInfo;
import io.siphon.util.posix.NativeFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One image as {@code info} shows it, in qemu-img's human layout or its JSON fields.
 *
 * @param filename the image's name as the user wrote it, or as the image above names it
 * @param actualSizeBytes host space the file takes, when known
 */
public record ImageInfoView(ImageInfo info, String filename, OptionalLong actualSizeBytes) {
    public static ImageInfoView of(ImageInfo info, String filename) {
        return new ImageInfoView(info, filename, allocatedBytes(info.path()));
    }

    /** Host space of the file, or empty ("unavailable", as qemu-img says) when it cannot be read. */
    private static OptionalLong allocatedBytes(Path file) {
        try (NativeFile nativeFile = NativeFile.open(file, false)) {
            return OptionalLong.of(nativeFile.allocatedBytes());
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    /** The backing file's name as shown, resolved against this image's name. */
    public String fullBackingFilename(BackingReference backing) {
        return DisplayNames.backing(filename, backing.name());
    }

    /** qemu-img's JSON object, keys in the order qemu-img 7.2 prints them. */
    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        info.backing().flatMap(BackingReference::format).ifPresent(f -> json.put("backing-filename-format", f));
        if (!info.snapshots().isEmpty()) {
            json.put(
                    "snapshots",
                    info.snapshots().stream().map(SnapshotView::json).toList());
        }
        json.put("virtual-size", info.virtualSizeBytes());
        json.put("filename", filename);
        info.clusterSizeBytes().ifPresent(size -> json.put("cluster-size", size));
        json.put("format", info.format());
        actualSizeBytes.ifPresent(size -> json.put("actual-size", size));
        if (!info.formatSpecific().isEmpty()) {
            Map<String, Object> specific = new LinkedHashMap<>();
            specific.put("type", info.format());
            specific.put("data", info.formatSpecific());
            json.put("format-specific", specific);
        }
        info.backing().ifPresent(backing -> {
            json.put("full-backing-filename", fullBackingFilename(backing));
            json.put("backing-filename", backing.name());
        });
        json.put("dirty-flag", info.dirty());
        return json;
    }

    /** qemu-img's human layout, lines ending in newlines. */
    public String human() {
        StringBuilder out = new StringBuilder();
        out.append("image: ").append(filename).append('\n');
        out.append("file format: ").append(info.format()).append('\n');
        out.append("virtual size: ")
                .append(Sizes.human(info.virtualSizeBytes()))
                .append(" (")
                .append(info.virtualSizeBytes())
                .append(" bytes)\n");
        out.append("disk size: ")
                .append(actualSizeBytes.isPresent() ? Sizes.human(actualSizeBytes.getAsLong()) : "unavailable")
                .append('\n');
        info.clusterSizeBytes()
                .ifPresent(size -> out.append("cluster_size: ").append(size).append('\n'));
        if (info.dirty()) {
            out.append("cleanly shut down: no\n");
        }
        info.backing().ifPresent(backing -> {
            out.append("backing file: ").append(backing.name());
            String full = fullBackingFilename(backing);
            if (!full.equals(backing.name())) {
                out.append(" (actual path: ").append(full).append(')');
            }
            out.append('\n');
            backing.format()
                    .ifPresent(
                            f -> out.append("backing file format: ").append(f).append('\n'));
        });
        if (!info.snapshots().isEmpty()) {
            out.append("Snapshot list:\n").append(SnapshotView.HEADING).append('\n');
            info.snapshots()
                    .forEach(snapshot -> out.append(SnapshotView.line(snapshot)).append('\n'));
        }
        if (!info.formatSpecific().isEmpty()) {
            out.append("Format specific information:\n");
            dumpMap(out, info.formatSpecific(), 1);
        }
        return out.toString();
    }

    /** qemu-img's nested "key: value" dump: dashes in keys become spaces, four spaces per level. */
    private static void dumpMap(StringBuilder out, Map<?, ?> map, int depth) {
        map.forEach((key, value) -> {
            out.append("    ".repeat(depth))
                    .append(key.toString().replace('-', ' '))
                    .append(':');
            dumpValue(out, value, depth);
        });
    }

    private static void dumpValue(StringBuilder out, Object value, int depth) {
        switch (value) {
            case Map<?, ?> nested -> {
                out.append('\n');
                dumpMap(out, nested, depth + 1);
            }
            case List<?> list -> {
                out.append('\n');
                for (int i = 0; i < list.size(); i++) {
                    out.append("    ".repeat(depth + 1)).append('[').append(i).append("]:");
                    dumpValue(out, list.get(i), depth + 1);
                }
            }
            default -> out.append(' ').append(value).append('\n');
        }
    }
}
