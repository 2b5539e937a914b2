package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.cli.Cli;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** What the image command tests share: a fresh directory of image files, and qemu-img run there. */
abstract class ImageFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    String path(String name) {
        return dir.resolve(name).toString();
    }

    void qemuImgOk(String... args) throws Exception {
        Cli.qemuImgOk(dir, args);
    }

    /**
     * Runs {@code qemu-img VERB ARGS} and {@code siphon image VERB ARGS} here: both exit 1 with the
     * same error lines (qemu-img's program name replaced by Siphon's).
     */
    void assertRefusedAsByQemuImg(String verb, List<String> args) throws Exception {
        List<String> qemu = new ArrayList<>(List.of(verb));
        qemu.addAll(args);
        Cli.Result theirs = Cli.qemuImg(dir, qemu.toArray(String[]::new));
        List<String> mine = new ArrayList<>(List.of("image", verb));
        mine.addAll(args);
        Cli.Result ours = Cli.siphon(mine.toArray(String[]::new));
        assertEquals(1, theirs.status(), args + ": " + theirs);
        assertEquals(1, ours.status(), args + ": " + ours);
        assertEquals(theirs.err().replace("qemu-img: ", "siphon: "), ours.err(), args.toString());
    }

    /**
     * {@code qemu-img map --output=json} (with {@code mapArgs}, run in {@code in}) without host
     * offsets, adjacent ranges alike in {@code fields} merged: writes in another order place clusters
     * apart, which this leaves out.
     */
    static List<String> layout(Path in, List<String> mapArgs, List<String> fields) throws Exception {
        List<String> args = new ArrayList<>(List.of("map", "--output=json"));
        args.addAll(mapArgs);
        Cli.Result map = Cli.qemuImg(in, args.toArray(String[]::new));
        assertEquals(0, map.status(), map.toString());
        List<String> ranges = new ArrayList<>();
        long start = 0;
        long end = 0;
        String kind = "";
        for (JsonNode entry : JSON.readTree(map.out())) {
            List<String> values = new ArrayList<>();
            fields.forEach(field -> values.add(String.valueOf(entry.get(field))));
            String next = String.join(" ", values);
            if (!next.equals(kind) && end > start) {
                ranges.add(start + "+" + (end - start) + " " + kind);
                start = end;
            }
            kind = next;
            end = entry.get("start").asLong() + entry.get("length").asLong();
        }
        ranges.add(start + "+" + (end - start) + " " + kind);
        return ranges;
    }
}
