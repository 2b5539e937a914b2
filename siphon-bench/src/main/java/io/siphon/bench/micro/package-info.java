/**
 * JMH micro-benchmarks of the paths every request or copied chunk takes: the rate limiter, the
 * range locks, a qcow2 image's cluster lookup, and the NBD request header codec. Run them with
 * {@code siphon-bench/scripts/micro.sh}.
 */
package io.siphon.bench.micro;
