package io.siphon.format.qed;

import io.siphon.block.Allocation;
import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.FastZeroUnsupportedException;
import io.siphon.block.FullReads;
import io.siphon.block.RequestFlag;
import io.siphon.format.BackingReference;
import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import io.siphon.format.ImageFormatException.Reason;
import io.siphon.format.ImageInfo;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import io.siphon.format.raw.RawFormat;
import io.siphon.util.Alignment;
import io.siphon.util.CrashPoints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open QED image. Reads and in-place writes run concurrently; allocating writes run one at a
 * time, as in QEMU. Before the first allocating write after a flush the header's NEED_CHECK bit is
 * set and flushed; a flush or close clears it again.
 */
final class QedImage implements Image {
    private static final Logger LOG = LoggerFactory.getLogger(QedImage.class);
    private static final int ZERO_CHUNK_BYTES = 1 << 20;
    private static final int MAX_EXTENTS = 1024;

    private final ImageFile file;
    private final QedClusterMap map;
    /** Guards the tables, the L2 cache and the allocator; held briefly, never across data I/O. */
    private final ReentrantLock tableLock = new ReentrantLock();
    /** One allocating write (or header update, or check) at a time; taken before the table lock. */
    private final ReentrantLock allocationLock = new ReentrantLock();

    private volatile QedHeader header;
    private volatile Optional<BackingReference> backingReference;
    private volatile Optional<BlockDevice> backing = Optional.empty();
    private volatile boolean closed;

    private QedImage(
            ImageFile file,
            QedHeader header,
            Optional<BackingReference> backingReference,
            QedTable l1,
            long fileSizeBytes) {
        this.file = file;
        this.header = header;
        this.backingReference = backingReference;
        this.map = new QedClusterMap(file, header, l1, new QedAllocator(header.clusterSize(), fileSizeBytes));
    }

    /** Opens the image on {@code file}; a writable image that needs a check is repaired first. */
    static QedImage open(ImageFile file, OpenOptions options) throws IOException {
        long fileSize = file.sizeBytes();
        ByteBuffer raw = ByteBuffer.allocate((int) Math.min(QedHeader.BYTES, fileSize));
        file.readFully(0, raw);
        QedHeader header = QedHeader.decode(raw.flip(), file.path(), fileSize);
        Optional<BackingReference> reference = readBackingReference(file, header);
        if (options.writable() && (header.autoclearFeatures() & ~QedHeader.KNOWN_AUTOCLEAR_FEATURES) != 0) {
            // Unknown autoclear bits are knocked out, so that the newer program that set them sees
            // that an older one wrote the image since.
            header = header.withAutoclearFeatures(header.autoclearFeatures() & QedHeader.KNOWN_AUTOCLEAR_FEATURES);
            file.writeFully(0, header.encode());
            file.flush();
        }
        QedTable l1 = QedTable.read(file, header.l1TableOffset(), header);
        QedImage image = new QedImage(file, header, reference, l1, fileSize);
        if (options.writable() && header.needsCheck()) {
            CheckReport report = image.check(RepairMode.ALL);
            LOG.warn(
                    "{}: was not closed cleanly; repaired {} corruptions and {} leaked clusters, {} corruptions and"
                            + " {} leaks remain",
                    file.path(),
                    report.corruptionsFixed(),
                    report.leaksFixed(),
                    report.corruptions(),
                    report.leaks());
        }
        return image;
    }

    private static Optional<BackingReference> readBackingReference(ImageFile file, QedHeader header)
            throws IOException {
        if (!header.hasBackingFile()) {
            return Optional.empty();
        }
        ByteBuffer raw = ByteBuffer.allocate((int) header.backingFilenameSize());
        file.readFully(header.backingFilenameOffset(), raw);
        raw.flip();
        // QEMU reads the name as a C string: NUL padding after it is not part of it, and a name of
        // only NULs is no backing file. A NUL with more of a name after it is refused below: QEMU
        // would silently follow the part before it.
        int end = raw.limit();
        while (end > 0 && raw.get(end - 1) == 0) {
            end--;
        }
        raw.limit(end);
        if (!raw.hasRemaining()) {
            return Optional.empty();
        }
        String name;
        try {
            name = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(raw)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ImageFormatException(Reason.MALFORMED, file.path(), "backing file name", "is not valid UTF-8", e);
        }
        if (name.indexOf('\0') >= 0) {
            throw new ImageFormatException(
                    Reason.MALFORMED, file.path(), "backing file name", "contains a NUL byte: '" + name + "'");
        }
        Optional<String> format = header.backingIsRaw() ? Optional.of(RawFormat.NAME) : Optional.empty();
        return Optional.of(new BackingReference(name, format));
    }

    @Override
    public long sizeBytes() {
        return header.imageSize();
    }

    @Override
    public boolean isReadOnly() {
        return !file.isWritable();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        requireOpen();
        long pos = offsetBytes;
        while (dst.hasRemaining()) {
            QedClusterMap.Run run = lookup(pos, dst.remaining());
            int length = (int) run.lengthBytes();
            ByteBuffer part = dst.slice(dst.position(), length);
            switch (run.kind()) {
                case DATA -> file.readZeroPadded(run.hostOffsetBytes(), part);
                case ZERO -> fillZeroes(part);
                case UNALLOCATED, NO_L2_TABLE -> readBacking(pos, part);
            }
            dst.position(dst.position() + length);
            pos += length;
        }
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        long pos = offsetBytes;
        while (src.hasRemaining()) {
            QedClusterMap.Run run = lookup(pos, src.remaining());
            ByteBuffer part = src.slice(src.position(), (int) run.lengthBytes());
            int written = run.isAllocatedInFile() ? writeInPlace(run, part) : allocatingWrite(pos, part);
            src.position(src.position() + written);
            pos += written;
        }
        if (flags.contains(RequestFlag.FUA)) {
            file.flush();
        }
    }

    private int writeInPlace(QedClusterMap.Run run, ByteBuffer part) throws IOException {
        int length = part.remaining();
        file.writeFully(run.hostOffsetBytes(), part);
        return length;
    }

    /**
     * Writes {@code data} at {@code guestOffset} into new clusters appended to the file, filling the
     * rest of the first and last cluster from the backing (copy-on-write), then links them. Returns
     * the bytes written, which may be fewer than asked when the run changed meanwhile.
     */
    private int allocatingWrite(long guestOffset, ByteBuffer data) throws IOException {
        allocationLock.lock();
        try {
            QedClusterMap.Run run = lookup(guestOffset, data.remaining());
            ByteBuffer part = data.slice(0, (int) run.lengthBytes());
            if (run.isAllocatedInFile()) {
                return writeInPlace(run, part);
            }
            int length = part.remaining();
            markNeedCheck();
            long inCluster = header.offsetInCluster(guestOffset);
            long clusterStart = guestOffset - inCluster;
            int clusters = (int) Math.ceilDiv(inCluster + length, header.clusterSize());
            long host;
            tableLock.lock();
            try {
                host = map.allocator().allocate(clusters);
            } finally {
                tableLock.unlock();
            }
            boolean fromBacking = run.kind() != QedClusterMap.Kind.ZERO && backing.isPresent();
            copyOnWrite(clusterStart, host, inCluster, fromBacking);
            file.writeFully(host + inCluster, part);
            long tail = guestOffset + length;
            copyOnWrite(
                    tail, host + inCluster + length, clusters * header.clusterSize() - inCluster - length, fromBacking);
            if (backing.isPresent()) {
                // The new cluster holds backing data the guest never wrote: it must be on disk before
                // the L2 entry that hides the backing, or a crash would turn it into zeroes.
                file.flush();
            }
            CrashPoints.reach("qed.data.written");
            tableLock.lock();
            try {
                map.link(clusterStart, clusters, host);
            } finally {
                tableLock.unlock();
            }
            return length;
        } finally {
            allocationLock.unlock();
        }
    }

    /** Fills {@code lengthBytes} at {@code hostOffset} with what the guest reads at {@code guestOffset}. */
    private void copyOnWrite(long guestOffset, long hostOffset, long lengthBytes, boolean fromBacking)
            throws IOException {
        if (lengthBytes == 0) {
            return;
        }
        if (!fromBacking && hostOffset >= file.sizeBytes()) {
            // Past the end of the file reads as zeroes already; only the file's length matters, so
            // that the last cluster is whole (QEMU ignores a partial cluster at the end).
            file.writeFully(hostOffset + lengthBytes - 1, ByteBuffer.allocate(1));
            return;
        }
        for (long done = 0; done < lengthBytes; ) {
            ByteBuffer fill = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK_BYTES, lengthBytes - done));
            if (fromBacking) {
                readBacking(guestOffset + done, fill);
            }
            file.writeFully(hostOffset + done, fill.clear());
            done += fill.capacity();
        }
    }

    /** Reads what the backing holds at {@code guestOffset}: zeroes past its end or this image's end. */
    private void readBacking(long guestOffset, ByteBuffer dst) throws IOException {
        Optional<BlockDevice> device = backing;
        long available = 0;
        if (device.isPresent()) {
            long limit = Math.min(device.get().sizeBytes(), sizeBytes());
            available = Math.max(0, Math.min(dst.remaining(), limit - guestOffset));
            if (available > 0) {
                FullReads.read(device.get(), guestOffset, dst.slice(dst.position(), (int) available));
            }
        }
        fillZeroes(dst.slice(dst.position() + (int) available, dst.remaining() - (int) available));
    }

    private static void fillZeroes(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    /** Sets NEED_CHECK durably before the first allocation since the last clean flush. */
    private void markNeedCheck() throws IOException {
        if (!header.needsCheck()) {
            writeHeader(header.withFeatures(header.features() | QedHeader.F_NEED_CHECK));
            file.flush();
        }
    }

    private void writeHeader(QedHeader newHeader) throws IOException {
        file.writeFully(0, newHeader.encode());
        header = newHeader;
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        requireWritable();
        if (lengthBytes == 0) {
            return;
        }
        long end = offsetBytes + lengthBytes;
        long clusterSize = header.clusterSize();
        long wholeStart = Alignment.alignUp(offsetBytes, clusterSize);
        // The image's last cluster may extend past its size: a range reaching the end covers it.
        long wholeEnd = end == sizeBytes() ? end : Alignment.alignDown(end, clusterSize);
        boolean fast = flags.contains(RequestFlag.NO_FALLBACK);
        // With NO_FALLBACK, partial clusters would need data writes: refuse before changing anything.
        boolean partial = wholeStart >= wholeEnd || wholeStart != offsetBytes || wholeEnd != end;
        if (fast && partial) {
            throw new FastZeroUnsupportedException(file.path() + ": zeroing " + lengthBytes + " bytes at " + offsetBytes
                    + " needs data writes for partial clusters");
        }
        if (wholeStart >= wholeEnd) {
            writeZeroData(offsetBytes, lengthBytes);
        } else {
            writeZeroData(offsetBytes, wholeStart - offsetBytes);
            zeroClusters(wholeStart, wholeEnd, flags);
            writeZeroData(wholeEnd, end - wholeEnd);
        }
        if (flags.contains(RequestFlag.FUA)) {
            file.flush();
        }
    }

    private void writeZeroData(long offsetBytes, long lengthBytes) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK_BYTES, lengthBytes));
        for (long done = 0; done < lengthBytes; ) {
            zeroes.clear().limit((int) Math.min(zeroes.capacity(), lengthBytes - done));
            write(offsetBytes + done, zeroes, Set.of());
            done += zeroes.limit();
        }
    }

    /**
     * Zeroes whole clusters: markers where nothing is allocated; where data clusters are, the file
     * range is zeroed in place (hole punched with MAY_UNMAP), as dropping the cluster would leak it
     * (QED has no free list).
     */
    private void zeroClusters(long start, long end, Set<RequestFlag> flags) throws IOException {
        long pos = start;
        while (pos < end) {
            QedClusterMap.Run run = lookup(pos, end - pos);
            switch (run.kind()) {
                case ZERO -> pos += run.lengthBytes();
                case DATA -> {
                    long hostBytes = Alignment.alignUp(run.lengthBytes(), header.clusterSize());
                    boolean done = flags.contains(RequestFlag.MAY_UNMAP)
                            ? file.punchHole(run.hostOffsetBytes(), hostBytes)
                            : file.zeroRange(run.hostOffsetBytes(), hostBytes);
                    if (!done) {
                        if (flags.contains(RequestFlag.NO_FALLBACK)) {
                            throw new FastZeroUnsupportedException(file.path() + ": the file system cannot zero "
                                    + hostBytes + " bytes at " + run.hostOffsetBytes() + " without writing them");
                        }
                        writeZeroData(pos, run.lengthBytes());
                    }
                    pos += run.lengthBytes();
                }
                case UNALLOCATED, NO_L2_TABLE -> pos += linkZeroMarkers(pos, run.lengthBytes());
            }
        }
    }

    /** Returns the bytes marked; 0 when the run changed meanwhile (the caller looks again). */
    private long linkZeroMarkers(long guestOffset, long lengthBytes) throws IOException {
        allocationLock.lock();
        try {
            QedClusterMap.Run run = lookup(guestOffset, lengthBytes);
            if (!run.isUnallocated()) {
                return 0;
            }
            markNeedCheck();
            tableLock.lock();
            try {
                map.link(
                        guestOffset,
                        (int) Math.ceilDiv(run.lengthBytes(), header.clusterSize()),
                        QedTable.ZERO_CLUSTER);
            } finally {
                tableLock.unlock();
            }
            return run.lengthBytes();
        } finally {
            allocationLock.unlock();
        }
    }

    /**
     * Punches holes in the file under whole data clusters of the range, which then read as zeroes;
     * the clusters stay in the tables, because QED has no free-space map and a dropped cluster would
     * be a leak that {@code qemu-img check} reports. Partial clusters and unallocated ones are left
     * as they are.
     */
    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        requireWritable();
        long end = offsetBytes + lengthBytes;
        long wholeStart = Alignment.alignUp(offsetBytes, header.clusterSize());
        long wholeEnd = end == sizeBytes() ? end : Alignment.alignDown(end, header.clusterSize());
        for (long pos = wholeStart; pos < wholeEnd; ) {
            QedClusterMap.Run run = lookup(pos, wholeEnd - pos);
            if (run.isAllocatedInFile()) {
                file.punchHole(run.hostOffsetBytes(), Alignment.alignUp(run.lengthBytes(), header.clusterSize()));
            }
            pos += run.lengthBytes();
        }
    }

    @Override
    public void flush() throws IOException {
        requireOpen();
        if (!file.isWritable()) {
            return;
        }
        allocationLock.lock();
        try {
            file.flush();
            if (header.needsCheck()) {
                // Every table update is on disk: the image is consistent until the next allocation,
                // which sets the bit (durably) again first.
                writeHeader(header.withFeatures(header.features() & ~QedHeader.F_NEED_CHECK));
            }
        } finally {
            allocationLock.unlock();
        }
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        requireOpen();
        List<Extent> extents = new ArrayList<>();
        long end = offsetBytes + lengthBytes;
        for (long pos = offsetBytes; pos < end && extents.size() < MAX_EXTENTS; ) {
            QedClusterMap.Run run = lookup(pos, end - pos);
            Extent next = switch (run.kind()) {
                case DATA -> new Extent(pos, run.lengthBytes(), Allocation.DATA, run.hostOffsetBytes());
                case ZERO -> new Extent(pos, run.lengthBytes(), Allocation.ZERO);
                case UNALLOCATED, NO_L2_TABLE -> new Extent(pos, run.lengthBytes(), Allocation.UNALLOCATED);
            };
            if (!extents.isEmpty() && continues(extents.getLast(), next)) {
                Extent last = extents.removeLast();
                next = new Extent(
                        last.offsetBytes(),
                        last.lengthBytes() + next.lengthBytes(),
                        last.allocation(),
                        last.hostOffsetBytes());
            }
            extents.add(next);
            pos += run.lengthBytes();
        }
        return extents;
    }

    private static boolean continues(Extent last, Extent next) {
        if (last.allocation() != next.allocation()) {
            return false;
        }
        return last.allocation() != Allocation.DATA
                || last.hostOffsetBytes() + last.lengthBytes() == next.hostOffsetBytes();
    }

    private QedClusterMap.Run lookup(long guestOffset, long maxLengthBytes) throws IOException {
        tableLock.lock();
        try {
            return map.lookup(guestOffset, maxLengthBytes);
        } finally {
            tableLock.unlock();
        }
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String formatName() {
        return QedFormat.NAME;
    }

    @Override
    public Optional<BackingReference> backingReference() {
        return backingReference;
    }

    @Override
    public void attachBacking(Optional<? extends BlockDevice> device) {
        backing = device.map(BlockDevice.class::cast);
    }

    @Override
    public Optional<BlockDevice> backing() {
        return backing;
    }

    @Override
    public void changeBackingReference(Optional<BackingReference> reference) throws IOException {
        requireWritable();
        allocationLock.lock();
        try {
            if (reference.isPresent() && (header.compatFeatures() & ~QedHeader.KNOWN_COMPAT_FEATURES) != 0) {
                throw new ImageFormatException(
                        Reason.UNSUPPORTED,
                        file.path(),
                        "compat_features",
                        String.format(
                                "unknown compat features 0x%x may use the header space a backing name needs",
                                header.compatFeatures()));
            }
            byte[] name = reference
                    .map(r -> r.name().getBytes(StandardCharsets.UTF_8))
                    .orElse(new byte[0]);
            QedFormat.requireBackingNameFits(file.path(), name.length, header.headerBytes());
            boolean raw = reference
                    .flatMap(BackingReference::format)
                    .filter(RawFormat.NAME::equals)
                    .isPresent();
            QedHeader updated = header.withBackingName(name.length, raw);
            ByteBuffer bytes = ByteBuffer.allocate(QedHeader.BYTES + name.length);
            bytes.put(updated.encode()).put(name).flip();
            // Header and name in one write from offset 0, then a flush: the old link or the new one.
            CrashPoints.reach("qed.header.before");
            file.writeFully(0, bytes);
            CrashPoints.reach("qed.header.written");
            file.flush();
            CrashPoints.reach("qed.header.flushed");
            header = updated;
            backingReference = reference.map(
                    r -> new BackingReference(r.name(), raw ? Optional.of(RawFormat.NAME) : Optional.empty()));
        } finally {
            allocationLock.unlock();
        }
    }

    /**
     * Grows the virtual size (QED, as QEMU, cannot shrink) in one durable header write, then closes
     * the image, whose size is fixed while open. The new range reads as unallocated.
     */
    void grow(long newSizeBytes) throws IOException {
        requireWritable();
        allocationLock.lock();
        try {
            if (newSizeBytes < header.imageSize()) {
                throw new ImageFormatException(
                        Reason.UNSUPPORTED, file.path(), "image_size", "shrinking QED images is not supported");
            }
            if (!QedHeader.isValidImageSize(newSizeBytes, header.clusterSize(), header.tableSize())) {
                throw new ImageFormatException(
                        Reason.REFUSED,
                        file.path(),
                        "image_size",
                        newSizeBytes + ": QED image size must be a multiple of 512 and at most "
                                + QedHeader.maxImageSize(header.clusterSize(), header.tableSize()) + " bytes");
            }
            flush();
            // the 64-byte header alone: the backing name after it is unchanged
            file.writeFully(0, header.withImageSize(newSizeBytes).encode());
            file.flush();
        } finally {
            allocationLock.unlock();
        }
        close();
    }

    @Override
    public ImageInfo info() throws IOException {
        return new ImageInfo(
                QedFormat.NAME,
                file.path(),
                sizeBytes(),
                OptionalInt.of((int) header.clusterSize()),
                backingReference,
                header.needsCheck(),
                Map.of(),
                OptionalLong.of(file.allocatedBytes()));
    }

    @Override
    public CheckReport check(RepairMode mode) throws IOException {
        requireOpen();
        // qemu-img's -r leaks and -r all both let QED fix what it can
        boolean fix = mode != RepairMode.NONE && file.isWritable();
        allocationLock.lock();
        tableLock.lock();
        try {
            QedChecker.Outcome outcome =
                    new QedChecker(file, header, map.l1(), map.allocator().endBytes(), fix).run();
            CheckReport report = outcome.report();
            if (fix) {
                map.invalidate();
                map.allocator().truncatedTo(outcome.fileClusterEnd());
                if (report.corruptions() == 0 && report.checkErrors() == 0 && header.needsCheck()) {
                    file.flush();
                    writeHeader(header.withFeatures(header.features() & ~QedHeader.F_NEED_CHECK));
                    file.flush();
                }
            }
            return report;
        } finally {
            tableLock.unlock();
            allocationLock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (file.isWritable()) {
                allocationLock.lock();
                try {
                    file.flush();
                    if (header.needsCheck()) {
                        writeHeader(header.withFeatures(header.features() & ~QedHeader.F_NEED_CHECK));
                        file.flush();
                    }
                } finally {
                    allocationLock.unlock();
                }
            }
        } finally {
            file.close();
        }
    }

    private void requireOpen() throws ImageFormatException {
        if (closed) {
            throw new ImageFormatException(Reason.REFUSED, file.path(), "", "image is closed");
        }
    }

    private void requireWritable() throws ImageFormatException {
        requireOpen();
        if (!file.isWritable()) {
            throw new ImageFormatException(Reason.REFUSED, file.path(), "", "image is read-only");
        }
    }
}
