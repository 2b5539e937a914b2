package io.siphon.format.raw;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageInfo;
import io.siphon.format.RepairMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * An open raw image. Its size is the file's size when opened. Holes in the file are the disk's zero
 * ranges: block status reports them as {@code ZERO} and data as {@code DATA} (host offset = guest
 * offset, as QEMU's file driver does); discard and unmapping write-zeroes punch holes.
 */
final class RawImage implements Image {
    private static final int ZERO_CHUNK_BYTES = 1 << 20;
    /** One block-status answer stops after this many extents; the caller continues from the last. */
    private static final int MAX_EXTENTS_PER_STATUS = 1024;

    private final ImageFile file;
    private final long sizeBytes;

    RawImage(ImageFile file) throws IOException {
        this.file = file;
        this.sizeBytes = file.sizeBytes();
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean isReadOnly() {
        return !file.isWritable();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        file.readZeroPadded(offsetBytes, dst);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        file.writeFully(offsetBytes, src);
        if (flags.contains(RequestFlag.FUA)) {
            file.flush();
        }
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        if (lengthBytes == 0) {
            return;
        }
        boolean zeroed = flags.contains(RequestFlag.MAY_UNMAP) && file.punchHole(offsetBytes, lengthBytes);
        if (!zeroed) {
            zeroed = file.zeroRange(offsetBytes, lengthBytes);
        }
        if (!zeroed) {
            if (flags.contains(RequestFlag.NO_FALLBACK)) {
                throw new FastZeroUnsupportedException(
                        file.path() + ": the file system can neither punch holes nor zero ranges");
            }
            writeZeroBuffers(offsetBytes, lengthBytes);
        }
        if (flags.contains(RequestFlag.FUA)) {
            file.flush();
        }
    }

    private void writeZeroBuffers(long offsetBytes, long lengthBytes) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK_BYTES, lengthBytes));
        long done = 0;
        while (done < lengthBytes) {
            zeroes.clear().limit((int) Math.min(zeroes.capacity(), lengthBytes - done));
            file.writeFully(offsetBytes + done, zeroes);
            done += zeroes.limit();
        }
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable();
        // Discard is advisory: where holes cannot be punched, keeping the data is a valid outcome.
        file.punchHole(offsetBytes, lengthBytes);
    }

    @Override
    public void flush() throws IOException {
        if (file.isWritable()) {
            file.flush();
        }
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        long end = offsetBytes + lengthBytes;
        List<Extent> extents = new ArrayList<>();
        long position = offsetBytes;
        while (position < end && extents.size() < MAX_EXTENTS_PER_STATUS) {
            // past the file's end (it may have shrunk since it was opened) reads as zeroes: a hole
            long dataStart = Math.min(file.nextData(position).orElse(end), end);
            if (dataStart > position) {
                extents.add(new Extent(position, dataStart - position, Allocation.ZERO, position));
                position = dataStart;
                continue;
            }
            long dataEnd = Math.min(file.nextHole(position).orElse(end), end);
            if (dataEnd > position) {
                extents.add(new Extent(position, dataEnd - position, Allocation.DATA, position));
                position = dataEnd;
            }
            // else a hole was punched between the two queries; the next round sees it
        }
        return extents;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String formatName() {
        return RawFormat.NAME;
    }

    @Override
    public Optional<BackingReference> backingReference() {
        return Optional.empty();
    }

    @Override
    public void attachBacking(Optional<? extends BlockDevice> backing) {
        if (backing.isPresent()) {
            throw new IllegalArgumentException(file.path() + ": a raw image has no backing");
        }
    }

    @Override
    public Optional<BlockDevice> backing() {
        return Optional.empty();
    }

    @Override
    public void changeBackingReference(Optional<BackingReference> reference) throws IOException {
        if (reference.isPresent()) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED,
                    file.path(),
                    "backing file",
                    "raw images have no backing file");
        }
    }

    @Override
    public ImageInfo info() throws IOException {
        return new ImageInfo(
                RawFormat.NAME,
                file.path(),
                sizeBytes,
                OptionalInt.empty(),
                Optional.empty(),
                false,
                Map.of(),
                OptionalLong.of(file.allocatedBytes()));
    }

    @Override
    public CheckReport check(RepairMode mode) throws ImageFormatException {
        throw new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED,
                file.path(),
                "",
                "this image format (raw) does not support checks");
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    private void requireWritable() throws ImageFormatException {
        if (!file.isWritable()) {
            throw new ImageFormatException(ImageFormatException.Reason.REFUSED, file.path(), "", "image is read-only");
        }
    }
}
