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
     * A missing backing file, a loop or a chain deeper than {@link #MAX_DEPTH} is an {@link
     * ImageFormatException} naming the image that references it.
     */
    public static ImageChain open(Path path, Optional<String> format, OpenOptions options) throws IOException {
        List<Image> opened = new ArrayList<>();
        Set<Object> seen = new HashSet<>();
        try {
            Image top = openOne(path, format, options);
            opened.add(top);
            seen.add(identity(path));
            Image current = top;
            while (current.backingReference().isPresent()) {
                BackingReference ref = current.backingReference().get();
                Path backingPath = BackingNames.resolve(current.path(), ref.name());
                if (opened.size() >= MAX_DEPTH) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "chain is deeper than " + MAX_DEPTH + " images");
                }
                if (!Files.exists(backingPath)) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "backing file '" + ref.name() + "' (" + backingPath + ") does not exist");
                }
                if (!seen.add(identity(backingPath))) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "backing chain loops back to " + backingPath);
                }
                Image backing;
                try {
                    backing = openOne(backingPath, ref.format(), options.forBacking());
                } catch (NoSuchFileException e) {
                    throw new ImageFormatException(
                            ImageFormatException.Reason.BAD_CHAIN,
                            current.path(),
                            "backing file",
                            "backing file '" + ref.name() + "' does not exist",
                            e);
                }
                opened.add(backing);
                current.attachBacking(Optional.of(backing));
                current = backing;
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
