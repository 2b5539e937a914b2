package io.siphon.format;

import io.siphon.util.FirstFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An image and its backing images, top first, opened together and closed together. The top is
 * opened as asked; every backing image read-only (locked against other writers, as QEMU does).
 */
public final class ImageChain implements AutoCloseable {
    /** Chains deeper than this are refused, as a guard against crafted or looping chains. */
    public static final int MAX_DEPTH = 64;

    private final List<Image> images;

    private ImageChain(List<Image> images) {
        this.images = new ArrayList<>(images);
    }

    /**
     * Opens {@code path} (in {@code format}, or probed when empty) and every backing image below it.
     * A missing backing file, a loop, a chain deeper than {@link #MAX_DEPTH} or a backing name that
     * {@code options.remote()} does not allow is an {@link ImageFormatException} naming the image that
     * references it.
     */
    public static ImageChain open(Path path, Optional<String> format, OpenOptions options) throws IOException {
        Image top = openOne(path, format, options);
        return openBelow(top, false, identity(path), options);
    }

    /**
     * Opens the image {@code name} names, a path or (when {@link BackingNames#isRemote}) a remote
     * object, read-only, with its backing chain. A remote top needs a policy with an opener.
     */
    public static ImageChain open(String name, Optional<String> format, OpenOptions options) throws IOException {
        if (!BackingNames.isRemote(name)) {
            return open(Path.of(name), format, options);
        }
        return openBelow(openOne(name, format, options), true, remoteIdentity(name), options);
    }

    /** Opens one image, a path or a remote object, without its backing chain. */
    public static Image openOne(String name, Optional<String> format, OpenOptions options) throws IOException {
        if (!BackingNames.isRemote(name)) {
            return openOne(Path.of(name), format, options);
        }
        RemoteOpener opener = options.remote()
                .opener()
                .orElseThrow(() -> refused(Path.of(name), "remote images need remote access enabled"));
        return opener.open(new BackingReference(name, format), options);
    }

    private static ImageChain openBelow(Image top, boolean topRemote, Object topIdentity, OpenOptions options)
            throws IOException {
        List<Image> opened = new ArrayList<>();
        opened.add(top);
        Set<Object> seen = new HashSet<>();
        seen.add(topIdentity);
        try {
            Image current = top;
            boolean currentRemote = topRemote;
            while (current.backingReference().isPresent()) {
                BackingReference ref = current.backingReference().get();
                if (opened.size() >= MAX_DEPTH) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "chain is deeper than " + MAX_DEPTH + " images");
                }
                boolean remote = BackingNames.isRemote(ref.name());
                Object identity;
                String looped; // a local backing file is named by the path it resolves to
                if (remote) {
                    identity = remoteIdentity(ref.name());
                    looped = ref.name();
                } else {
                    Path backingPath = localBacking(current.path(), currentRemote, ref, options.remote());
                    identity = Files.exists(backingPath) ? identity(backingPath) : backingPath;
                    looped = backingPath.toString();
                }
                if (!seen.add(identity)) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "backing chain loops back to " + looped);
                }
                Image backing = openBacking(current.path(), currentRemote, ref, options.forBacking());
                opened.add(backing);
                current.attachBacking(Optional.of(backing));
                current = backing;
                currentRemote = remote;
            }
            return new ImageChain(opened);
        } catch (IOException | RuntimeException e) {
            try {
                closeAll(opened);
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    /**
     * Opens the backing image that {@code reference}, stored in the local image {@code image}, names:
     * a host file (relative names relative to the image's directory) or, when {@code options.remote()}
     * allows local images to name them, a remote object.
     */
    public static Image openBacking(Path image, BackingReference reference, OpenOptions options) throws IOException {
        return openBacking(image, false, reference, options);
    }

    private static Image openBacking(Path image, boolean imageRemote, BackingReference ref, OpenOptions options)
            throws IOException {
        if (BackingNames.isRemote(ref.name())) {
            return remoteOpener(image, imageRemote, ref, options.remote()).open(ref, options);
        }
        Path backingPath = localBacking(image, imageRemote, ref, options.remote());
        if (!Files.exists(backingPath)) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.BAD_CHAIN,
                    image,
                    "backing file",
                    "backing file '" + ref.name() + "' (" + backingPath + ") does not exist");
        }
        try {
            return openOne(backingPath, ref.format(), options);
        } catch (NoSuchFileException e) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.BAD_CHAIN,
                    image,
                    "backing file",
                    "backing file '" + ref.name() + "' does not exist",
                    e);
        }
    }

    /** A remote image may name another remote one; a local image only when the policy allows it. */
    private static RemoteOpener remoteOpener(
            Path image, boolean imageRemote, BackingReference ref, RemoteBackingPolicy policy)
            throws ImageFormatException {
        if (!(imageRemote || policy.localMayNameRemote()) || policy.opener().isEmpty()) {
            throw refused(
                    image,
                    "backing file '" + ref.name() + "' is remote; a local image may name a remote backing only"
                            + " when remote backings are allowed (--allow-remote-backing)");
        }
        return policy.opener().get();
    }

    /** The host file a backing name stands for; a remote image may name one only if allowed, by absolute path. */
    private static Path localBacking(Path image, boolean imageRemote, BackingReference ref, RemoteBackingPolicy policy)
            throws ImageFormatException {
        if (!imageRemote) {
            return BackingNames.resolve(image, ref.name());
        }
        if (!policy.remoteMayNameLocal()) {
            throw refused(
                    image,
                    "remote image names the local file '" + ref.name() + "' as its backing; refused unless"
                            + " remote images may name local files");
        }
        Path named = Path.of(ref.name());
        if (!named.isAbsolute()) {
            throw refused(image, "remote image names the relative file '" + ref.name() + "'; only absolute paths");
        }
        return named;
    }

    private static ImageFormatException refused(Path image, String detail) {
        return new ImageFormatException(ImageFormatException.Reason.REFUSED, image, "backing file", detail);
    }

    private static Object remoteIdentity(String name) {
        return "remote:" + name;
    }

    /** Opens one image without its backing chain. */
    public static Image openOne(Path path, Optional<String> format, OpenOptions options) throws IOException {
        return openOne(path, format, options, ImageFormat::open);
    }

    /** Opens one image, without its backing chain, for a check ({@link ImageFormat#openForCheck}). */
    public static Image openForCheck(Path path, Optional<String> format, OpenOptions options) throws IOException {
        return openOne(path, format, options, ImageFormat::openForCheck);
    }

    private interface Opener {
        Image open(ImageFormat format, ImageFile file, OpenOptions options) throws IOException;
    }

    private static Image openOne(Path path, Optional<String> format, OpenOptions options, Opener opener)
            throws IOException {
        ImageFormat imageFormat = format.isPresent() ? Formats.byName(format.get()) : Formats.probe(path);
        ImageFile file = ImageFile.open(path, options);
        try {
            return opener.open(imageFormat, file, options);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Object identity(Path path) throws IOException {
        Object key = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();
        return key != null ? key : path.toRealPath();
    }

    /** The top image. */
    public Image top() {
        return images.getFirst();
    }

    /** All images, top first. */
    public List<Image> images() {
        return List.copyOf(images);
    }

    /**
     * Removes images {@code [fromIndex, toIndex)} from the chain after a pull or rebase made them
     * unnecessary: the image above them reads from the image below them (or from nothing), and they
     * are closed, so that no file descriptor or lock on them remains.
     */
    public void remove(int fromIndex, int toIndex) throws IOException {
        if (fromIndex < 1 || fromIndex > toIndex || toIndex > images.size()) {
            throw new IllegalArgumentException(
                    "cannot remove images [" + fromIndex + ", " + toIndex + ") of a chain of " + images.size());
        }
        List<Image> removed = new ArrayList<>(images.subList(fromIndex, toIndex));
        images.subList(fromIndex, toIndex).clear();
        Optional<Image> below = fromIndex < images.size() ? Optional.of(images.get(fromIndex)) : Optional.empty();
        images.get(fromIndex - 1).attachBacking(below);
        closeAll(removed);
    }

    @Override
    public void close() throws IOException {
        closeAll(images);
    }

    private static void closeAll(List<Image> toClose) throws IOException {
        FirstFailure failures = new FirstFailure();
        for (Image image : toClose) {
            failures.run(image::close);
        }
        failures.throwIfAny();
    }
}
