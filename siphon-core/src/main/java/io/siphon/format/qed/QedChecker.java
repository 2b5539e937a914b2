package io.siphon.format.qed;

import io.siphon.format.CheckReport;
import io.siphon.format.ImageFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalLong;

/**
 * The consistency check of QEMU's qed-check.c: every L2 table and data cluster the tables point to
 * must be a whole cluster inside the file, referenced once; unreferenced clusters are leaks. A
 * repair clears entries that point outside the file (as QEMU does) and, beyond QEMU, cuts leaked
 * clusters off the end of the file, where an interrupted append leaves them. One checker runs one
 * check; the image holds its locks meanwhile.
 */
final class QedChecker {
    private final ImageFile file;
    private final QedHeader header;
    private final QedTable l1;
    private final long fileClusterEnd;
    private final boolean fix;
    private final BitSet used = new BitSet();
    private final List<String> problems = new ArrayList<>();
    private long corruptions;
    private long corruptionsFixed;
    private long checkErrors;
    private long allocated;
    private long fragmented;

    /** What a check found and did; {@code fileClusterEnd} is where the file's clusters end now. */
    record Outcome(CheckReport report, long fileClusterEnd) {}

    QedChecker(ImageFile file, QedHeader header, QedTable l1, long fileClusterEnd, boolean fix) {
        this.file = file;
        this.header = header;
        this.l1 = l1;
        this.fileClusterEnd = fileClusterEnd;
        this.fix = fix;
    }

    Outcome run() throws IOException {
        checkL1();
        long leaks = 0;
        long leaksFixed = 0;
        long end = fileClusterEnd;
        if (checkErrors == 0) {
            if (fix) {
                end = trimTail();
                leaksFixed = (fileClusterEnd - end) / header.clusterSize();
            }
            leaks = qemuLeakCount(end);
        }
        CheckReport report = new CheckReport(
                QedFormat.NAME,
                file.path(),
                corruptions,
                leaks,
                corruptionsFixed,
                leaksFixed,
                checkErrors,
                OptionalLong.empty(),
                Math.ceilDiv(header.imageSize(), header.clusterSize()),
                allocated,
                fragmented,
                0,
                problems);
        return new Outcome(report, end);
    }

    private void checkL1() throws IOException {
        markUsed(header.l1TableOffset(), header.tableSize(), "L1 table");
        int invalid = 0;
        for (int i = 0; i < l1.size(); i++) {
            long offset = l1.get(i);
            if (offset == QedTable.UNALLOCATED) {
                continue;
            }
            if (!header.isValidTableOffset(offset, fileClusterEnd)) {
                invalid++;
                int index = i;
                invalidEntry("L1 table entry " + i + ": L2 table offset " + offset, () -> l1.set(index, 0));
                continue;
            }
            if (!markUsed(offset, header.tableSize(), "L2 table of L1 entry " + i)) {
                continue;
            }
            QedTable l2;
            try {
                l2 = QedTable.read(file, offset, header);
            } catch (IOException e) {
                checkErrors++;
                problems.add("L2 table at " + offset + " could not be read: " + e.getMessage());
                continue;
            }
            if (checkL2(l2) > 0 && fix) {
                writeFixed(l2);
            }
        }
        if (invalid > 0 && fix) {
            writeFixed(l1);
        }
    }

    private int checkL2(QedTable l2) {
        int invalid = 0;
        long last = 0;
        for (int j = 0; j < l2.size(); j++) {
            long offset = l2.get(j);
            if (offset == QedTable.UNALLOCATED || offset == QedTable.ZERO_CLUSTER) {
                continue;
            }
            allocated++;
            if (last != 0 && last + header.clusterSize() != offset) {
                fragmented++;
            }
            last = offset;
            if (!header.isValidClusterOffset(offset, fileClusterEnd)) {
                invalid++;
                int index = j;
                invalidEntry(
                        "L2 table at " + l2.fileOffset() + " entry " + j + ": data cluster offset " + offset,
                        () -> l2.set(index, 0));
                continue;
            }
            markUsed(offset, 1, "data cluster of L2 table at " + l2.fileOffset() + " entry " + j);
        }
        return invalid;
    }

    private void invalidEntry(String what, Runnable clear) {
        String where = " is not a whole cluster between the header (" + header.headerBytes()
                + " bytes) and the end of the file (" + fileClusterEnd + " bytes)";
        if (fix) {
            clear.run();
            corruptionsFixed++;
            problems.add("Repaired: " + what + where + "; entry cleared");
        } else {
            corruptions++;
            problems.add("ERROR " + what + where);
        }
    }

    private void writeFixed(QedTable table) {
        try {
            table.writeAll(file);
        } catch (IOException e) {
            checkErrors++;
            problems.add("table at " + table.fileOffset() + " could not be rewritten: " + e.getMessage());
        }
    }

    /** Marks clusters used; a cluster used already is a corruption (QEMU counts it, never fixes it). */
    private boolean markUsed(long offset, long count, String what) {
        int first = Math.toIntExact(offset / header.clusterSize());
        int doubled = 0;
        for (int c = first; c < first + count; c++) {
            if (used.get(c)) {
                doubled++;
                problems.add("ERROR cluster at " + (long) c * header.clusterSize() + " (" + what
                        + ") is referenced more than once");
            }
            used.set(c);
        }
        corruptions += doubled;
        return doubled == 0;
    }

    /** Cuts unreferenced whole clusters (and any partial cluster) off the end of the file. */
    private long trimTail() throws IOException {
        long lastUsedEnd = Math.max(used.length(), header.headerSize()) * header.clusterSize();
        if (lastUsedEnd < file.sizeBytes()) {
            file.channel().truncate(lastUsedEnd);
            if (lastUsedEnd < fileClusterEnd) {
                problems.add("Repaired: " + (fileClusterEnd - lastUsedEnd) / header.clusterSize()
                        + " leaked clusters cut off the end of the file at " + lastUsedEnd);
            }
        }
        return Math.min(lastUsedEnd, fileClusterEnd);
    }

    /**
     * Leaks as qemu-img 7.2 counts them. Its cluster index is offset / (cluster_size - 1), not
     * offset / cluster_size, which adds one phantom leak per (cluster_size - 1) clusters of file;
     * the count keeps that so that Siphon and qemu-img print the same numbers.
     */
    private long qemuLeakCount(long clusterEnd) {
        long clusters = clusterEnd / header.clusterSize();
        long qemuClusters = clusters + clusters / (header.clusterSize() - 1);
        long referenced = used.get((int) header.headerSize(), (int) clusters).cardinality();
        long real = clusters - header.headerSize() - referenced;
        if (qemuClusters != clusters && real >= 0) {
            problems.add("leak count includes " + (qemuClusters - clusters)
                    + " phantom clusters, as qemu-img 7.2 counts them");
        }
        return Math.max(0, qemuClusters - header.headerSize() - referenced);
    }
}
