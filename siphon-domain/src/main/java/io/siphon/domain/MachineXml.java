package io.siphon.domain;

import static io.siphon.domain.DomainXml.childText;
import static io.siphon.domain.DomainXml.children;
import static io.siphon.domain.DomainXml.firstChild;
import static io.siphon.domain.DomainXml.invalid;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.w3c.dom.Element;

/**
 * Reads the machine of a libvirt domain XML: {@code <memory>}, {@code <vcpu>}, {@code <os>} (direct
 * kernel boot or {@code <boot dev='hd'/>}), {@code <emulator>}, the first {@code <serial>} or
 * {@code <console>} (type file or pty), and checks that every disk is on a virtio bus, the only one
 * Siphon attaches. A domain whose {@code <os>} has neither kernel nor boot describes no machine.
 */
final class MachineXml {
    /** libvirt's memory units (its {@code virScaleInteger}); no unit means KiB. */
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("b", 1L),
            Map.entry("bytes", 1L),
            Map.entry("KB", 1000L),
            Map.entry("k", 1L << 10),
            Map.entry("KiB", 1L << 10),
            Map.entry("MB", 1000L * 1000),
            Map.entry("M", 1L << 20),
            Map.entry("MiB", 1L << 20),
            Map.entry("GB", 1000L * 1000 * 1000),
            Map.entry("G", 1L << 30),
            Map.entry("GiB", 1L << 30),
            Map.entry("TB", 1000L * 1000 * 1000 * 1000),
            Map.entry("T", 1L << 40),
            Map.entry("TiB", 1L << 40));

    private static final long MIN_MEMORY_BYTES = 16L << 20;
    private static final int MAX_VCPUS = 255;

    private MachineXml() {}

    static Optional<MachineDefinition> parse(Element domain, List<DiskDefinition> disks) {
        Optional<Element> os = firstChild(domain, "os");
        if (os.isEmpty()
                || (firstChild(os.get(), "kernel").isEmpty()
                        && firstChild(os.get(), "boot").isEmpty())) {
            return Optional.empty();
        }
        for (DiskDefinition disk : disks) {
            if (!disk.bus().equals("virtio")) {
                throw invalid("disk " + disk.target() + ": bus '" + disk.bus()
                        + "' is not supported; a machine's disks must be <target bus='virtio'/>");
            }
        }
        Optional<Element> devices = firstChild(domain, "devices");
        return Optional.of(new MachineDefinition(
                memoryBytes(domain),
                vcpus(domain),
                devices.flatMap(d -> childText(d, "emulator"))
                        .filter(e -> !e.isEmpty())
                        .orElse(MachineDefinition.DEFAULT_EMULATOR),
                boot(os.get()),
                devices.flatMap(MachineXml::serial),
                domain.getAttribute("type").equals("qemu")));
    }

    private static long memoryBytes(Element domain) {
        Element memory = firstChild(domain, "memory").orElseThrow(() -> invalid("a machine needs <memory>"));
        String unit = memory.getAttribute("unit").isEmpty() ? "KiB" : memory.getAttribute("unit");
        Long scale = UNITS.get(unit);
        if (scale == null) {
            throw invalid("<memory unit='" + unit + "'> is not a unit (KiB, MiB, GiB, ...)");
        }
        String text = memory.getTextContent().strip();
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(text), scale);
        } catch (NumberFormatException | ArithmeticException e) {
            throw invalid("<memory> '" + text + "' is not a size in " + unit);
        }
        if (bytes < MIN_MEMORY_BYTES) {
            throw invalid("<memory> " + text + " " + unit + " is less than 16 MiB");
        }
        return bytes;
    }

    private static int vcpus(Element domain) {
        Optional<String> text = childText(domain, "vcpu");
        if (text.isEmpty()) {
            return 1;
        }
        try {
            int vcpus = Integer.parseInt(text.get());
            if (vcpus >= 1 && vcpus <= MAX_VCPUS) {
                return vcpus;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw invalid("<vcpu> '" + text.get() + "' is not a count from 1 to " + MAX_VCPUS);
    }

    private static MachineBoot boot(Element os) {
        Optional<String> kernel = childText(os, "kernel");
        if (kernel.isPresent()) {
            return new MachineBoot.Kernel(
                    absolute("<kernel>", kernel.get()),
                    childText(os, "initrd").filter(i -> !i.isEmpty()).map(i -> absolute("<initrd>", i)),
                    childText(os, "cmdline").orElse(""));
        }
        for (Element boot : children(os, "boot")) {
            String dev = boot.getAttribute("dev");
            if (!dev.equals("hd")) {
                throw invalid("<boot dev='" + dev + "'/> is not supported, only dev='hd' or <kernel>");
            }
        }
        return new MachineBoot.FirstDisk();
    }

    /** The first serial port, else the console; types other than file and pty are refused, not dropped. */
    private static Optional<SerialPort> serial(Element devices) {
        for (String tag : List.of("serial", "console")) {
            Optional<Element> port = firstChild(devices, tag);
            if (port.isPresent()) {
                String type = port.get().getAttribute("type");
                return Optional.of(
                        switch (type) {
                            case "file" ->
                                new SerialPort.File(absolute(
                                        "<" + tag + "><source path>",
                                        firstChild(port.get(), "source")
                                                .map(s -> s.getAttribute("path"))
                                                .filter(p -> !p.isEmpty())
                                                .orElseThrow(() -> invalid(
                                                        "<" + tag + " type='file'> has no <source path='...'/>"))));
                            case "pty" ->
                                new SerialPort.Pty(firstChild(port.get(), "log")
                                        .map(log -> log.getAttribute("file"))
                                        .map(file -> absolute("<" + tag + "><log file>", file)));
                            default ->
                                throw invalid("<" + tag + " type='" + type
                                        + "'> is not supported, only type='file' or 'pty'");
                        });
            }
        }
        return Optional.empty();
    }

    private static Path absolute(String what, String file) {
        Path path = Path.of(file);
        if (!path.isAbsolute()) {
            throw invalid(what + " '" + file + "' must be an absolute path");
        }
        return path;
    }
}
