package io.siphon.domain;

import java.io.EOFException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * What went wrong in an I/O failure, in words for a user: the file and the reason, never a Java
 * class name ({@code FileSystemException}), which {@link Throwable#toString} would show.
 */
public final class IoMessages {
    private IoMessages() {}

    /** {@code failure} described as "FILE: what happened" where it names a file, else what happened. */
    public static String describe(Throwable failure) {
        if (failure instanceof FileSystemException fs) {
            String file = fs.getOtherFile() == null ? fs.getFile() : fs.getFile() + " -> " + fs.getOtherFile();
            String reason = fs.getReason() != null ? fs.getReason() : reasonOf(fs);
            return file == null ? reason : file + ": " + reason;
        }
        if (failure instanceof CharacterCodingException) {
            return "not valid UTF-8 text";
        }
        if (failure instanceof EOFException && failure.getMessage() == null) {
            return "unexpected end of file";
        }
        return failure.getMessage() != null ? failure.getMessage() : "unexpected failure (" + failure + ")";
    }

    private static String reasonOf(FileSystemException failure) {
        return switch (failure) {
            case NoSuchFileException e -> "no such file or directory";
            case FileAlreadyExistsException e -> "already exists";
            case AccessDeniedException e -> "permission denied";
            case DirectoryNotEmptyException e -> "directory not empty";
            case NotDirectoryException e -> "not a directory";
            default -> "file system error";
        };
    }
}
