package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.Failures;
import io.siphon.cli.view.CheckReportView;
import io.siphon.cli.view.QemuPrettyPrinter;
import io.siphon.format.CheckReport;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.format.RepairMode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image check}: a consistency check with qemu-img check's report and exit status. */
@Command(
        name = "check",
        description = {
            "Check FILE's metadata for consistency, and repair it with -r.",
            "Exit status: 0 no errors, 1 the check could not run, 2 corruptions, 3 only leaked"
                    + " clusters, 63 the format has no checks (raw)."
        },
        exitCodeOnInvalidInput = 1)
final class CheckCommand implements Callable<Integer> {
    /** qemu-img's status for "this image format does not support checks". */
    static final int NOT_SUPPORTED = 63;

    enum Repair {
        LEAKS(RepairMode.LEAKS),
        ALL(RepairMode.ALL);

        final RepairMode mode;

        Repair(RepairMode mode) {
            this.mode = mode;
        }
    }

    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Mixin
    OutputOption output;

    @Option(
            names = "-r",
            paramLabel = "leaks|all",
            description = "Repair: leaks (only leaked clusters) or all (also corruptions).")
    Optional<Repair> repair = Optional.empty();

    @Mixin
    ForceShareOption share;

    @Option(
            names = "-q",
            description = "Quiet: nothing on standard output, as qemu-img (the problems still go to"
                    + " standard error, and the exit status says what was found).")
    boolean quiet;

    @Parameters(paramLabel = "FILE", description = "The image file.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        if (repair.isPresent() && share.forceShare) {
            throw new CliException("-U cannot be used with -r: repairing needs the image locked for writing");
        }
        OpenOptions options = repair.isPresent() ? OpenOptions.READ_WRITE : share.readOnly();
        PrintWriter out = spec.commandLine().getOut();
        CheckReport report;
        try (Image image = ImageChain.openForCheck(Path.of(file), format.format, options)) {
            report = check(image, repair.map(r -> r.mode).orElse(RepairMode.NONE));
            if (report.corruptionsFixed() > 0 || report.leaksFixed() > 0) {
                if (!output.json() && !quiet) {
                    out.print("The following inconsistencies were found and repaired:\n\n"
                            + "    " + report.leaksFixed() + " leaked clusters\n"
                            + "    " + report.corruptionsFixed() + " corruptions\n\n"
                            + "Double checking the fixed image now...\n");
                }
                CheckReport recheck = check(image, RepairMode.NONE);
                report = new CheckReport(
                        recheck.format(),
                        recheck.path(),
                        recheck.corruptions(),
                        recheck.leaks(),
                        report.corruptionsFixed(),
                        report.leaksFixed(),
                        recheck.checkErrors(),
                        recheck.imageEndOffsetBytes(),
                        recheck.totalClusters(),
                        recheck.allocatedClusters(),
                        recheck.fragmentedClusters(),
                        recheck.compressedClusters(),
                        recheck.problems());
            }
        }
        if (!quiet) {
            CheckReportView view = new CheckReportView(report, file);
            out.print(output.json() ? QemuPrettyPrinter.pretty(view.json()) + "\n" : view.human());
            out.flush();
        }
        if (report.checkErrors() > 0) {
            throw new CliException(file + ": check failed", 1);
        }
        return report.exitStatus();
    }

    /** Runs one pass, printing each problem it names on stderr as it is found. */
    private CheckReport check(Image image, RepairMode mode) throws IOException, CliException {
        CheckReport report;
        try {
            report = image.check(mode);
        } catch (ImageFormatException e) {
            if (e.reason() == ImageFormatException.Reason.UNSUPPORTED) {
                throw new CliException(Failures.describe(e), NOT_SUPPORTED);
            }
            throw e;
        }
        PrintWriter err = spec.commandLine().getErr();
        report.problems().forEach(err::println);
        err.flush();
        return report;
    }
}
