package io.siphon.s3;

import io.siphon.format.remote.RemoteLocation;
import io.siphon.format.remote.RemoteObject;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.format.remote.RemoteObjectException.Reason;
import io.siphon.format.remote.ResponseBodies;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * One S3 object. Opening reads its size and ETag (HeadObject); each read is one ranged GetObject
 * conditioned on that ETag ({@code If-Match}), so a replaced object is an error, not a mix. Owns its
 * client. Thread-safe (the SDK client is).
 */
final class S3RemoteObject implements RemoteObject {
    private final RemoteLocation location;
    private final S3Client client;
    private final String bucket;
    private final String key;
    private final long sizeBytes;
    private final String etag;

    private S3RemoteObject(
            RemoteLocation location, S3Client client, String bucket, String key, long sizeBytes, String etag) {
        this.location = location;
        this.client = client;
        this.bucket = bucket;
        this.key = key;
        this.sizeBytes = sizeBytes;
        this.etag = etag;
    }

    static S3RemoteObject open(RemoteLocation location, S3Client client) throws IOException {
        String bucket = location.uri().getRawAuthority();
        String rawPath = location.uri().getRawPath();
        if (bucket == null || bucket.isEmpty() || rawPath == null || rawPath.length() <= 1) {
            client.close();
            throw new RemoteObjectException(Reason.BAD_NAME, location.name(), "an S3 name is s3://BUCKET/KEY");
        }
        String key = URLDecoder.decode(rawPath.substring(1), StandardCharsets.UTF_8);
        try {
            HeadObjectResponse head = client.headObject(
                    HeadObjectRequest.builder().bucket(bucket).key(key).build());
            return new S3RemoteObject(location, client, bucket, key, head.contentLength(), head.eTag());
        } catch (SdkException e) {
            client.close();
            throw translate(location, "HeadObject", e);
        }
    }

    @Override
    public RemoteLocation location() {
        return location;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public String version() {
        return "etag=" + etag;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (length == 0) {
            return;
        }
        GetObjectRequest request = GetObjectRequest.builder()
                .bucket(bucket)
                .key(key)
                .range("bytes=" + offsetBytes + "-" + (offsetBytes + length - 1))
                .ifMatch(etag)
                .build();
        try (ResponseInputStream<GetObjectResponse> body = client.getObject(request)) {
            if (body.response().eTag() != null && !body.response().eTag().equals(etag)) {
                throw new RemoteObjectException(
                        Reason.CHANGED,
                        location.name(),
                        "its ETag is now " + body.response().eTag() + ", was " + etag);
            }
            ResponseBodies.readFully(body, dst, location.name(), offsetBytes);
        } catch (SdkException e) {
            throw translate(location, "GetObject at offset " + offsetBytes, e);
        }
    }

    private static RemoteObjectException translate(RemoteLocation location, String operation, SdkException e) {
        if (e instanceof S3Exception s3) {
            int status = s3.statusCode();
            String code = s3.awsErrorDetails() == null
                    ? ""
                    : " " + s3.awsErrorDetails().errorCode();
            String detail = operation + " answered HTTP " + status + code;
            Reason reason = switch (status) {
                case 404 -> Reason.NOT_FOUND;
                case 401, 403 -> Reason.ACCESS_DENIED;
                case 412 -> Reason.CHANGED;
                case 408, 429, 500, 502, 503, 504 -> Reason.UNAVAILABLE;
                default -> Reason.PROTOCOL;
            };
            return new RemoteObjectException(
                    reason,
                    location.name(),
                    switch (reason) {
                        case NOT_FOUND -> "no such object (" + detail + ")";
                        case ACCESS_DENIED -> "access denied; check the credentials (" + detail + ")";
                        case CHANGED -> "the object changed since it was opened (" + detail + ")";
                        default -> detail;
                    },
                    e);
        }
        if (e instanceof SdkClientException) {
            return new RemoteObjectException(
                    Reason.UNAVAILABLE, location.name(), "cannot reach S3: " + e.getMessage(), e);
        }
        return new RemoteObjectException(Reason.PROTOCOL, location.name(), operation + " failed: " + e.getMessage(), e);
    }

    @Override
    public void close() {
        client.close();
    }
}
