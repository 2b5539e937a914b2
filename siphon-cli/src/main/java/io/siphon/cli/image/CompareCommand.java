package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.view.MapEntry;
import io.siphon.cli.view.QemuProgress;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image compare}: whether two chains read the same, as qemu-img compare. */
@Command(
        name = "compare",
        description = {
            "Compare what FILE1 and FILE2 (with their backing chains) read.",
            "Images of different sizes are identical when the larger one's extra area reads as" + " zeroes, unless -s.",
            "Exit status: 0 identical, 1 different, 2 error."
        },
        exitCodeOnInvalidInput = 2,
        exitCodeOnExecutionException = 2)
final class CompareCommand implements Callable<Integer> {
    private static final int CHUNK_BYTES = 1 << 20;

    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption firstFormat;

    @Option(names = "-F", paramLabel = "FMT", description = "Format of FILE2 (probed when not given).")
    Optional<String> secondFormat = Optional.empty();

    @Option(names = "-s", description = "Strict: sizes and allocation must match too.")
    boolean strict;

    @Mixin
    ForceShareOption share;

    @Mixin
    RemoteBackingOptions remote;

    @Option(names = "-q", description = "Quiet: print nothing, only set the exit status.")
    boolean quiet;

    @Parameters(index = "0", paramLabel = "FILE1", description = "The first image.")
    String file1;

    @Parameters(index = "1", paramLabel = "FILE2", description = "The second image.")
    String file2;

    @Option(names = "-p", description = "Show progress on standard output.")
    boolean progress;

    private PrintWriter out;
    private QemuProgress shown;

    @Override
    public Integer call() throws IOException, CliException {
        out = spec.commandLine().getOut();
        shown = new QemuProgress(out, progress && !quiet);
        OpenOptions options = share.readOnly().withRemote(remote.policy(file1, file2));
        try (ImageChain chain1 = ImageChain.open(file1, firstFormat.format, options);
                ImageChain chain2 = ImageChain.open(file2, secondFormat, options)) {
            ChainMap map1 = new ChainMap(chain1.images(), ChainNames.of(chain1, file1));
            ChainMap map2 = new ChainMap(chain2.images(), ChainNames.of(chain2, file2));
            long size1 = map1.sizeBytes();
            long size2 = map2.sizeBytes();
            if (strict && size1 != size2) {
                return say(1, "Strict mode: Image size mismatch!");
            }
            ByteBuffer buffer1 = ByteBuffer.allocate(CHUNK_BYTES);
            ByteBuffer buffer2 = ByteBuffer.allocate(CHUNK_BYTES);
            long common = Math.min(size1, size2);
            long total = Math.max(size1, size2);
            long offset = 0;
            shown.update(0, total);
            while (offset < common) {
                // status is asked for up to the end, as qemu-img does: strict mode compares it whole
                MapEntry entry1 = map1.entryAt(offset, common - offset);
                MapEntry entry2 = map2.entryAt(offset, common - offset);
                int length = (int) Math.min(CHUNK_BYTES, Math.min(entry1.lengthBytes(), entry2.lengthBytes()));
                if (strict && !status(entry1, size1).equals(status(entry2, size2))) {
                    return say(1, "Strict mode: Offset " + offset + " block status mismatch!");
                }
                if (!(entry1.zero() && entry2.zero())) {
                    Sectors.readPadded(
                            Optional.of(chain1.top()), offset, buffer1.clear().limit(length));
                    Sectors.readPadded(
                            Optional.of(chain2.top()), offset, buffer2.clear().limit(length));
                    int differs = Sectors.firstDifference(buffer1, buffer2, 0, length);
                    if (differs >= 0) {
                        return say(1, "Content mismatch at offset " + (offset + differs) + "!");
                    }
                }
                offset += length;
                shown.update(offset, total);
            }
            if (size1 != size2) {
                if (!quiet) {
                    out.println("Warning: Image size mismatch!");
                }
                boolean firstIsLarger = size1 > size2;
                ChainMap larger = firstIsLarger ? map1 : map2;
                ImageChain largerChain = firstIsLarger ? chain1 : chain2;
                while (offset < larger.sizeBytes()) {
                    MapEntry entry = larger.entryAt(offset, CHUNK_BYTES);
                    int length = (int) entry.lengthBytes();
                    if (!entry.zero()) {
                        Sectors.readPadded(
                                Optional.of(largerChain.top()),
                                offset,
                                buffer1.clear().limit(length));
                        int nonZero = Sectors.firstNonZero(buffer1, length);
                        if (nonZero >= 0) {
                            return say(1, "Content mismatch at offset " + (offset + nonZero) + "!");
                        }
                    }
                    offset += length;
                    shown.update(offset, total);
                }
            }
        }
        return say(0, "Images are identical.");
    }

    /**
     * What qemu-img's strict mode compares of a range's status: allocation, zero, data, whether it
     * has a host offset, and whether it reaches the end of the image.
     */
    private static List<Boolean> status(MapEntry entry, long sizeBytes) {
        return List.of(
                entry.present(),
                entry.zero(),
                entry.data(),
                entry.hostOffsetBytes().isPresent(),
                entry.endBytes() == sizeBytes);
    }

    /** Prints the verdict (unless quiet), then ends the progress as qemu-img does. */
    private int say(int status, String message) {
        if (!quiet) {
            out.println(message);
        }
        shown.newline();
        return status;
    }
}
