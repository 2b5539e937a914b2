package io.siphon.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.block.Allocation;
import io.siphon.blockjob.Disk;
import io.siphon.blockjob.StreamJob;
import io.siphon.blockjob.StreamOptions;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.job.Job;
import io.siphon.testing.QemuTools;
import io.siphon.testing.RemoteClones;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.junit.S3ProxyJunitCore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** Clones of templates in s3proxy (a real S3 server, in memory), read through the SDK and the chunk cache. */
class S3BackingTest {
    private static final int SIZE = 6 << 20;
    private static final String ACCESS = "siphon-access";
    private static final String SECRET = "siphon-secret";

    @TempDir
    Path dir;

    private S3ProxyJunitCore proxy;
    private byte[] template;
    private RemoteBackingPolicy policy;

    @BeforeEach
    void start() throws Exception {
        proxy = new S3ProxyJunitCore.Builder()
                .withCredentials(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
                .withBlobStoreProvider("transient")
                .build();
        proxy.beforeEach();
        System.setProperty(S3Clients.ENDPOINT_PROPERTY, proxy.getUri().toString());
        System.setProperty("aws.accessKeyId", ACCESS);
        System.setProperty("aws.secretAccessKey", SECRET);
        System.setProperty("aws.region", "us-east-1");
        template = RemoteClones.randomTemplate("S3BackingTest", SIZE);
        try (S3Client client = S3Clients.fromEnvironment()) {
            client.createBucket(b -> b.bucket("templates"));
            client.putObject(b -> b.bucket("templates").key("t.raw"), RequestBody.fromBytes(template));
        }
        policy = RemoteClones.policy(dir.resolve("cache"), 4, Duration.ofMillis(500));
    }

    @AfterEach
    void stop() {
        proxy.afterEach();
        System.clearProperty(S3Clients.ENDPOINT_PROPERTY);
        System.clearProperty("aws.secretAccessKey");
    }

    private Path clone(String name, String backing, String format) throws IOException {
        return RemoteClones.create(dir.resolve(name), backing, Optional.of(format), policy);
    }

    private byte[] readAll(Path clone) throws IOException {
        return RemoteClones.readAll(clone, policy);
    }

    @Test
    void aCloneOfARawTemplateInS3() throws IOException {
        assertArrayEquals(template, readAll(clone("c.qcow2", "s3://templates/t.raw", "raw")));
    }

    @Test
    void aCloneOfAQcow2TemplateInS3IsProbed() throws Exception {
        Path raw = Files.write(dir.resolve("t.raw"), template);
        Path qcow2 = dir.resolve("t.qcow2");
        QemuTools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString());
        try (S3Client client = S3Clients.fromEnvironment()) {
            client.putObject(b -> b.bucket("templates").key("t.qcow2"), RequestBody.fromFile(qcow2));
        }
        Path clone = RemoteClones.create(dir.resolve("q.qcow2"), "s3://templates/t.qcow2", Optional.empty(), policy);
        assertArrayEquals(template, readAll(clone));
    }

    /**
     * A guest's read of a clone of an S3 template is copied into the clone (copy-on-read), and a
     * pull makes the clone standalone: no backing link, clean for qemu-img, the template's bytes.
     */
    @Test
    void aCloneOfAnS3TemplateIsCopiedOnReadAndPulledStandalone() throws Exception {
        Path clone = clone("p.qcow2", "s3://templates/t.raw", "raw");
        try (Disk disk = Disk.open("vda", clone, Optional.of("qcow2"), true, policy)) {
            ByteBuffer read = ByteBuffer.allocate(64 << 10);
            disk.device().read(1 << 20, read, Set.of());
            assertArrayEquals(java.util.Arrays.copyOfRange(template, 1 << 20, (1 << 20) + (64 << 10)), read.array());
            assertEquals(
                    Allocation.DATA,
                    disk.top().blockStatus(1 << 20, 64 << 10).getFirst().allocation(),
                    "the guest's read was copied into the clone");
            Job job = StreamJob.create(disk, StreamOptions.defaults());
            job.start();
            assertTrue(job.awaitEnd(Duration.ofSeconds(60)), "the pull ends");
            assertEquals(Optional.empty(), job.info().error(), "the pull ends without an error");
        }
        assertFalse(QemuTools.infoJson(clone).contains("backing-filename"), "the link to the template is gone");
        QemuTools.assertCheckClean(clone);
        QemuTools.assertSameContent(clone, Files.write(dir.resolve("expected.raw"), template));
    }

    @Test
    void missingObjectsAndWrongCredentialsAreNamedErrors() {
        RemoteObjectException missing =
                assertThrows(RemoteObjectException.class, () -> clone("m.qcow2", "s3://templates/nope.raw", "raw"));
        assertEquals(RemoteObjectException.Reason.NOT_FOUND, missing.reason());
        assertTrue(missing.getMessage().startsWith("s3://templates/nope.raw: no such object"), missing.getMessage());
        assertFalse(Files.exists(dir.resolve("m.qcow2")));

        System.setProperty("aws.secretAccessKey", "wrong");
        RemoteObjectException denied =
                assertThrows(RemoteObjectException.class, () -> clone("d.qcow2", "s3://templates/t.raw", "raw"));
        assertEquals(RemoteObjectException.Reason.ACCESS_DENIED, denied.reason());
        assertTrue(denied.getMessage().contains("check the credentials"), denied.getMessage());
    }

    @Test
    void anObjectReplacedUnderAReaderIsAnError() throws IOException {
        Path clone = clone("c.qcow2", "s3://templates/t.raw", "raw");
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            chain.top().read(0, ByteBuffer.allocate(4096));
            try (S3Client client = S3Clients.fromEnvironment()) {
                client.putObject(b -> b.bucket("templates").key("t.raw"), RequestBody.fromBytes(new byte[SIZE]));
            }
            RemoteObjectException changed = assertThrows(
                    RemoteObjectException.class, () -> chain.top().read(5 << 20, ByteBuffer.allocate(4096)));
            assertEquals(RemoteObjectException.Reason.CHANGED, changed.reason());
        }
    }
}
