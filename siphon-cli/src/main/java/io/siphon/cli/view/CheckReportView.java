package io.siphon.cli.view;

import io.siphon.format.CheckReport;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A check report as qemu-img check prints it: its human summary, or its JSON object with the counts
 * that are not zero.
 *
 * @param filename the image as the user named it
 */
public record CheckReportView(CheckReport report, String filename) {
    /** qemu-img's JSON object, keys in the order qemu-img 7.2 prints them. */
    public Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        report.imageEndOffsetBytes().ifPresent(end -> putNonZero(json, "image-end-offset", end));
        putNonZero(json, "compressed-clusters", report.compressedClusters());
        putNonZero(json, "total-clusters", report.totalClusters());
        putNonZero(json, "corruptions-fixed", report.corruptionsFixed());
        putNonZero(json, "corruptions", report.corruptions());
        json.put("check-errors", report.checkErrors());
        putNonZero(json, "leaks", report.leaks());
        putNonZero(json, "leaks-fixed", report.leaksFixed());
        putNonZero(json, "allocated-clusters", report.allocatedClusters());
        json.put("filename", filename);
        json.put("format", report.format());
        putNonZero(json, "fragmented-clusters", report.fragmentedClusters());
        return json;
    }

    private static void putNonZero(Map<String, Object> json, String key, long value) {
        if (value != 0) {
            json.put(key, value);
        }
    }

    /**
     * Two decimals as C's printf("%.2f") gives them: the double's exact value rounded half to even
     * (1/160 = 0.625 prints 0.62), where Java's %.2f rounds half up.
     */
    static String percent(double value) {
        return new BigDecimal(value).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** qemu-img's human summary, lines ending in newlines. */
    public String human() {
        StringBuilder out = new StringBuilder();
        if (report.corruptions() == 0 && report.leaks() == 0 && report.checkErrors() == 0) {
            out.append("No errors were found on the image.\n");
        }
        if (report.corruptions() > 0) {
            out.append("\n")
                    .append(report.corruptions())
                    .append(" errors were found on the image.\n")
                    .append("Data may be corrupted, or further writes to the image may corrupt it.\n");
        }
        if (report.leaks() > 0) {
            out.append("\n")
                    .append(report.leaks())
                    .append(" leaked clusters were found on the image.\n")
                    .append("This means waste of disk space, but no harm to data.\n");
        }
        if (report.checkErrors() > 0) {
            out.append("\n").append(report.checkErrors()).append(" internal errors have occurred during the check.\n");
        }
        long allocated = report.allocatedClusters();
        if (report.totalClusters() != 0 && allocated != 0) {
            out.append(String.format(
                    Locale.ROOT,
                    "%d/%d = %s%% allocated, %s%% fragmented, %s%% compressed clusters\n",
                    allocated,
                    report.totalClusters(),
                    percent(allocated * 100.0 / report.totalClusters()),
                    percent(report.fragmentedClusters() * 100.0 / allocated),
                    percent(report.compressedClusters() * 100.0 / allocated)));
        }
        report.imageEndOffsetBytes().ifPresent(end -> {
            if (end != 0) {
                out.append("Image end offset: ").append(end).append('\n');
            }
        });
        return out.toString();
    }
}
