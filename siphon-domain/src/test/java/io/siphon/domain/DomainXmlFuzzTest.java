package io.siphon.domain;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.testing.fuzz.FuzzCampaign;
import io.siphon.testing.fuzz.Mutations;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * Fuzzes {@link DomainXml#parse} with structure-aware mutations of valid domains (a file disk, a
 * machine booted from its kernel or its disk, a cdrom, two disks): an attribute or a text set to an
 * interesting value or dropped, an element dropped, duplicated, renamed, nested a little or (as text) thousands deep;
 * then, for some, the text cut, flipped, given bytes, a DOCTYPE with entities, CDATA or comments.
 * A case must parse or fail with an {@link ErrorCode#INVALID_ARG} that says "domain XML: ", in
 * time; what parses must parse again from its stored XML to the same definition (so a define
 * survives the daemon's restart). Cases in {@code src/test/resources/domain-xml-fuzz-corpus} run
 * first.
 */
class DomainXmlFuzzTest {
    private static final String[] SEEDS = {
        "<domain><name>web</name><devices><disk type='file'><driver type='qcow2' copy_on_read='on'/>"
                + "<source file='/srv/web.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>",
        "<domain type='qemu'><name>vm</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"
                + "<memory unit='MiB'>256</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type>"
                + "<kernel>/boot/vmlinuz</kernel><initrd>/boot/initrd</initrd><cmdline>console=ttyS0</cmdline></os>"
                + "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><disk type='file' device='disk'>"
                + "<driver type='qed'/><source file='/srv/vm.qed'/><target dev='vda' bus='virtio'/><readonly/></disk>"
                + "<serial type='file'><source path='/var/log/vm.log'/></serial></devices></domain>",
        "<domain><name>boot</name><memory>65536</memory><os><boot dev='hd'/></os><devices>"
                + "<disk type='file' device='cdrom'><source file='/srv/cd.iso'/><target dev='hdc'/></disk>"
                + "<disk type='file'><driver type='raw'/><source file='/srv/a.raw'/><target dev='vda' bus='virtio'/></disk>"
                + "<disk type='file'><source file='/srv/b.raw'/><target dev='vdb' bus='virtio'/></disk>"
                + "<console type='file'><source path='/tmp/c'/></console></devices></domain>"
    };
    private static final String[] STRINGS = {
        "",
        " ",
        "on",
        "off",
        "maybe",
        "file",
        "block",
        "network",
        "qcow2",
        "vmdk",
        "virtio",
        "ide",
        "hd",
        "cdrom",
        "-1",
        "0",
        "99999999999999999999",
        "9223372036854775807",
        "1e3",
        " 5 ",
        "+16",
        "relative/path",
        "/",
        "/srv/../etc/passwd",
        "../x",
        ".hidden",
        "a/b",
        "4dea22b3-1d52-d8f3-2516-782e98ab3fa",
        "1-1-1-1-1",
        "\u00e9\u4e2d\ud83d\ude00",
        "KiB",
        "EiB",
        "b"
    };
    private static final String[] TAGS = {
        "name",
        "uuid",
        "devices",
        "disk",
        "driver",
        "source",
        "target",
        "readonly",
        "memory",
        "vcpu",
        "os",
        "kernel",
        "initrd",
        "cmdline",
        "boot",
        "emulator",
        "serial",
        "console",
        "domain"
    };
    private static final String[] ATTRIBUTES = {
        "type", "device", "file", "dev", "bus", "copy_on_read", "unit", "path", "arch"
    };

    @Test
    void parsesOrRefusesWithATypedErrorAndRoundTrips() throws Exception {
        FuzzCampaign campaign = FuzzCampaign.start("domain-xml", "xml", 1000, Duration.ofSeconds(20));
        for (Path kept : campaign.corpus(Path.of("src", "test", "resources", "domain-xml-fuzz-corpus"))) {
            String xml = Files.readString(kept);
            campaign.run(kept.getFileName().toString(), xml.getBytes(StandardCharsets.UTF_8), () -> exercise(xml));
        }
        for (int i = 0; i < campaign.cases(); i++) {
            long seed = campaign.seed(i);
            String xml = mutate(new Random(seed));
            campaign.run("seed " + seed, xml.getBytes(StandardCharsets.UTF_8), () -> exercise(xml));
        }
        campaign.finish();
    }

    /** True when refused with the typed error; throws on anything else or when a round trip differs. */
    private static boolean exercise(String xml) {
        DomainDefinition parsed;
        try {
            parsed = DomainXml.parse(xml);
        } catch (SiphonException e) {
            if (e.code() != ErrorCode.INVALID_ARG || !e.getMessage().startsWith("domain XML: ")) {
                throw new AssertionError("refused with " + e.code() + ": " + e.getMessage(), e);
            }
            return true;
        }
        DomainDefinition again = DomainXml.parse(parsed.xml());
        if (!again.name().equals(parsed.name())
                || !again.uuid().equals(parsed.uuid())
                || !again.disks().equals(parsed.disks())
                || !again.machine().equals(parsed.machine())) {
            throw new AssertionError("the stored XML reads back differently: " + parsed + " then " + again);
        }
        return false;
    }

    private static String mutate(Random random) throws Exception {
        Document document = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(new InputSource(new StringReader(Mutations.pickOf(random, SEEDS))));
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            mutateTree(document, random);
        }
        String xml = write(document);
        if (random.nextInt(4) == 0) {
            xml = mutateText(xml, random);
        }
        if (random.nextInt(20) == 0) {
            // nesting thousands deep, as text: the tree would overflow this test's own serializer
            int depth = 1000 + random.nextInt(100_000);
            String tag = Mutations.pickOf(random, TAGS);
            String nested = ("<" + tag + ">").repeat(depth) + "x" + ("</" + tag + ">").repeat(depth);
            xml = random.nextBoolean()
                    ? xml.replace("</domain>", nested + "</domain>")
                    : xml.replaceFirst("<name>", "<name>" + nested);
        }
        return xml;
    }

    private static void mutateTree(Document document, Random random) {
        List<Element> elements = new ArrayList<>();
        NodeList all = document.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            elements.add((Element) all.item(i));
        }
        Element element = elements.get(random.nextInt(elements.size()));
        boolean root = element == document.getDocumentElement();
        switch (random.nextInt(8)) {
            case 0, 1 -> element.setAttribute(Mutations.pickOf(random, ATTRIBUTES), Mutations.pickOf(random, STRINGS));
            case 2 -> {
                if (element.getAttributes().getLength() > 0) {
                    element.removeAttribute(element.getAttributes()
                            .item(random.nextInt(element.getAttributes().getLength()))
                            .getNodeName());
                }
            }
            case 3 -> element.setTextContent(Mutations.pickOf(random, STRINGS));
            case 4 -> {
                if (!root) {
                    element.getParentNode().removeChild(element);
                }
            }
            case 5 -> {
                if (!root) {
                    element.getParentNode().insertBefore(element.cloneNode(true), element);
                }
            }
            case 6 -> {
                if (!root) {
                    Element renamed = document.createElement(Mutations.pickOf(random, TAGS));
                    while (element.hasChildNodes()) {
                        renamed.appendChild(element.getFirstChild());
                    }
                    element.getParentNode().replaceChild(renamed, element);
                }
            }
            default -> {
                Element at = element;
                for (int depth = random.nextInt(20); depth > 0; depth--) {
                    at = (Element) at.appendChild(document.createElement(Mutations.pickOf(random, TAGS)));
                }
                at.setTextContent(Mutations.pickOf(random, STRINGS));
            }
        }
    }

    private static String mutateText(String xml, Random random) {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        return switch (random.nextInt(7)) {
            case 0 -> new String(Mutations.flip(bytes, random), StandardCharsets.UTF_8);
            case 1 -> new String(Mutations.cut(bytes, random), StandardCharsets.UTF_8);
            case 2 -> new String(Mutations.insert(bytes, random), StandardCharsets.UTF_8);
            case 3 ->
                "<!DOCTYPE domain [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                        + xml.replaceFirst("<name>[^<]*</name>", "<name>&b;</name>");
            case 4 -> xml.replaceFirst("<name>([^<]*)</name>", "<name><![CDATA[$1]]></name>");
            case 5 -> "<?xml version='1.1' encoding='UTF-8'?><!-- c -->" + xml.replace("/srv", "/s&#1;rv");
            default -> xml.replaceFirst("<name>", "<name><?pi x?><!-- c -->");
        };
    }

    private static String write(Document document) throws Exception {
        var transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        StringWriter out = new StringWriter();
        transformer.transform(new DOMSource(document), new StreamResult(out));
        return out.toString();
    }
}
