package io.siphon.domain;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Reads the parts of a libvirt domain XML that Siphon uses (name, uuid, file disks with driver type,
 * copy_on_read, source, target and bus, readonly; the machine, read by {@code MachineXml}) and ignores
 * the rest, which stays in the stored XML. A DOCTYPE is refused outright, so no
 * DTD is loaded and no entity (external or internal) is expanded. Thread-safe.
 */
public final class DomainXml {
    /** Names become file names in the state directory, so they are kept to a safe alphabet. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}");

    private static final Pattern TARGET = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final Set<String> FORMATS = Set.of("qcow2", "qed", "raw");

    private DomainXml() {}

    /** Parses {@code xml}; every problem is {@link ErrorCode#INVALID_ARG} naming the element and value. */
    public static DomainDefinition parse(String xml) {
        Document document = read(xml);
        Element root = document.getDocumentElement();
        if (!root.getTagName().equals("domain")) {
            throw invalid("root element is <" + root.getTagName() + ">, not <domain>");
        }
        String name = childText(root, "name").orElseThrow(() -> invalid("<domain> has no <name>"));
        if (!NAME.matcher(name).matches()) {
            throw invalid("<name> '" + name + "' must be 1-64 of A-Z a-z 0-9 _ . + - and not start with . + -");
        }
        UUID uuid;
        Optional<String> uuidText = childText(root, "uuid");
        if (uuidText.isPresent()) {
            try {
                uuid = UUID.fromString(uuidText.get());
            } catch (IllegalArgumentException e) {
                throw invalid("<uuid> '" + uuidText.get() + "' is not a UUID");
            }
        } else {
            uuid = UUID.randomUUID();
            xml = withUuid(xml, name, uuid).orElseGet(() -> {
                Element element = document.createElement("uuid");
                element.setTextContent(uuid.toString());
                root.insertBefore(
                        element, firstChild(root, "name").orElseThrow().getNextSibling());
                return write(document);
            });
        }
        List<DiskDefinition> disks = new ArrayList<>();
        Set<String> targets = new HashSet<>();
        for (Element devices : children(root, "devices")) {
            for (Element disk : children(devices, "disk")) {
                String device = disk.getAttribute("device");
                if (!device.isEmpty() && !device.equals("disk")) {
                    continue; // cdroms and floppies carry no chain to manage
                }
                DiskDefinition definition = disk(disk);
                if (!targets.add(definition.target())) {
                    throw invalid("two disks have <target dev='" + definition.target() + "'/>");
                }
                disks.add(definition);
            }
        }
        return new DomainDefinition(name, uuid, disks, MachineXml.parse(root, disks), xml);
    }

    private static DiskDefinition disk(Element disk) {
        String target = firstChild(disk, "target")
                .map(t -> t.getAttribute("dev"))
                .filter(dev -> !dev.isEmpty())
                .orElseThrow(() -> invalid("a <disk> has no <target dev='...'/>"));
        if (!TARGET.matcher(target).matches()) {
            throw invalid("<target dev='" + target + "'/> must be 1-32 of A-Z a-z 0-9 _ -");
        }
        String type = disk.getAttribute("type");
        if (!type.isEmpty() && !type.equals("file")) {
            throw invalid("disk " + target + ": type '" + type + "' is not supported, only type='file'");
        }
        String file = firstChild(disk, "source")
                .map(s -> s.getAttribute("file"))
                .filter(f -> !f.isEmpty())
                .orElseThrow(() -> invalid("disk " + target + " has no <source file='...'/>"));
        Path source = Path.of(file);
        if (!source.isAbsolute()) {
            throw invalid("disk " + target + ": <source file='" + file + "'/> must be an absolute path");
        }
        Optional<Element> driver = firstChild(disk, "driver");
        Optional<String> format = driver.map(d -> d.getAttribute("type")).filter(t -> !t.isEmpty());
        if (format.isPresent() && !FORMATS.contains(format.get())) {
            throw invalid("disk " + target + ": <driver type='" + format.get() + "'/> is not one of qcow2, qed, raw");
        }
        String copyOnRead = driver.map(d -> d.getAttribute("copy_on_read")).orElse("");
        if (!copyOnRead.isEmpty() && !copyOnRead.equals("on") && !copyOnRead.equals("off")) {
            throw invalid("disk " + target + ": copy_on_read='" + copyOnRead + "' must be on or off");
        }
        boolean readOnly = firstChild(disk, "readonly").isPresent();
        String bus = firstChild(disk, "target")
                .map(t -> t.getAttribute("bus"))
                .filter(b -> !b.isEmpty())
                .orElse(DiskDefinition.defaultBus(target));
        return new DiskDefinition(target, source, format, copyOnRead.equals("on"), readOnly, bus);
    }

    /**
     * {@code xml} with {@code <uuid>} inserted after the domain's {@code <name>}, on a line of its own
     * indented as the name's, and every other byte as the user wrote it (quotes, attribute order,
     * comments); empty when the name is not written plainly (an entity, CDATA) or the first text
     * that looks like it is not the domain's own (a nested {@code <name>}, a comment), where the
     * caller writes the document again instead. The text is kept only if it reads back as the same
     * domain name with that uuid as the domain's own child.
     */
    private static Optional<String> withUuid(String xml, String name, UUID uuid) {
        Matcher named = Pattern.compile("([ \\t]*)<name>\\s*" + Pattern.quote(name) + "\\s*</name>")
                .matcher(xml);
        if (!named.find()) {
            return Optional.empty();
        }
        boolean ownLine = named.start() == 0 || xml.charAt(named.start() - 1) == '\n';
        String separator = ownLine ? "\n" + named.group(1) : "";
        String candidate =
                xml.substring(0, named.end()) + separator + "<uuid>" + uuid + "</uuid>" + xml.substring(named.end());
        Element root = read(candidate).getDocumentElement();
        boolean same = childText(root, "name").equals(Optional.of(name))
                && childText(root, "uuid").equals(Optional.of(uuid.toString()));
        return same ? Optional.of(candidate) : Optional.empty();
    }

    private static Document read(String xml) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            factory.setNamespaceAware(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXParseException e) {
            String what = e.getMessage() != null && e.getMessage().contains("DOCTYPE")
                    ? "DTDs and entities are refused"
                    : e.getMessage();
            throw invalid("malformed at line " + e.getLineNumber() + ", column " + e.getColumnNumber() + ": " + what);
        } catch (SAXException | IOException e) {
            throw invalid("malformed: " + e.getMessage());
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a secure configuration", e);
        }
    }

    private static String write(Document document) {
        try {
            TransformerFactory factory = TransformerFactory.newInstance();
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_STYLESHEET, "");
            Transformer transformer = factory.newTransformer();
            // XML 1.1 allows character references (&#1;) that 1.0 refuses: keep its declaration, or
            // the stored definition would not parse again
            boolean xml10 =
                    document.getXmlVersion() == null || document.getXmlVersion().equals("1.0");
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, xml10 ? "yes" : "no");
            if (!xml10) {
                transformer.setOutputProperty(OutputKeys.VERSION, document.getXmlVersion());
            }
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(document), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot write domain XML: " + e.getMessage(), e);
        }
    }

    static Optional<String> childText(Element parent, String tag) {
        return firstChild(parent, tag).map(e -> e.getTextContent().strip());
    }

    static Optional<Element> firstChild(Element parent, String tag) {
        List<Element> all = children(parent, tag);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getFirst());
    }

    static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            if (node instanceof Element element && element.getTagName().equals(tag)) {
                out.add(element);
            }
        }
        return out;
    }

    static SiphonException invalid(String what) {
        return new SiphonException(ErrorCode.INVALID_ARG, "domain XML: " + what);
    }
}
