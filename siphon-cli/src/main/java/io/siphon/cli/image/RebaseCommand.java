package io.siphon.cli.image;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.cli.CliException;
import io.siphon.cli.Failures;
import io.siphon.cli.view.QemuProgress;
import io.siphon.format.BackingNames;
import io.siphon.format.BackingReference;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image rebase}: gives an image a new backing file (or none), as qemu-img rebase. */
@Command(
        name = "rebase",
        description = {
            "Change FILE's backing file to BACKING, or remove it with -b \"\".",
            "Safe mode (the default) first copies into FILE every range FILE does not hold where the"
                    + " old backing chain and BACKING read differently, so that FILE reads the same"
                    + " afterwards. -u only rewrites the header: use it when the old and new backing"
                    + " files hold the same data (a renamed or moved file).",
            "A relative BACKING name is relative to FILE's directory and stored as written."
        },
        exitCodeOnInvalidInput = 1)
final class RebaseCommand implements Callable<Integer> {
    private static final int CHUNK_BYTES = 1 << 20;

    @Mixin
    ImageFormatOption format;

    @Option(names = "-b", required = true, paramLabel = "BACKING", description = "The new backing file; \"\" for none.")
    String backing;

    @Option(names = "-F", paramLabel = "FMT", description = "Format of BACKING (probed when not given).")
    Optional<String> backingFormat = Optional.empty();

    @Option(names = "-u", description = "Unsafe: rewrite the header only, copy nothing.")
    boolean unsafe;

    @Option(names = "-p", description = "Show progress on standard output (safe mode).")
    boolean progress;

    @Option(names = "-q", description = "Quiet: no progress.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The image to rebase.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        Path path = Path.of(file);
        Optional<Path> newBackingPath =
                backing.isEmpty() ? Optional.empty() : Optional.of(BackingNames.resolve(path, backing));
        if (unsafe) {
            try (Image image = ImageChain.openOne(path, format.format, OpenOptions.READ_WRITE)) {
                image.changeBackingReference(newReference(newBackingPath.map(this::probeFormat)));
                image.flush();
            }
            return 0;
        }
        try (ImageChain chain = ImageChain.open(path, format.format, OpenOptions.READ_WRITE);
                ImageChain newChain = newBackingPath.isPresent() ? openNewBacking(newBackingPath.get()) : null) {
            Optional<Image> newTop = Optional.ofNullable(newChain).map(ImageChain::top);
            QemuProgress shown = new QemuProgress(spec.commandLine().getOut(), progress && !quiet);
            copyDifferences(chain.top(), newTop, shown);
            shown.end();
            chain.top().changeBackingReference(newReference(newTop.map(Image::formatName)));
            chain.top().flush();
        }
        return 0;
    }

    private ImageChain openNewBacking(Path newBackingPath) throws CliException {
        try {
            return ImageChain.open(newBackingPath, backingFormat, OpenOptions.BACKING);
        } catch (IOException e) {
            throw new CliException(
                    file + ": could not open new backing file '" + backing + "': " + Failures.describe(e));
        }
    }

    private Optional<BackingReference> newReference(Optional<String> detectedFormat) {
        return backing.isEmpty()
                ? Optional.empty()
                : Optional.of(new BackingReference(backing, backingFormat.or(() -> detectedFormat)));
    }

    /** -u without -F: the format is read from the new backing file, which must then exist. */
    private String probeFormat(Path newBackingPath) {
        return backingFormat.orElseGet(() -> {
            try (Image probed = ImageChain.openOne(newBackingPath, Optional.empty(), OpenOptions.FORCE_SHARE)) {
                return probed.formatName();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot tell the format of new backing file '" + backing + "' ("
                        + Failures.describe(e) + "): name it with -F");
            }
        });
    }

    /**
     * Copies into {@code top}, from its current backing chain, every range that {@code top} does not
     * hold and that the new backing reads differently; writes of partial clusters fill the rest of
     * the cluster from the current chain, which reads the same.
     */
    private static void copyDifferences(Image top, Optional<Image> newBacking, QemuProgress shown) throws IOException {
        Optional<BlockDevice> oldBacking = top.backing();
        ByteBuffer oldData = ByteBuffer.allocate(CHUNK_BYTES);
        ByteBuffer newData = ByteBuffer.allocate(CHUNK_BYTES);
        long offset = 0;
        shown.update(0, top.sizeBytes());
        while (offset < top.sizeBytes()) {
            Extent extent = top.blockStatus(offset, Math.min(CHUNK_BYTES, top.sizeBytes() - offset))
                    .getFirst();
            int length = (int) extent.lengthBytes();
            if (!extent.allocation().isAllocated()) {
                Sectors.readPadded(oldBacking, offset, oldData.clear().limit(length));
                Sectors.readPadded(newBacking, offset, newData.clear().limit(length));
                int from = Sectors.firstDifference(oldData, newData, 0, length);
                while (from >= 0) {
                    int to = Sectors.endOfDifference(oldData, newData, from, length);
                    top.write(offset + from, oldData.slice(from, to - from));
                    from = Sectors.firstDifference(oldData, newData, to, length);
                }
            }
            offset += length;
            shown.update(offset, top.sizeBytes());
        }
    }
}
