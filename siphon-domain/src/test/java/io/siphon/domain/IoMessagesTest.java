package io.siphon.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class IoMessagesTest {
    @Test
    void fileSystemFailuresNameTheFileAndTheReasonWithoutAClassName() {
        assertEquals("/s/a.xml: no such file or directory", IoMessages.describe(new NoSuchFileException("/s/a.xml")));
        assertEquals("/s/a.xml: permission denied", IoMessages.describe(new AccessDeniedException("/s/a.xml")));
        assertEquals(
                "/s/a.tmp -> /s/a.xml: No space left on device",
                IoMessages.describe(new FileSystemException("/s/a.tmp", "/s/a.xml", "No space left on device")));
        assertEquals("not valid UTF-8 text", IoMessages.describe(new MalformedInputException(1)));
        assertEquals("unexpected end of file", IoMessages.describe(new EOFException()));
        assertEquals("Broken pipe", IoMessages.describe(new IOException("Broken pipe")));
    }
}
