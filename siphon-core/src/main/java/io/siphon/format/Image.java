package io.siphon.format;

import io.siphon.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One open image file in one format: a {@link BlockDevice} whose unallocated ranges read from its
 * attached backing device (or as zeroes without one).
 *
 * <p>Block status describes this image only: {@code UNALLOCATED} means "falls through to the
 * backing". Closing an image does not close its backing; {@link ImageChain} owns the whole chain.
 */
public interface Image extends BlockDevice {
    /** The image file. */
    Path path();

    /** The format's name as qemu-img spells it (raw, qcow2, qed). */
    String formatName();

    /** The backing link recorded in the header, if any. */
    Optional<BackingReference> backingReference();

    /**
     * Sets the device that unallocated ranges read from. The device may be smaller or larger than
     * this image: ranges past its end read as zeroes. Called once by the chain opener, and again when
     * a pull or rebase changes the chain.
     */
    void attachBacking(Optional<? extends BlockDevice> backing);

    /** The attached backing device, if any. */
    Optional<BlockDevice> backing();

    /**
     * Rewrites the header's backing link (or removes it) in one durable write, without copying data:
     * {@code qemu-img rebase -u}. The attached backing device is not changed.
     */
    void changeBackingReference(Optional<BackingReference> reference) throws IOException;

    /** What {@code info} shows. */
    ImageInfo info() throws IOException;

    /**
     * Writes {@code src} at {@code offsetBytes} with each cluster compressed ({@code qemu-img convert
     * -c}): whole clusters from a cluster boundary, or a last part cluster ending at the disk's end,
     * into clusters not allocated yet; a cluster that does not shrink is written as it is. Formats
     * without compressed clusters refuse ({@link ImageFormat#supportsCompression}).
     */
    default void writeCompressed(long offsetBytes, ByteBuffer src) throws IOException {
        throw new ImageFormatException(
                ImageFormatException.Reason.UNSUPPORTED, path(), "", "Compression not supported for this file format");
    }

    /** Checks consistency and repairs what {@code mode} allows. Read-only images repair nothing. */
    CheckReport check(RepairMode mode) throws IOException;
}
