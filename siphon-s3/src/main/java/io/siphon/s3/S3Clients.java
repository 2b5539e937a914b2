package io.siphon.s3;

import java.net.URI;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * How S3 clients are built: the SDK's standard credential chain (environment, system properties,
 * profile, container and instance roles) and region chain (us-east-1 when none is set), and an
 * endpoint override for S3-compatible stores (Ceph RGW, MinIO, s3proxy) from the system property
 * {@code siphon.s3.endpoint} or the environment variable {@code SIPHON_S3_ENDPOINT}, with path-style
 * addressing and checksums only where S3 requires them.
 */
final class S3Clients {
    static final String ENDPOINT_PROPERTY = "siphon.s3.endpoint";
    static final String ENDPOINT_VARIABLE = "SIPHON_S3_ENDPOINT";

    private S3Clients() {}

    static S3Client fromEnvironment() {
        S3ClientBuilder builder = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .region(region());
        // S3-compatible stores do not all take the SDK's default trailing checksums (s3proxy 2.6 refuses them)
        endpoint()
                .ifPresent(uri -> builder.endpointOverride(uri)
                        .forcePathStyle(true)
                        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED));
        return builder.build();
    }

    private static Region region() {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            return Region.US_EAST_1;
        }
    }

    static Optional<URI> endpoint() {
        String value = System.getProperty(ENDPOINT_PROPERTY, System.getenv(ENDPOINT_VARIABLE));
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(URI.create(value.trim()));
    }
}
